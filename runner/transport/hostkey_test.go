package transport

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func testConfig(s *testServer, c testClient, knownHostsFile string) SSHConfig {
	return SSHConfig{
		Host: s.Host, Port: s.Port, User: "tester",
		KeyFiles:       []string{c.KeyFile},
		KnownHostsFile: knownHostsFile,
		DialTimeout:    5 * time.Second, HandshakeTimeout: 5 * time.Second,
	}
}

func knownLine(s *testServer, k ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr())}, k) + "\n"
}

func dialOK(t *testing.T, cfg SSHConfig) Conn {
	t.Helper()
	c, err := DialSSH(context.Background(), cfg)
	if err != nil {
		t.Fatalf("DialSSH: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	res, err := c.Run(context.Background(), Command{Argv: []string{"echo", "hi"}})
	if err != nil || string(res.Stdout) != "hi\n" {
		t.Fatalf("Run over fresh conn: %q %v", res.Stdout, err)
	}
	return c
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHostKeyUnknownRefused(t *testing.T) {
	cl := newTestClient(t)
	s := startTestServer(t, cl)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	other := startTestServer(t, cl)
	orig := knownLine(other, other.Keys[0].PublicKey()) + "# comment\n"
	os.WriteFile(kh, []byte(orig), 0o644)

	_, err := DialSSH(context.Background(), testConfig(s, cl, kh))
	var he *HostKeyError
	if !errors.As(err, &he) || he.Mismatch || he.Revoked {
		t.Fatalf("want unknown-host HostKeyError, got %v", err)
	}
	if want := ssh.FingerprintSHA256(s.Keys[0].PublicKey()); he.Fingerprint != want || !strings.Contains(err.Error(), want) {
		t.Errorf("fingerprint %q (message %q), want %q", he.Fingerprint, err, want)
	}
	if got := readFile(t, kh); got != orig {
		t.Errorf("known_hosts changed:\n%s", got)
	}
	if n := s.AuthAttempts.Load(); n != 0 {
		t.Errorf("credentials offered to an unknown host (%d keys)", n)
	}
	// A missing file is not created either.
	missing := filepath.Join(t.TempDir(), "known_hosts")
	if _, err := DialSSH(context.Background(), testConfig(s, cl, missing)); !errors.As(err, &he) {
		t.Fatalf("want HostKeyError, got %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("known_hosts created without accept-new")
	}
}

func TestHostKeyAcceptNew(t *testing.T) {
	cl := newTestClient(t)
	s := startTestServer(t, cl)
	kh := filepath.Join(t.TempDir(), "sub", "known_hosts")
	var warnings []string
	cfg := testConfig(s, cl, kh)
	cfg.AcceptNewHostKeys = true
	cfg.Warn = func(m string) { warnings = append(warnings, m) }
	dialOK(t, cfg)
	if got, want := readFile(t, kh), knownLine(s, s.Keys[0].PublicKey()); got != want {
		t.Errorf("known_hosts = %q, want exactly %q", got, want)
	}
	if fi, _ := os.Stat(kh); fi.Mode().Perm() != 0o600 {
		t.Errorf("known_hosts mode %v, want 0600", fi.Mode())
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], ssh.FingerprintSHA256(s.Keys[0].PublicKey())) {
		t.Errorf("want one event naming the fingerprint, got %q", warnings)
	}
	// Now known: strict mode connects, and nothing more is appended.
	cfg.AcceptNewHostKeys = false
	dialOK(t, cfg)
	cfg.AcceptNewHostKeys = true
	dialOK(t, cfg)
	if got := strings.Count(readFile(t, kh), "\n"); got != 1 {
		t.Errorf("known_hosts has %d lines, want 1", got)
	}

	// An unterminated last line is not glued to ours.
	kh2 := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh2, []byte("# no newline"), 0o600)
	cfg.KnownHostsFile = kh2
	dialOK(t, cfg)
	if got, want := readFile(t, kh2), "# no newline\n"+knownLine(s, s.Keys[0].PublicKey()); got != want {
		t.Errorf("known_hosts = %q, want %q", got, want)
	}
}

func TestHostKeyMismatchRefused(t *testing.T) {
	cl := newTestClient(t)
	s := startTestServer(t, cl)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	orig := "# first\n" + knownLine(s, newEd25519Signer(t).PublicKey())
	os.WriteFile(kh, []byte(orig), 0o600)
	cfg := testConfig(s, cl, kh)
	cfg.AcceptNewHostKeys = true
	_, err := DialSSH(context.Background(), cfg)
	var he *HostKeyError
	if !errors.As(err, &he) || !he.Mismatch || he.Line != 2 || he.KnownHosts != kh {
		t.Fatalf("want mismatch at line 2, got %#v (%v)", he, err)
	}
	if got := readFile(t, kh); got != orig {
		t.Errorf("known_hosts changed: %q", got)
	}
	if n := s.AuthAttempts.Load(); n != 0 {
		t.Errorf("credentials offered to a host with a changed key")
	}
}

func TestHostKeyRevoked(t *testing.T) {
	cl := newTestClient(t)
	s := startTestServer(t, cl)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	k := s.Keys[0].PublicKey()
	os.WriteFile(kh, []byte(knownLine(s, k)+"@revoked * "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))+"\n"), 0o600)
	cfg := testConfig(s, cl, kh)
	cfg.AcceptNewHostKeys = true
	_, err := DialSSH(context.Background(), cfg)
	var he *HostKeyError
	if !errors.As(err, &he) || !he.Revoked || he.Line != 2 {
		t.Fatalf("want revoked at line 2, got %v", err)
	}
}

