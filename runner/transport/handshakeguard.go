package transport

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// handshakeGuard bounds an SSH handshake on a connection that has no
// deadline of its own. golang/go#51926: ClientConfig.Timeout covers only the
// TCP dial, so a server that accepts and then says nothing would hang
// ssh.NewClientConn forever; the guard ends such a handshake by moving the
// connection's deadline into the past.
//
// It cuts a handshake when the host has sent nothing for `silence` (its
// sshd stalls), when the handshake as a whole has taken `total` (it
// trickles), or when the context ends. A host that answers, however slowly
// (a loaded sshd re-executing itself for each connection, key exchange on a
// busy CPU), keeps its handshake alive, as ssh's ConnectTimeout bounds only
// the connect and the banner.
//
// It never arms a deadline that could fire once the handshake is over: a
// deadline set up front and cleared after NewClientConn returns can expire
// in between on a loaded controller, and then the read loop the handshake
// started dies and DialSSH hands back a connection whose first session
// fails ("open session: EOF"). With the guard, a cut either happened before
// finish (and the handshake is reported as timed out, whatever it returned)
// or never happens.
type handshakeGuard struct {
	nc       *progressConn
	silence  time.Duration
	total    time.Duration
	deadline time.Time // start + total
	timer    *time.Timer
	stopCtx  func() bool
	mu       sync.Mutex
	finished bool
	cut      error // why the handshake was cut: a *handshakeTimeout or the context's error
}

// handshakeTimeout is the guard's cause when time ran out; a net.Error
// that says Timeout, like a deadline's error.
type handshakeTimeout struct{ msg string }

func (e *handshakeTimeout) Error() string { return e.msg }
func (*handshakeTimeout) Timeout() bool   { return true }
func (*handshakeTimeout) Temporary() bool { return true }

// progressConn records when its last read returned data: the guard's
// measure of a host that is still answering.
type progressConn struct {
	net.Conn
	last atomic.Int64 // UnixNano of the last read that returned data
}

func (p *progressConn) Read(b []byte) (int, error) {
	n, err := p.Conn.Read(b)
	if n > 0 {
		p.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// guardHandshake wraps nc (the returned conn is the one to hand to
// ssh.NewClientConn) and starts guarding its handshake.
func guardHandshake(ctx context.Context, nc net.Conn, silence, total time.Duration) (*handshakeGuard, net.Conn) {
	now := time.Now()
	pc := &progressConn{Conn: nc}
	pc.last.Store(now.UnixNano())
	g := &handshakeGuard{nc: pc, silence: silence, total: total, deadline: now.Add(total)}
	g.mu.Lock() // the timer's first check waits for g.timer to be set
	g.timer = time.AfterFunc(min(silence, total), g.check)
	g.mu.Unlock()
	g.stopCtx = context.AfterFunc(ctx, func() { g.end(ctx.Err()) })
	return g, pc
}

// check runs when the host may have been silent for too long: it cuts the
// handshake, or looks again when the silence would next reach its limit.
func (g *handshakeGuard) check() {
	now := time.Now()
	quiet := now.Sub(time.Unix(0, g.nc.last.Load()))
	switch {
	case !now.Before(g.deadline):
		g.end(&handshakeTimeout{fmt.Sprintf("not finished after %s", g.total)})
	case quiet >= g.silence:
		g.end(&handshakeTimeout{fmt.Sprintf("nothing from the host for %s", g.silence)})
	default:
		g.mu.Lock()
		if !g.finished && g.cut == nil {
			g.timer.Reset(min(g.silence-quiet, g.deadline.Sub(now)))
		}
		g.mu.Unlock()
	}
}

// end cuts the handshake short unless it has finished.
func (g *handshakeGuard) end(why error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.finished || g.cut != nil {
		return
	}
	g.cut = why
	_ = g.nc.SetDeadline(time.Unix(1, 0))
}

// finish stops the guard and returns why it cut the handshake, or nil if it
// did not. After finish, the guard never touches the connection again.
func (g *handshakeGuard) finish() error {
	g.mu.Lock()
	g.finished = true
	cut := g.cut
	g.timer.Stop()
	g.mu.Unlock()
	g.stopCtx()
	return cut
}
