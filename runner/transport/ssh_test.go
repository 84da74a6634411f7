package transport

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// knownServer starts a test server and a known_hosts file that trusts it.
func knownServer(t *testing.T) (*testServer, testClient, SSHConfig) {
	cl := newTestClient(t)
	s := startTestServer(t, cl)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, []byte(knownLine(s, s.Keys[0].PublicKey())), 0o600)
	return s, cl, testConfig(s, cl, kh)
}

func TestSSHContract(t *testing.T) {
	_, _, cfg := knownServer(t)
	runConnContract(t, func(t *testing.T) Conn { return dialOK(t, cfg) })
}

func TestSSHConnectionRefused(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, err := DialSSH(context.Background(), SSHConfig{Host: "127.0.0.1", Port: port, User: "u",
		KeyFiles: []string{newTestClient(t).KeyFile}, KnownHostsFile: filepath.Join(t.TempDir(), "kh")})
	if !IsUnreachable(err) {
		t.Fatalf("want UnreachableError, got %v", err)
	}
}

func TestSSHDialTimeout(t *testing.T) {
	cl := newTestClient(t)
	start := time.Now()
	_, err := DialSSH(context.Background(), SSHConfig{Host: "test.invalid", User: "u", KeyFiles: []string{cl.KeyFile},
		KnownHostsFile: filepath.Join(t.TempDir(), "kh"), DialTimeout: 300 * time.Millisecond,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			<-ctx.Done() // a blackholed host: SYNs unanswered
			return nil, ctx.Err()
		}})
	if !IsUnreachable(err) {
		t.Fatalf("want UnreachableError, got %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("dial took %s", d)
	}
}

func TestSSHHandshakeStall(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // accept, say nothing
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	start := time.Now()
	_, err = DialSSH(context.Background(), SSHConfig{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, User: "u",
		KeyFiles: []string{newTestClient(t).KeyFile}, KnownHostsFile: filepath.Join(t.TempDir(), "kh"),
		HandshakeTimeout: 400 * time.Millisecond})
	if !IsUnreachable(err) || !strings.Contains(err.Error(), "handshake timed out") {
		t.Fatalf("want handshake timeout, got %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("handshake timeout took %s", d)
	}
}

// startAgent serves an in-memory agent holding keys and points SSH_AUTH_SOCK at it.
func startAgent(t *testing.T, keys ...any) {
	kr := agent.NewKeyring()
	for _, k := range keys {
		if err := kr.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); agent.ServeAgent(kr, c); c.Close() }()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)
}