// TestHostKeyAlgorithmsFromKnownHosts: known_hosts holds one key type while
// the server offers two (golang/go#29286). Both directions are tested so one
// of them goes against x/crypto's default preference.
func TestHostKeyAlgorithmsFromKnownHosts(t *testing.T) {
	cl := newTestClient(t)
	ed, ec := newEd25519Signer(t), newECDSASigner(t)
	s := startTestServer(t, cl, ec, ed)
	for _, tc := range []struct {
		name string
		key  ssh.PublicKey
		line func() string
	}{
		{"ed25519", ed.PublicKey(), func() string { return knownLine(s, ed.PublicKey()) }},
		{"ecdsa", ec.PublicKey(), func() string { return knownLine(s, ec.PublicKey()) }},
		{"hashed-ecdsa", ec.PublicKey(), func() string {
			return knownhosts.Line([]string{knownhosts.HashHostname(knownhosts.Normalize(s.Addr()))}, ec.PublicKey()) + "\n"
		}},
		{"hashed-ed25519", ed.PublicKey(), func() string {
			return knownhosts.Line([]string{knownhosts.HashHostname(knownhosts.Normalize(s.Addr()))}, ed.PublicKey()) + "\n"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kh := filepath.Join(t.TempDir(), "known_hosts")
			os.WriteFile(kh, []byte(tc.line()), 0o600)
			dialOK(t, testConfig(s, cl, kh))
		})
	}
}

func TestHostKeyMalformedLineWarns(t *testing.T) {
	cl := newTestClient(t)
	s := startTestServer(t, cl)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	orig := "garbage line here\n" + knownLine(s, s.Keys[0].PublicKey()) + "[bad host ssh-ed25519 AAAA\n"
	os.WriteFile(kh, []byte(orig), 0o644)
	var warnings []string
	cfg := testConfig(s, cl, kh)
	cfg.Warn = func(m string) { warnings = append(warnings, m) }
	dialOK(t, cfg)
	if len(warnings) != 2 || !strings.Contains(warnings[0], kh+":1:") || !strings.Contains(warnings[1], kh+":3:") {
		t.Errorf("warnings = %q, want lines 1 and 3", warnings)
	}
	if got := readFile(t, kh); got != orig {
		t.Errorf("known_hosts rewritten: %q", got)
	}
	// Only malformed lines: still a usable (empty) database, strict refusal.
	os.WriteFile(kh, []byte("garbage\n"), 0o644)
	var he *HostKeyError
	if _, err := DialSSH(context.Background(), testConfig(s, cl, kh)); !errors.As(err, &he) {
		t.Errorf("want HostKeyError, got %v", err)
	}
}

