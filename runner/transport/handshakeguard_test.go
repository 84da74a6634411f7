package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// TestSSHHandshakeDeadlineNeverOutlivesTheHandshake: when the handshake's
// time runs out just as it returns (a loaded controller descheduled between
// the two), DialSSH reports a handshake timeout, which connect retries; it
// never returns a connection whose read loop the deadline already ended.
// (The 1,000-host apply of 2026-12-07 had 51 hosts "unreachable: open
// session: EOF / i/o timeout" right after connecting.)
func TestSSHHandshakeDeadlineNeverOutlivesTheHandshake(t *testing.T) {
	_, _, cfg := knownServer(t)
	cfg.HandshakeTimeout = time.Second
	afterHandshake = func() { time.Sleep(cfg.HandshakeTimeout + 300*time.Millisecond) }
	t.Cleanup(func() { afterHandshake = nil })
	c, err := DialSSH(context.Background(), cfg)
	if err == nil {
		_, rerr := c.Run(context.Background(), Command{Argv: []string{"true"}})
		c.Close()
		t.Fatalf("DialSSH returned a connection after its deadline passed; its first command: %v", rerr)
	}
	if !IsUnreachable(err) || !errors.Is(err, ErrHandshakeTimeout) {
		t.Fatalf("want an unreachable handshake timeout, got %v", err)
	}
}

// deadlineConn counts the deadlines set on it.
type deadlineConn struct {
	net.Conn
	set atomic.Int32
}

func (d *deadlineConn) SetDeadline(t time.Time) error { d.set.Add(1); return d.Conn.SetDeadline(t) }

// TestHandshakeGuard: the guard cuts a handshake whose host is silent for
// too long, one that outlives its total, or one whose context ends, and
// never touches the connection after finish.
func TestHandshakeGuard(t *testing.T) {
	for _, tc := range []struct {
		name           string
		silence, total time.Duration
		cancel         bool
		talk           time.Duration // the host sends a byte this often (0: never)
		wait           time.Duration // before finish
		want           error
		wantMsg        string
	}{
		{name: "finished in time", silence: time.Hour, total: time.Hour},
		{name: "silent", silence: 30 * time.Millisecond, total: time.Hour, wait: 150 * time.Millisecond,
			want: &handshakeTimeout{}, wantMsg: "nothing from the host for 30ms"},
		{name: "slow but answering", silence: 60 * time.Millisecond, total: time.Hour, talk: 10 * time.Millisecond, wait: 250 * time.Millisecond},
		{name: "trickling past its total", silence: 60 * time.Millisecond, total: 150 * time.Millisecond, talk: 10 * time.Millisecond,
			wait: 300 * time.Millisecond, want: &handshakeTimeout{}, wantMsg: "not finished after 150ms"},
		{name: "cancelled", silence: time.Hour, total: time.Hour, cancel: true, wait: 50 * time.Millisecond, want: context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer a.Close()
			defer b.Close()
			nc := &deadlineConn{Conn: a}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			g, gc := guardHandshake(ctx, nc, tc.silence, tc.total)
			go io.Copy(io.Discard, gc) // the handshake's reads
			stop := make(chan struct{})
			if tc.talk > 0 {
				go func() {
					tick := time.NewTicker(tc.talk)
					defer tick.Stop()
					for {
						select {
						case <-stop:
							return
						case <-tick.C:
							b.SetWriteDeadline(time.Now().Add(time.Second))
							b.Write([]byte{0})
						}
					}
				}()
			}
			if tc.cancel {
				cancel()
			}
			time.Sleep(tc.wait)
			got := g.finish()
			close(stop)
			var timeout *handshakeTimeout
			switch {
			case tc.want == nil && got != nil:
				t.Fatalf("finish = %v, want no cut", got)
			case errors.As(tc.want, &timeout) && (!errors.As(got, &timeout) || got.Error() != tc.wantMsg):
				t.Fatalf("finish = %v, want a timeout: %s", got, tc.wantMsg)
			case errors.Is(tc.want, context.Canceled) && !errors.Is(got, context.Canceled):
				t.Fatalf("finish = %v, want %v", got, tc.want)
			}
			before := nc.set.Load()
			if tc.want != nil && before != 1 {
				t.Errorf("cut set %d deadlines, want 1", before)
			}
			cancel()
			time.Sleep(2 * tc.silence % time.Second)
			if n := nc.set.Load(); n != before {
				t.Errorf("the guard set a deadline after finish (%d, was %d)", n, before)
			}
		})
	}
}

// TestSSHHandshakeSlowButAnswering: a host whose every answer takes a while
// (a loaded sshd) finishes a handshake that takes several times
// HandshakeTimeout in all, since it is never silent for that long. The
// handshake holds about ten server chunks: with each delayed a fifth of
// HandshakeTimeout it takes ~2 times that, well clear of both the
// silence limit (one chunk's delay) and the total (handshakeTotal, 4
// times), so a loaded machine cannot turn it into a cut.
func TestSSHHandshakeSlowButAnswering(t *testing.T) {
	_, _, cfg := knownServer(t)
	delay := 200 * time.Millisecond
	cfg.Dial = slowReplies(t, net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), delay)
	cfg.HandshakeTimeout = 5 * delay
	start := time.Now()
	c := dialOK(t, cfg)
	c.Close()
	t.Logf("took %s (HandshakeTimeout %s)", time.Since(start), cfg.HandshakeTimeout)
	if took := time.Since(start); took < cfg.HandshakeTimeout {
		t.Fatalf("the handshake took %s, under HandshakeTimeout %s: the test proves nothing", took, cfg.HandshakeTimeout)
	}
}

// slowReplies dials addr through a proxy that holds each chunk the server
// sends for delay.
func slowReplies(t *testing.T, addr string, delay time.Duration) func(ctx context.Context, _, _ string) (net.Conn, error) {
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		server, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		client, proxy := net.Pipe()
		go func() { io.Copy(server, proxy); server.Close() }()
		go func() {
			defer proxy.Close()
			buf := make([]byte, 32<<10)
			for {
				n, err := server.Read(buf)
				if n > 0 {
					time.Sleep(delay)
					if _, werr := proxy.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
		t.Cleanup(func() { client.Close(); server.Close() })
		return client, nil
	}
}
