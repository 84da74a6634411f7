package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"tend/internal/lab"
)

// bastionLab is h1 (the bastion), h2 and h3 reachable only through h1, and
// h4 reachable only through h2 (a two-hop chain).
type bastionLab struct {
	*lab.Lab
	dir, inv, conf string
}

func newBastionLab(t *testing.T) *bastionLab {
	l := lab.New(t, 4)
	h := l.Hosts
	l.Isolate(t, h[0], h[1], h[2])
	l.Isolate(t, h[1], h[3])
	b := &bastionLab{Lab: l, dir: t.TempDir()}
	var inv strings.Builder
	inv.WriteString("all:\n  children:\n    bastion:\n      hosts:\n")
	fmt.Fprintf(&inv, "        h1: {ansible_host: %s}\n    targets:\n      hosts:\n", h[0].Addr)
	for _, x := range h[1:] {
		// No key or user in the inventory: both come from ssh_config.
		fmt.Fprintf(&inv, "        %s: {ansible_host: %s}\n", x.Name, x.Addr)
	}
	b.inv = writeFile(t, b.dir, "inventory.yml", inv.String())
	// Host patterns name the inventory hosts (their ansible_host is an
	// address): tend matches the inventory name too.
	b.conf = writeFile(t, b.dir, "ssh_config", fmt.Sprintf(`Host jumpbox
  HostName %s
Host h2 h3
  ProxyJump jumpbox
Host h4
  ProxyJump jumpbox,root@%s:22
Host *
  User root
  IdentityFile %s
  IdentitiesOnly yes
  ServerAliveInterval 5
`, h[0].Addr, h[1].Addr, l.ClientKey))
	return b
}

const targetsPlay = `
- hosts: targets
  tasks:
    - name: client
      shell: echo "$SSH_CONNECTION"
    - name: addr
      command: ip -4 -o addr show eth0
`