// TestHostKeyAcceptNewConcurrent: 50 new hosts dialed at once by this
// process and, simultaneously, by a second process: exactly 50 whole lines.
func TestHostKeyAcceptNewConcurrent(t *testing.T) {
	cl := newTestClient(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	servers := make([]*testServer, 50)
	var addrs []string
	for i := range servers {
		servers[i] = startTestServer(t, cl)
		addrs = append(addrs, servers[i].Addr())
	}
	testHookBeforeAppend = func() { time.Sleep(2 * time.Millisecond) }
	t.Cleanup(func() { testHookBeforeAppend = nil })
	gate := filepath.Join(t.TempDir(), "gate")
	child := exec.Command(os.Args[0], "-test.run=^TestHelperAcceptNew$", "-test.count=1")
	child.Env = append(os.Environ(), "TEND_HELPER_ADDRS="+strings.Join(addrs, ","),
		"TEND_HELPER_KH="+kh, "TEND_HELPER_KEY="+cl.KeyFile, "TEND_HELPER_GATE="+gate)
	var childOut strings.Builder
	child.Stdout, child.Stderr = &childOut, &childOut
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	// Start together: wait until the child is ready, then open the gate.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(gate + ".ready"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("second process not ready: %s", childOut.String())
		}
	}
	os.WriteFile(gate, nil, 0o600)
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(servers))
	for _, s := range append(servers, servers...) { // each host twice at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := testConfig(s, cl, kh)
			cfg.AcceptNewHostKeys = true
			c, err := DialSSH(context.Background(), cfg)
			if err != nil {
				errs <- err
				return
			}
			c.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := child.Wait(); err != nil {
		t.Fatalf("second process: %v\n%s", err, childOut.String())
	}
	want := map[string]bool{}
	for _, s := range servers {
		want[knownLine(s, s.Keys[0].PublicKey())] = true
	}
	lines := strings.SplitAfter(readFile(t, kh), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) != 50 {
		t.Errorf("known_hosts has %d lines, want 50", len(lines))
	}
	for _, l := range lines {
		if !want[l] {
			t.Errorf("unexpected or torn line %q", l)
		}
		delete(want, l)
	}
}

// TestHelperAcceptNew is the second process of TestHostKeyAcceptNewConcurrent.
func TestHelperAcceptNew(t *testing.T) {
	addrs := os.Getenv("TEND_HELPER_ADDRS")
	if addrs == "" {
		t.Skip("helper process only")
	}
	testHookBeforeAppend = func() { time.Sleep(2 * time.Millisecond) }
	gate := os.Getenv("TEND_HELPER_GATE")
	os.WriteFile(gate+".ready", nil, 0o600)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if _, err := os.Stat(gate); err == nil {
			break
		}
	}
	var wg sync.WaitGroup
	for _, a := range strings.Split(addrs, ",") {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var port int
			fmt.Sscanf(a[strings.LastIndex(a, ":")+1:], "%d", &port)
			c, err := DialSSH(context.Background(), SSHConfig{
				Host: "127.0.0.1", Port: port, User: "tester", KeyFiles: []string{os.Getenv("TEND_HELPER_KEY")},
				KnownHostsFile: os.Getenv("TEND_HELPER_KH"), AcceptNewHostKeys: true,
			})
			if err != nil {
				t.Error(err)
				return
			}
			c.Close()
		}()
	}
	wg.Wait()
}

// TestHostKeyCertAuthority: a host certificate signed by a CA that
// known_hosts trusts for the host is accepted; expired or issued for
// another name, it is refused, even under accept-new.
func TestHostKeyCertAuthority(t *testing.T) {
	cl := newTestClient(t)
	ca := newEd25519Signer(t)
	now := uint64(time.Now().Unix())
	for _, tc := range []struct {
		name       string
		principal  string
		after, bef uint64
		ok         bool
		why        string
	}{
		{"Trusted", "127.0.0.1", now - 60, now + 3600, true, ""},
		{"Expired", "127.0.0.1", now - 7200, now - 3600, false, "expired"},
		{"WrongPrincipal", "other.example", now - 60, now + 3600, false, "principal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hostKey := newEd25519Signer(t)
			cert := &ssh.Certificate{Key: hostKey.PublicKey(), CertType: ssh.HostCert,
				ValidPrincipals: []string{tc.principal}, ValidAfter: tc.after, ValidBefore: tc.bef}
			if err := cert.SignCert(rand.Reader, ca); err != nil {
				t.Fatal(err)
			}
			certSigner, err := ssh.NewCertSigner(cert, hostKey)
			if err != nil {
				t.Fatal(err)
			}
			s := startTestServer(t, cl, certSigner)
			kh := filepath.Join(t.TempDir(), "known_hosts")
			orig := "@cert-authority " + knownhosts.Normalize(s.Addr()) + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ca.PublicKey()))) + "\n"
			os.WriteFile(kh, []byte(orig), 0o600)
			cfg := testConfig(s, cl, kh)
			cfg.AcceptNewHostKeys = true
			c, err := DialSSH(context.Background(), cfg)
			if tc.ok != (err == nil) {
				t.Fatalf("DialSSH: %v, want success %v", err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), tc.why) {
				t.Errorf("refused for the wrong reason: %v (want %q)", err, tc.why)
			}
			if c != nil {
				c.Close()
			}
			if got := readFile(t, kh); got != orig {
				t.Errorf("known_hosts changed: %q", got)
			}
		})
	}
}