func TestSSHAuth(t *testing.T) {
	// The server accepts only `right`; the agent holds ten keys, `right` among them.
	_, rightKey, _ := ed25519.GenerateKey(rand.Reader)
	rightPub, _ := ssh.NewPublicKey(rightKey.Public())
	var agentKeys []any
	for range 9 {
		_, k, _ := ed25519.GenerateKey(rand.Reader)
		agentKeys = append(agentKeys, k)
	}
	agentKeys = append(agentKeys, rightKey)
	startAgent(t, agentKeys...)
	cl := testClient{Pub: rightPub}
	s := startTestServer(t, cl)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, []byte(knownLine(s, s.Keys[0].PublicKey())), 0o600)

	t.Run("WrongKeyFileOnlyThatKeyOffered", func(t *testing.T) {
		s.AuthAttempts.Store(0)
		cfg := testConfig(s, newTestClient(t), kh)
		cfg.UseAgent = true // ignored: KeyFiles set
		_, err := DialSSH(context.Background(), cfg)
		var he *HostKeyError
		if err == nil || IsUnreachable(err) || errors.As(err, &he) || !strings.Contains(err.Error(), "authentication") {
			t.Fatalf("want a plain authentication error, got %v", err)
		}
		if n := s.AuthAttempts.Load(); n != 1 {
			t.Errorf("%d keys offered, want only the configured one", n)
		}
	})
	t.Run("AgentKeys", func(t *testing.T) {
		cfg := testConfig(s, cl, kh)
		cfg.KeyFiles, cfg.UseAgent = nil, true
		dialOK(t, cfg)
	})
	t.Run("EncryptedKeyFileThroughAgent", func(t *testing.T) {
		block, err := ssh.MarshalPrivateKeyWithPassphrase(rightKey, "c", []byte("secret"))
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "id_enc")
		os.WriteFile(f, pem.EncodeToMemory(block), 0o600)
		s.AuthAttempts.Store(0)
		cfg := testConfig(s, cl, kh)
		cfg.KeyFiles = []string{f}
		dialOK(t, cfg)
		if n := s.AuthAttempts.Load(); n != 1 {
			t.Errorf("%d keys offered, want 1", n)
		}
	})
	t.Run("NoKey", func(t *testing.T) {
		// Without a key the error says why no agent key was offered (the
		// caller adds how its user gives a key), before the server is dialed.
		const pre = "transport: ssh: no key to authenticate with: no identity file, and "
		gone := filepath.Join(t.TempDir(), "gone.sock")
		for _, tc := range []struct {
			name, sock string
			useAgent   bool
			want       string
		}{
			{"agent not used", os.Getenv("SSH_AUTH_SOCK"), false, pre + "the agent is not used"},
			{"no agent", "", true, pre + "no agent (SSH_AUTH_SOCK is not set)"},
			{"agent gone", gone, true, pre + "the agent at " + gone + " cannot be reached (dial unix " + gone + ": connect: no such file or directory)"},
			{"agent empty", "", true, ""}, // filled below: an agent holding nothing
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.name == "agent empty" {
					startAgent(t)
					tc.sock = os.Getenv("SSH_AUTH_SOCK")
					tc.want = pre + "the agent at " + tc.sock + " holds no key"
				}
				t.Setenv("SSH_AUTH_SOCK", tc.sock)
				s.AuthAttempts.Store(0)
				cfg := testConfig(s, cl, kh)
				cfg.KeyFiles, cfg.UseAgent = nil, tc.useAgent
				_, err := DialSSH(context.Background(), cfg)
				if err == nil || err.Error() != tc.want || !errors.Is(err, ErrNoKey) {
					t.Fatalf("got  %v\nwant %s (ErrNoKey)", err, tc.want)
				}
				if n := s.AuthAttempts.Load(); n != 0 {
					t.Errorf("%d authentication attempts, want none", n)
				}
			})
		}
	})
}

// TestSSHCustomDialer: a bastion is just a dialer; the host key is checked
// under the target's name, not the address actually dialed.
func TestSSHCustomDialer(t *testing.T) {
	cl := newTestClient(t)
	s := startTestServer(t, cl)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, []byte("[target.internal]:2222 "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.Keys[0].PublicKey())))+"\n"), 0o600)
	var dialed atomic.Value
	cfg := testConfig(s, cl, kh)
	cfg.Host, cfg.Port = "target.internal", 2222
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed.Store(addr)
		return (&net.Dialer{}).DialContext(ctx, network, s.Addr())
	}
	dialOK(t, cfg)
	if got := dialed.Load(); got != "target.internal:2222" {
		t.Errorf("dialer asked for %v", got)
	}
}

