package connect

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"tend/runner/connect/sshconfig"
	"tend/runner/transport"
)

// maxJumpDepth bounds a jump host's own ProxyJump recursion (a loop in
// ssh_config would otherwise never end).
const maxJumpDepth = 8

// jumpPool holds the jump host connections of a run: every target behind
// the same bastion (same user, address, keys and path) shares one
// connection to it, dialed once; a failure is remembered for the run, so a
// dead bastion is not hammered by each of its targets.
type jumpPool struct {
	mu      sync.Mutex
	entries map[string]*jumpEntry
	order   []*jumpEntry // creation order: closed in reverse
}

type jumpEntry struct {
	ready chan struct{} // closed once j or err is set
	j     *transport.Jump
	err   error
}

// get returns the pooled jump for key, dialing it with dial on first use.
func (p *jumpPool) get(ctx context.Context, key string, dial func() (*transport.Jump, error)) (*transport.Jump, error) {
	p.mu.Lock()
	if p.entries == nil {
		p.entries = map[string]*jumpEntry{}
	}
	e, ok := p.entries[key]
	if !ok {
		e = &jumpEntry{ready: make(chan struct{})}
		p.entries[key] = e
		p.order = append(p.order, e)
	}
	p.mu.Unlock()
	if !ok {
		e.j, e.err = dial()
		close(e.ready)
	}
	select {
	case <-e.ready:
		return e.j, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// closeAll closes every jump connection, the last dialed first, so the
// inner hops of a chain go before the hops they run through.
func (p *jumpPool) closeAll() {
	p.mu.Lock()
	order := p.order
	p.order, p.entries = nil, nil
	p.mu.Unlock()
	for i := len(order) - 1; i >= 0; i-- {
		e := order[i]
		<-e.ready
		if e.j != nil {
			_ = e.j.Close()
		}
	}
}

// jumpChain connects (or reuses the connections) along a ProxyJump list
// and returns the last hop, through which the target is dialed. The first
// hop's own ssh_config ProxyJump applies; later hops are reached through
// the previous one, as OpenSSH does.
func (s *SSH) jumpChain(ctx context.Context, spec string, depth int) (*transport.Jump, error) {
	if depth > maxJumpDepth {
		return nil, fmt.Errorf("connect: ProxyJump %q: more than %d nested jump hosts (a loop in ssh_config?)", spec, maxJumpDepth)
	}
	hops, err := sshconfig.ParseJump(spec)
	if err != nil {
		return nil, err
	}
	var via *transport.Jump
	for i, hop := range hops {
		cfg, own, err := s.hop(hop)
		if err != nil {
			return nil, err
		}
		if i == 0 && own != "" {
			if via, err = s.jumpChain(ctx, own, depth+1); err != nil {
				return nil, err
			}
		}
		viaName := ""
		if via != nil {
			cfg.Dial = via.DialContext
			viaName = via.Host()
		}
		key := fmt.Sprintf("%s@%s:%d keys=%q known=%s via=%p", cfg.User, cfg.Host, cfg.Port, cfg.KeyFiles, cfg.KnownHostsFile, via)
		j, err := s.jumps.get(ctx, key, func() (*transport.Jump, error) {
			// The connection outlives the host that happened to dial it.
			return transport.DialJump(context.WithoutCancel(ctx), cfg)
		})
		if errors.Is(err, transport.ErrNoKey) {
			err = fmt.Errorf("%w; %s", err, hopKeyHint)
		}
		if err != nil {
			if viaName != "" {
				return nil, fmt.Errorf("connect: jump host %s (via %s): %w", hop, viaName, err)
			}
			return nil, fmt.Errorf("connect: jump host %s: %w", hop, err)
		}
		via = j
	}
	return via, nil
}