// TestProxyJump: the targets cannot be dialed, yet tend reaches them
// through the bastion (and a chain), sharing one connection to it.
func TestProxyJump(t *testing.T) {
	b := newBastionLab(t)
	h := b.Hosts
	for _, x := range h[1:] {
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(x.Addr, "22"), 2*time.Second); err == nil {
			c.Close()
			t.Fatalf("%s: direct dial succeeded: the bastion is not the only way", x.Name)
		}
	}
	pb := writeFile(t, b.dir, "targets.yml", targetsPlay)

	t.Run("without ssh_config unreachable", func(t *testing.T) {
		_, _, code := runIn(t, b.dir, "-i", b.inv, "-F", "none", "--private-key", b.ClientKey,
			"--known-hosts", b.KnownHosts, "--timeout", "2s", pb)
		if code != exitUnreachable {
			t.Fatalf("exit %d, want %d (unreachable)", code, exitUnreachable)
		}
	})

	t.Run("through the bastion", func(t *testing.T) {
		// The second play runs on the bastion while every target's
		// connection (and the jump connection under them) is still open.
		play := targetsPlay + `
- hosts: bastion
  tasks:
    - name: sessions
      shell: ss -Htn state established '( sport = :22 )'
`
		pb := writeFile(t, b.dir, "both.yml", play)
		stdout, _, code := runIn(t, b.dir, "-i", b.inv, "--ssh-config", b.conf, "--known-hosts", b.KnownHosts, "--format", "json", pb)
		if code != 0 {
			t.Fatalf("exit %d, want 0", code)
		}
		events := parseEvents(t, stdout)
		for _, x := range h[1:] {
			wantClient := h[0].Addr // h2, h3: through h1
			if x == h[3] {
				wantClient = h[1].Addr // h4: through h1 then h2
			}
			client, _ := findTask(t, events, x.Name, "client").Change.Data["stdout"].(string)
			if f := strings.Fields(client); len(f) < 3 || f[0] != wantClient || f[2] != x.Addr {
				t.Errorf("%s: SSH_CONNECTION %q: want client %s, server %s", x.Name, client, wantClient, x.Addr)
			}
			addr, _ := findTask(t, events, x.Name, "addr").Change.Data["stdout"].(string)
			if !strings.Contains(addr, " "+x.Addr+"/30 ") {
				t.Errorf("%s: the command ran elsewhere: %q", x.Name, addr)
			}
		}
		// One connection from here to the bastion's sshd carries the three
		// targets' streams; the other is the second play's own.
		sessions, _ := findTask(t, events, "h1", "sessions").Change.Data["stdout"].(string)
		if n := len(strings.Split(strings.TrimSpace(sessions), "\n")); n != 2 {
			t.Errorf("bastion has %d established SSH connections, want 2 (one shared jump + one direct):\n%s", n, sessions)
		}
	})

	// known_hosts without one line: the name whose key is missing.
	without := func(t *testing.T, skip *lab.Host) string {
		var keep []string
		for _, x := range h {
			if x != skip {
				keep = append(keep, x.Addr+" "+x.HostKeyPub)
			}
		}
		return writeFile(t, t.TempDir(), "known_hosts", strings.Join(keep, "\n")+"\n")
	}

	t.Run("target key checked under the target's name", func(t *testing.T) {
		kh := without(t, h[2])
		before, _ := os.ReadFile(kh)
		stdout, stderr, code := runIn(t, b.dir, "-i", b.inv, "-F", b.conf, "--known-hosts", kh, pb)
		if code != exitHostKeyUnknown {
			t.Fatalf("exit %d, want %d: h3's key is unknown although the bastion's is known", code, exitHostKeyUnknown)
		}
		out := stdout + stderr
		if !strings.Contains(out, fingerprint(t, h[2].HostKeyPub)) || !strings.Contains(out, h[2].Addr) {
			t.Errorf("the refusal does not name h3 (%s) and its fingerprint", h[2].Addr)
		}
		for _, x := range []*lab.Host{h[1], h[3]} {
			if !strings.Contains(out, x.Name+" ") || strings.Contains(out, "unreachable  ["+x.Name+"]") {
				t.Errorf("%s should have run", x.Name)
			}
		}
		if after, _ := os.ReadFile(kh); string(after) != string(before) {
			t.Errorf("known_hosts changed")
		}
	})

	t.Run("jump host key checked", func(t *testing.T) {
		kh := without(t, h[0])
		stdout, stderr, code := runIn(t, b.dir, "-i", b.inv, "-F", b.conf, "--known-hosts", kh, pb)
		if code != exitHostKeyUnknown {
			t.Fatalf("exit %d, want %d: the bastion's key is unknown", code, exitHostKeyUnknown)
		}
		out := stdout + stderr
		if !strings.Contains(out, fingerprint(t, h[0].HostKeyPub)) || !strings.Contains(out, "jump host jumpbox") {
			t.Errorf("the refusal does not name the jump host and its fingerprint")
		}
		if strings.Contains(out, "changed=1") {
			t.Errorf("a target ran although its bastion is not trusted")
		}
	})
}

