package transport

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tend/internal/lab"
)

// These tests run against real OpenSSH sshd processes in network
// namespaces (internal/lab); they need root.

func labConfig(l *lab.Lab, h *lab.Host) SSHConfig {
	return SSHConfig{
		Host: h.Addr, Port: h.Port, User: "root",
		KeyFiles:       []string{l.ClientKey},
		KnownHostsFile: l.KnownHosts,
		DialTimeout:    5 * time.Second, HandshakeTimeout: 5 * time.Second,
	}
}

func TestLabContract(t *testing.T) {
	l := lab.New(t, 1)
	cfg := labConfig(l, l.Hosts[0])
	runConnContract(t, func(t *testing.T) Conn { return dialOK(t, cfg) })
}

// TestLabSysctlConf writes /etc/sysctl.conf on a host whose /etc is a bind
// mount (InPlace) and on one whose /etc is an overlay (rename).
func TestLabSysctlConf(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []lab.Option
		inPlace bool
	}{
		{"BindMounted", nil, true},
		{"OverlayEtc", []lab.Option{lab.WithOverlayEtc()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := lab.New(t, 1, tc.opts...)
			h := l.Hosts[0]
			c := dialOK(t, labConfig(l, h))
			ctx := context.Background()
			const p = "/etc/sysctl.conf"
			old, err := ReadFile(ctx, c, p)
			if err != nil {
				t.Fatal(err)
			}
			want := string(old) + "# tend lab test\nnet.ipv4.ip_forward = 1\n"
			res, err := WriteFileAtomic(ctx, c, p, []byte(want), WriteOptions{Backup: true, ExpectSHA256: sha(old)})
			if err != nil {
				t.Fatal(err)
			}
			// In the bind-mounted shape the backup lands in this machine's
			// real /etc: never leave it there.
			t.Cleanup(func() { c.Run(context.Background(), Command{Argv: []string{"rm", "-f", "--", res.BackupPath}}) })
			if res.InPlace != tc.inPlace {
				t.Errorf("InPlace = %v, want %v", res.InPlace, tc.inPlace)
			}
			if got, err := ReadFile(ctx, c, p); err != nil || string(got) != want {
				t.Errorf("host reads back %q, %v", got, err)
			}
			mustContent(t, filepath.Join(h.EtcDir, "sysctl.conf"), want)
			if b, err := ReadFile(ctx, c, res.BackupPath); err != nil || string(b) != string(old) {
				t.Errorf("backup %s: %q %v", res.BackupPath, b, err)
			}
			if out, err := c.Run(ctx, Command{Argv: []string{"sh", "-c", "ls -a /etc | grep -c tend-tmp"}}); err != nil || strings.TrimSpace(string(out.Stdout)) != "0" {
				t.Errorf("temp files left in /etc: %s %v", out.Stdout, err)
			}
		})
	}
}

func TestLabHostKeys(t *testing.T) {
	l := lab.New(t, 1)
	h := l.Hosts[0]
	// Lab known_hosts holds only the ed25519 key while sshd also offers
	// ECDSA, which x/crypto prefers by default (golang/go#29286).
	dialOK(t, labConfig(l, h))

	kh := filepath.Join(t.TempDir(), "known_hosts")
	orig, _ := os.ReadFile(l.KnownHosts)
	os.WriteFile(kh, orig, 0o600)
	h.RegenerateHostKey(t)
	cfg := labConfig(l, h)
	cfg.KnownHostsFile, cfg.AcceptNewHostKeys = kh, true
	_, err := DialSSH(context.Background(), cfg)
	var he *HostKeyError
	if !errors.As(err, &he) || !he.Mismatch {
		t.Fatalf("want mismatch after the host key changed, got %v", err)
	}
	if got, _ := os.ReadFile(kh); string(got) != string(orig) {
		t.Errorf("known_hosts changed")
	}

	// Unknown host, accept-new: one line, then strict mode connects.
	empty := filepath.Join(t.TempDir(), "known_hosts")
	cfg.KnownHostsFile = empty
	dialOK(t, cfg)
	if got := readFile(t, empty); strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, h.Addr+" ssh-ed25519 ") {
		t.Errorf("accept-new wrote %q", got)
	}
	cfg.AcceptNewHostKeys = false
	dialOK(t, cfg)
}

func TestLabSessionsKilledMidRun(t *testing.T) {
	l := lab.New(t, 1)
	h := l.Hosts[0]
	c := dialOK(t, labConfig(l, h))
	argv, _ := hangingCommand()
	time.AfterFunc(500*time.Millisecond, func() { h.KillSessions(t) })
	_, err := c.Run(context.Background(), Command{Argv: argv})
	if !IsUnreachable(err) {
		t.Fatalf("want UnreachableError, got %v", err)
	}
}

func TestLabBlackholeKeepalive(t *testing.T) {
	l := lab.New(t, 1)
	h := l.Hosts[0]
	cfg := labConfig(l, h)
	cfg.KeepaliveInterval, cfg.KeepaliveCountMax = 300*time.Millisecond, 2
	c := dialOK(t, cfg)
	argv, _ := hangingCommand()
	time.AfterFunc(500*time.Millisecond, func() { h.Blackhole(t) })
	start := time.Now()
	_, err := c.Run(context.Background(), Command{Argv: argv})
	if !IsUnreachable(err) {
		t.Fatalf("want UnreachableError, got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to notice", d)
	}
	// A blackholed host times out on dial.
	cfg.DialTimeout = 500 * time.Millisecond
	if _, err := DialSSH(context.Background(), cfg); !IsUnreachable(err) {
		t.Errorf("dial to blackholed host: %v", err)
	}
}

func TestLabSSHDStopped(t *testing.T) {
	l := lab.New(t, 1)
	h := l.Hosts[0]
	h.StopSSHD(t)
	if _, err := DialSSH(context.Background(), labConfig(l, h)); !IsUnreachable(err) {
		t.Fatalf("want UnreachableError, got %v", err)
	}
}
