package connect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"tend/inventory"
	"tend/runner/connect/sshconfig"
	"tend/runner/transport"
)

// DefaultMaxConnecting is how many SSH handshakes run at once by default:
// enough to hide network latency, few enough that a 500-host run does not
// starve its own handshakes of CPU (each costs ~0.1 s of CPU on the two
// ends; 200 at once on 2 cores made healthy hosts time out).
const DefaultMaxConnecting = 32

// SSHOptions are the SSH settings given on the command line; a host's
// inventory variables (ansible_user, ansible_port, ...) win over them.
type SSHOptions struct {
	// User is the default remote user (-u); default root.
	User string
	// PrivateKey is the default identity file (--private-key).
	PrivateKey string
	// KnownHosts is the known_hosts file (default ~/.ssh/known_hosts).
	KnownHosts string
	// AcceptNewHostKeys appends unknown host keys instead of refusing them.
	AcceptNewHostKeys bool
	// Timeout bounds the TCP dial and the SSH handshake (zero: ssh_config
	// ConnectTimeout, else 10s).
	Timeout time.Duration
	// SSHConfig is the OpenSSH client config file (--ssh-config / -F): ""
	// reads ~/.ssh/config then /etc/ssh/ssh_config, "none" reads nothing.
	// Inventory variables and the options above win over it.
	SSHConfig string
	// MaxConnecting bounds the connections being set up at once (TCP dial,
	// SSH handshake, and the jump hosts on the way), whatever the engine's
	// forks (default DefaultMaxConnecting): hundreds at once only queue for
	// CPU until their deadlines fire and healthy hosts are reported
	// unreachable. The handshake deadline starts when a slot is free.
	MaxConnecting int
	// Warn receives non-fatal connection warnings (malformed known_hosts
	// lines, ignored ssh_config options), each message once. Nil drops them.
	Warn func(string)
}

// SSH is the connector for hosts reached over SSH. It holds what one run
// shares: the parsed ssh_config, the jump host connections used by every
// target behind them, and the slots that bound handshakes in flight.
type SSH struct {
	o      SSHOptions
	cfg    *sshconfig.Config
	jumps  jumpPool
	dials  chan struct{} // a slot per connection being set up (MaxConnecting)
	warned sync.Map      // messages already given to o.Warn
}

// NewSSH reads ssh_config (SSHOptions.SSHConfig) once for the run. Its
// errors are bad input: they name the file and line.
func NewSSH(o SSHOptions) (*SSH, error) {
	if o.MaxConnecting <= 0 {
		o.MaxConnecting = DefaultMaxConnecting
	}
	s := &SSH{o: o, dials: make(chan struct{}, o.MaxConnecting)}
	cfg, err := sshconfig.Load(o.SSHConfig, s.warnOnce)
	if err != nil {
		return nil, err
	}
	s.cfg = cfg
	return s, nil
}

// Connect dials h over SSH, through its jump hosts if it has any, once a

func (s *SSH) Connect(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
	select {
	case s.dials <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.dials }()
	c, err := s.dial(ctx, h)
	if retryable(err) && ctx.Err() == nil {
		// The host accepted the connection, then its sshd went silent or
		// dropped it before the key exchange was done: alive but loaded
		// (MaxStartups, a slow or failed fork). One more try, still within
		// this slot, before the host is called unreachable; a refused or
		// unanswered connection, a refused key or failed authentication
		// is not retried.
		c, err = s.dial(ctx, h)
		var u *transport.UnreachableError
		if retryable(err) && errors.As(err, &u) {
			err = &transport.UnreachableError{Host: u.Host, Err: fmt.Errorf("%w (tried twice)", u.Err)}
		}
	}
	return c, err
}

// retryable says whether a failed connect is worth one more try: the host
// accepted TCP, then stalled or dropped the handshake early.
func retryable(err error) bool {
	return errors.Is(err, transport.ErrHandshakeTimeout) || errors.Is(err, transport.ErrHandshakeDropped)
}

// Close ends the jump host connections; the engine calls it after the
// targets' connections, which run through them, are closed.
func (s *SSH) Close() error {
	s.jumps.closeAll()
	return nil
}

func (s *SSH) warnOnce(msg string) {
	if _, dup := s.warned.LoadOrStore(msg, true); !dup && s.o.Warn != nil {
		s.o.Warn(msg)
	}
}

// dial connects to h over SSH, through its jump hosts if it has any.
func (s *SSH) dial(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
	cfg, jump, err := s.target(h)
	if err != nil {
		return nil, err
	}
	if jump != "" {
		j, err := s.jumpChain(ctx, jump, 0)
		if err != nil {
			return nil, err
		}
		cfg.Dial = j.DialContext
	}
	c, err := transport.DialSSH(ctx, cfg)
	if errors.Is(err, transport.ErrNoKey) {
		return nil, fmt.Errorf("connect: host %s: %w; %s", h.Name, err, targetKeyHint)
	}
	return c, err
}

// targetKeyHint and hopKeyHint say how a user gives a key to a target and
// to a jump host (the command line and inventory apply to targets only).
const (
	targetKeyHint = "give one with --private-key, ansible_ssh_private_key_file or IdentityFile in ssh_config, or load one into a running ssh-agent (ssh-add)"
	hopKeyHint    = "give the jump host one with IdentityFile in its ssh_config Host block, or load one into a running ssh-agent (ssh-add)"
)

// defaultIdentities lists the usual ~/.ssh/id_* files that exist, as
// OpenSSH would try them when no identity is configured.
func defaultIdentities() []string {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		p := filepath.Join(home, ".ssh", n)
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func expandHome(p string) string {
	if len(p) > 1 && p[:2] == "~/" {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	return p
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
