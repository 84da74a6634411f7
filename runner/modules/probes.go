package modules

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"sync"
)

// tend's own probes and the socket counts.
//
// A probe of a port (service's wait_port, wait_for started/stopped) opens a
// real connection to it from the host, and closes it. A client that closes
// first sends FIN, and the server's socket stays in CLOSE_WAIT until the
// server closes it: ~50 ms on a real ActiveMQ, forever on a listener that
// never closes (the very fault the MQ runbook counts). A count taken after
// a probe would then lie by one.
//
// Why count them out, rather than make the probe leave nothing: a client
// leaves no server-side socket only by resetting (RST) the connection,
// through SO_LINGER 0 or by closing with unread data. The probe is bash's
// /dev/tcp on the remote host, which cannot set SO_LINGER; perl or python
// could, but are not on every host; `ss -K` needs root and a kernel built
// with INET_DIAG_DESTROY; and unread data exists only when the server sends
// something (a greeting), never for a silent listener. Counting out is
// exact instead, with the tools every host has: the probe reports its own
// local address and port (its socket's inode looked up with ss, or in
// /proc/net/tcp), and a server socket whose peer is that address and port
// is the probe's connection and no other, since a TCP 4-tuple names one
// connection at a time. tcp_states (and wait_for drained) skip those
// sockets and say how many they skipped. The record lives in the run, per
// host (the runner puts a ProbeLedger in each host's context), so a later
// run of tend counts a probe's socket a never-closing server still holds:
// by then it is that server's leak like any other.

// ProbeLedger records the client ends of the connections tend's probes
// opened on one host, by the server port they reached.
type ProbeLedger struct {
	mu    sync.Mutex
	conns map[uint16]map[netip.AddrPort]bool
}

// NewProbeLedger returns an empty ledger for one host.
func NewProbeLedger() *ProbeLedger {
	return &ProbeLedger{conns: map[uint16]map[netip.AddrPort]bool{}}
}

type probeLedgerKey struct{}

// WithProbeLedger returns ctx carrying l: the probes run under it are
// recorded there, and the socket counts run under it leave them out.
func WithProbeLedger(ctx context.Context, l *ProbeLedger) context.Context {
	return context.WithValue(ctx, probeLedgerKey{}, l)
}

// probeLedgerFrom returns ctx's ledger, or nil (nothing recorded, nothing
// left out).
func probeLedgerFrom(ctx context.Context) *ProbeLedger {
	l, _ := ctx.Value(probeLedgerKey{}).(*ProbeLedger)
	return l
}

// maxProbesPerPort bounds the ledger: a wait for a port to close that
// probes for hours records one connection per probe.
const maxProbesPerPort = 4096

// add records the client end of a probe connection to serverPort.
func (l *ProbeLedger) add(serverPort int, client netip.AddrPort) {
	if l == nil || !client.IsValid() || serverPort < 1 || serverPort > 65535 {
		return
	}
	client = netip.AddrPortFrom(client.Addr().Unmap(), client.Port())
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.conns[uint16(serverPort)]
	if m == nil {
		m = map[netip.AddrPort]bool{}
		l.conns[uint16(serverPort)] = m
	}
	if len(m) < maxProbesPerPort {
		m[client] = true
	}
}

// own returns a test for the sockets of serverPort whose peer is one of the
// recorded probe clients (nil when none is recorded).
func (l *ProbeLedger) own(serverPort int) func(tcpSocket) bool {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.conns[uint16(serverPort)]
	if len(m) == 0 {
		return nil
	}
	set := make(map[netip.AddrPort]bool, len(m))
	for k := range m {
		set[k] = true
	}
	return func(s tcpSocket) bool {
		if int(s.Local.Port()) != serverPort || s.State == tcpListen {
			return false
		}
		return set[netip.AddrPortFrom(s.Remote.Addr().Unmap(), s.Remote.Port())]
	}
}

// recordProbes adds the probe clients named in a probe's output ("probe_ss=
// 127.0.0.1:40312" from ss, "probe_proc=0100007F:9D78" from /proc/net/tcp)
// to ctx's ledger.
func recordProbes(ctx context.Context, port int, out string) {
	l := probeLedgerFrom(ctx)
	if l == nil {
		return
	}
	for _, f := range strings.Fields(out) {
		var a netip.AddrPort
		var err error
		if v, ok := strings.CutPrefix(f, "probe_ss="); ok {
			a, err = parseSSAddr(v)
		} else if v, ok := strings.CutPrefix(f, "probe_proc="); ok {
			a, err = parseProcAddr(v)
		} else {
			continue
		}
		if err == nil && a.Addr().IsValid() {
			l.add(port, a)
		}
	}
}

// plural is "1 socket", "2 sockets".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
