package connect

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"tend/inventory"
	"tend/runner/transport"
)

// TestHandshakesAreBounded points 12 hosts at a listener that accepts,
// never speaks and hangs up after 150ms (each handshake stalls until then) and checks that
// no more than MaxConnecting connections were ever open at once, and that
// every host was still tried and reported unreachable.
func TestHandshakesAreBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	open, peak, total := 0, 0, 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
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
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
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
	s, err := NewSSH(SSHOptions{MaxConnecting: 3, Timeout: 300 * time.Millisecond,
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
	if total != 12 {
		t.Errorf("%d connections, want 12 (one per host)", total)
	}
	if peak > 3 {
		t.Errorf("%d handshakes at once, want at most MaxConnecting=3", peak)
	}
}