// TestSSHConfigMapping: an inventory name with no variables is reached
// through ssh_config's HostName, Port, User and IdentityFile.
func TestSSHConfigMapping(t *testing.T) {
	l := lab.New(t, 1)
	h := l.Hosts[0]
	dir := t.TempDir()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "")
	key, err := os.ReadFile(l.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(home, "keys"), "root_lab", string(key))
	writeFile(t, filepath.Join(home, "keys"), "wrong", string(otherKey(t)))
	port := forward(t, net.JoinHostPort(h.Addr, "22"))
	kh := writeFile(t, dir, "known_hosts", fmt.Sprintf("[127.0.0.1]:%d %s\n", port, h.HostKeyPub))
	inv := writeFile(t, dir, "inventory.yml", "all:\n  hosts:\n    webalias:\n    webinv: {ansible_user: root}\n")
	pb := writeFile(t, dir, "play.yml", "- hosts: all\n  tasks:\n    - name: addr\n      command: ip -4 -o addr show eth0\n")
	conf := func(user, identity string) string {
		return writeFile(t, dir, "ssh_config", fmt.Sprintf(
			"Host webalias webinv\n  HostName 127.0.0.1\n  Port %d\n  User %s\n  IdentityFile %s\n", port, user, identity))
	}

	t.Run("mapped", func(t *testing.T) {
		stdout, _, code := runIn(t, dir, "-i", inv, "-F", conf("root", "~/keys/%r_lab"), "--known-hosts", kh, "--format", "json", pb)
		if code != 0 {
			t.Fatalf("exit %d, want 0", code)
		}
		events := parseEvents(t, stdout)
		for _, name := range []string{"webalias", "webinv"} {
			if out, _ := findTask(t, events, name, "addr").Change.Data["stdout"].(string); !strings.Contains(out, " "+h.Addr+"/30 ") {
				t.Errorf("%s: not run on %s: %q", name, h.Name, out)
			}
		}
	})
	t.Run("ssh_config none", func(t *testing.T) {
		if _, _, code := runIn(t, dir, "-i", inv, "-F", "none", "--private-key", l.ClientKey, "--known-hosts", kh, "--timeout", "2s", pb); code != exitUnreachable {
			t.Fatalf("exit %d, want %d: without ssh_config the names do not resolve", code, exitUnreachable)
		}
	})
	t.Run("User read, inventory wins", func(t *testing.T) {
		stdout, stderr, code := runIn(t, dir, "-i", inv, "-F", conf("nobody", "~/keys/root_lab"), "--known-hosts", kh, pb)
		if code != exitUnreachable {
			t.Fatalf("exit %d, want %d", code, exitUnreachable)
		}
		out := stdout + stderr
		if !strings.Contains(out, `authentication as "nobody" failed`) {
			t.Errorf("webalias did not log in as ssh_config's User nobody")
		}
		if !strings.Contains(out, "unreachable  [webalias]") || strings.Contains(out, "unreachable  [webinv]") {
			t.Errorf("want webalias refused, webinv (ansible_user root) through")
		}
	})
	t.Run("only the configured key", func(t *testing.T) {
		stdout, stderr, code := runIn(t, dir, "-i", inv, "-F", conf("root", "~/keys/wrong"), "--known-hosts", kh, pb)
		if code != exitUnreachable || !strings.Contains(stdout+stderr, "authentication as \"root\" failed") {
			t.Fatalf("exit %d: a key other than IdentityFile's was offered", code)
		}
	})
	t.Run("ServerAliveInterval", func(t *testing.T) {
		// The host vanishes during a long command: ssh_config's keepalive
		// (1s, 2 tries) notices within seconds, not the default 45s.
		f := writeFile(t, dir, "ssh_config_alive", fmt.Sprintf("Host webalias\n  HostName 127.0.0.1\n  Port %d\n"+
			"  IdentityFile ~/keys/root_lab\n  ServerAliveInterval 1\n  ServerAliveCountMax 2\n", port))
		stall := writeFile(t, dir, "stall.yml", "- hosts: all\n  tasks:\n    - name: before\n      command: 'true'\n"+
			"    - name: stall\n      command: sleep 60\n")
		type result struct {
			out  string
			code int
		}
		done := make(chan result, 1)
		start := time.Now()
		go func() {
			stdout, stderr, code := runIn(t, dir, "-i", inv, "-l", "webalias", "-F", f, "--known-hosts", kh, stall)
			done <- result{stdout + stderr, code}
		}()
		time.Sleep(2 * time.Second)
		h.Blackhole(t)
		defer h.Unblackhole(t)
		r := <-done
		if r.code != exitUnreachable || !strings.Contains(r.out, "no answer to 2 keepalives at 1s") {
			t.Fatalf("exit %d, want %d with the keepalive named", r.code, exitUnreachable)
		}
		if el := time.Since(start); el > 15*time.Second {
			t.Errorf("took %v: the ssh_config keepalive was not used", el)
		}
	})
}

// runIn runs `tend run` with its lock file in dir, so that test processes
// running at once never collide on the default lock (one per playbook name).
func runIn(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	return tendRun(t, append([]string{"run", "--lock-file", filepath.Join(dir, "run.lock")}, args...)...)
}

// forward relays connections from a local port to addr; it returns the port.
func forward(t *testing.T, addr string) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
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
			go func() {
				defer wg.Done()
				defer c.Close()
				u, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					return
				}
				defer u.Close()
				go func() { io.Copy(u, c); u.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, u)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// otherKey returns a fresh ed25519 private key no host authorizes.
func otherKey(t *testing.T) []byte {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(blk)
}
