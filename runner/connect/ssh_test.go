package connect

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"tend/inventory"
	"tend/runner/transport"
)

// TestHandshakesAreBounded points 12 hosts at a listener that accepts,
// never speaks and hangs up after 150ms (each handshake stalls until then) and checks that
// no more than MaxConnecting connections were ever open at once, a retry
// included, and that every host was still tried (twice: dropped before the
// key exchange) and reported unreachable.
func TestHandshakesAreBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	open, peak, total := 0, 0, 0
	serveConns(ln, func(c net.Conn) {
		mu.Lock()
		open++
		total++
		peak = max(peak, open)
		mu.Unlock()
		// The listener hangs up after a while, counting the connection
		// closed before the client can notice and free its slot, so the
		// count never lags behind the client's.
		go func() {
			time.Sleep(150 * time.Millisecond)
			mu.Lock()
			open--
			mu.Unlock()
			c.Close()
		}()
	})
	port := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	keyPath := writeTestKey(t, dir)
	// A timeout far above the hang-up: each handshake ends by the host's
	// drop, not by the clock, however loaded the machine.
	s, err := NewSSH(SSHOptions{MaxConnecting: 3, Timeout: 5 * time.Second,
		KnownHosts: filepath.Join(dir, "known_hosts"), PrivateKey: keyPath, SSHConfig: "none"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	errs := make([]error, 12)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := &inventory.Host{Name: fmt.Sprintf("h%d", i+1), Vars: map[string]any{"ansible_host": "127.0.0.1", "ansible_port": port}}
			c, err := s.Connect(context.Background(), h)
			if c != nil {
				c.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		var u *transport.UnreachableError
		if !errors.As(err, &u) {
			t.Errorf("h%d: %v, want unreachable", i+1, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if total != 24 {
		t.Errorf("%d connections, want 24 (two per host: a handshake the host drops is tried twice, within its slot)", total)
	}
	if peak > 3 {
		t.Errorf("%d handshakes at once, want at most MaxConnecting=3", peak)
	}
}

// TestHandshakeTriedTwice: a host that accepts the connection and then
// never finishes the handshake (a stalled sshd) or drops it at once (an
// sshd shedding load) is tried a second time before it is called
// unreachable, and the error says so; the connection is opened exactly
// twice. A host that refuses the connection is tried once.
func TestHandshakeTriedTwice(t *testing.T) {
	for _, tc := range []struct {
		name    string
		serve   func(c net.Conn) // what the host does with an accepted connection
		timeout time.Duration    // --timeout (default 200ms; a drop needs no clock)
		refuse  bool
		wantErr error
		want    string
		conns   int
	}{
		{name: "stalls", serve: func(net.Conn) {}, wantErr: transport.ErrHandshakeTimeout,
			want: "ssh handshake timed out: nothing from the host for 200ms (tried twice)", conns: 2},
		{name: "drops", serve: func(c net.Conn) { c.Close() }, timeout: 5 * time.Second, wantErr: transport.ErrHandshakeDropped,
			want: "closed by the host during the ssh handshake: ssh: handshake failed", conns: 2},
		{name: "drops after its banner", serve: func(c net.Conn) {
			io.WriteString(c, "SSH-2.0-OpenSSH_9.2\r\n")
			time.Sleep(20 * time.Millisecond)
			c.Close()
		},
			wantErr: transport.ErrHandshakeDropped, want: "(tried twice)", conns: 2},
		{name: "refuses", refuse: true, wantErr: syscall.ECONNREFUSED, want: "connection refused", conns: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			port := ln.Addr().(*net.TCPAddr).Port
			var mu sync.Mutex
			var held []net.Conn
			if tc.refuse {
				ln.Close()
			} else {
				defer ln.Close()
				serveConns(ln, func(c net.Conn) {
					mu.Lock()
					held = append(held, c) // closed when the test ends
					mu.Unlock()
					tc.serve(c)
				})
			}
			defer func() {
				mu.Lock()
				defer mu.Unlock()
				for _, c := range held {
					c.Close()
				}
			}()
			dir := t.TempDir()
			timeout := cmp.Or(tc.timeout, 200*time.Millisecond)
			s, err := NewSSH(SSHOptions{Timeout: timeout, KnownHosts: filepath.Join(dir, "known_hosts"),
				PrivateKey: writeTestKey(t, dir), SSHConfig: "none"})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			h := &inventory.Host{Name: "slow", Vars: map[string]any{"ansible_host": "127.0.0.1", "ansible_port": port}}
			c, err := s.Connect(context.Background(), h)
			if c != nil {
				c.Close()
			}
			var u *transport.UnreachableError
			if !errors.As(err, &u) || !errors.Is(err, tc.wantErr) {
				t.Fatalf("%v, want an unreachable host: %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want it to say %q", err, tc.want)
			}
			if tc.conns < 2 && strings.Contains(err.Error(), "tried twice") {
				t.Errorf("%v: tried again", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(held) != tc.conns {
				t.Errorf("%d connections, want %d", len(held), tc.conns)
			}
		})
	}
}

// serveConns calls serve for each connection ln accepts, until ln closes.
func serveConns(ln net.Listener, serve func(net.Conn)) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			serve(c)
		}
	}()
}

// writeTestKey writes a fresh ed25519 client key into dir and returns its path.
func writeTestKey(t *testing.T, dir string) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return keyPath
}
