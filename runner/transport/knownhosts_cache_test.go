package transport

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// TestKnownHostsParsedOncePerVersion: dials share one parsed snapshot of
// known_hosts (500 hosts held 500 copies before), and an appended key is
// seen by the next dial.
func TestKnownHostsParsedOncePerVersion(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "known_hosts")
	newKey := func() ssh.PublicKey {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k1, k2 := newKey(), newKey()
	if err := os.WriteFile(path, []byte(knownhosts.Line([]string{"10.0.0.1"}, k1)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := loadKnownHostsCached(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := loadKnownHostsCached(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("the unchanged file was parsed twice")
	}
	remote := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 22}
	if err := b.check("10.0.0.2:22", remote, k2); err == nil {
		t.Fatalf("10.0.0.2 known before it was added")
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(knownhosts.Line([]string{"10.0.0.2"}, k2) + "\n")
	f.Close()
	c, err := loadKnownHostsCached(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c == b {
		t.Fatalf("an appended file was not parsed again")
	}
	if err := c.check("10.0.0.2:22", remote, k2); err != nil {
		t.Errorf("the appended key is not seen: %v", err)
	}
}