// freezeProxy forwards TCP to target until frozen; then it holds every byte,
// like a host that vanished without closing the connection.
type freezeProxy struct {
	ln     net.Listener
	frozen atomic.Bool
	closed atomic.Bool
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func startFreezeProxy(t *testing.T, target string) *freezeProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezeProxy{ln: ln}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			p.wg.Add(2)
			go p.pipe(c, u)
			go p.pipe(u, c)
		}
	}()
	t.Cleanup(func() {
		p.closed.Store(true)
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *freezeProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for p.frozen.Load() {
			if p.closed.Load() {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err == io.EOF {
				dst.Close()
			}
			return
		}
	}
}

func TestSSHKeepaliveDetectsDeadHost(t *testing.T) {
	s, _, cfg := knownServer(t)
	p := startFreezeProxy(t, s.Addr())
	kh := cfg.KnownHostsFile
	os.WriteFile(kh, []byte("[127.0.0.1]:"+strconv.Itoa(p.ln.Addr().(*net.TCPAddr).Port)+" "+
		strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.Keys[0].PublicKey())))+"\n"), 0o600)
	cfg.Port = p.ln.Addr().(*net.TCPAddr).Port
	cfg.KeepaliveInterval, cfg.KeepaliveCountMax = 200*time.Millisecond, 2
	c := dialOK(t, cfg)
	argv, _ := hangingCommand()
	time.AfterFunc(300*time.Millisecond, func() { p.frozen.Store(true) })
	start := time.Now()
	_, err := c.Run(context.Background(), Command{Argv: argv})
	if !IsUnreachable(err) || !strings.Contains(err.Error(), "keepalive") {
		t.Fatalf("want UnreachableError from keepalive, got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to notice", d)
	}
	if _, err := c.Run(context.Background(), Command{Argv: []string{"true"}}); !IsUnreachable(err) {
		t.Errorf("run on a dead connection: %v", err)
	}
}

func TestSSHHostDropsMidRun(t *testing.T) {
	s, _, cfg := knownServer(t)
	c := dialOK(t, cfg)
	argv, _ := hangingCommand()
	time.AfterFunc(300*time.Millisecond, s.DropConnections)
	_, err := c.Run(context.Background(), Command{Argv: argv})
	if !IsUnreachable(err) {
		t.Fatalf("want UnreachableError, got %v", err)
	}
}

func TestSSHNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		s, _, cfg := knownServer(t)
		cfg.KeepaliveInterval = 50 * time.Millisecond
		c, err := DialSSH(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := Command{Argv: []string{"sh", "-c", "cat; echo x"}, Stdin: []byte("in")}
				if i%5 == 0 {
					cmd = Command{Argv: []string{"sleep", "30"}, Timeout: 200 * time.Millisecond}
				}
				c.Run(context.Background(), cmd)
			}()
		}
		wg.Wait()
		time.Sleep(120 * time.Millisecond) // let keepalives run
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		s.Close()
	}()
	var after int
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if after = runtime.NumGoroutine(); after <= before+2 {
			return
		}
	}
	buf := make([]byte, 1<<20)
	t.Errorf("goroutines: %d before, %d after Close\n%s", before, after, buf[:runtime.Stack(buf, true)])
}

// TestSSHTimeoutBackstop: when the KILL signal cannot reach the host (the
// link froze), the remote `timeout` still ends the process group.
func TestSSHTimeoutBackstop(t *testing.T) {
	s, _, cfg := knownServer(t)
	p := startFreezeProxy(t, s.Addr())
	port := p.ln.Addr().(*net.TCPAddr).Port
	os.WriteFile(cfg.KnownHostsFile, []byte("[127.0.0.1]:"+strconv.Itoa(port)+" "+
		strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.Keys[0].PublicKey())))+"\n"), 0o600)
	cfg.Port = port
	cfg.KeepaliveInterval = -1
	c := dialOK(t, cfg)
	argv, pattern := hangingCommand()
	time.AfterFunc(200*time.Millisecond, func() { p.frozen.Store(true) })
	_, err := c.Run(context.Background(), Command{Argv: argv, Timeout: 500 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("want ErrTimeout, got %v", err)
	}
	// The processes run on this machine: look for them locally.
	deadline := time.Now().Add(6 * time.Second)
	for {
		res, _ := Local().Run(context.Background(), Command{Argv: []string{"pgrep", "-f", pattern}})
		if res.ExitCode == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("remote processes survived the backstop: %s", res.Stdout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
