package lab

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIsolate checks the bastion shape with OpenSSH itself: targets are
// unreachable from here, reachable through the bastion, and see the
// bastion as their client.
func TestIsolate(t *testing.T) {
	t.Parallel()
	l := New(t, 3)
	bastion, targets := l.Hosts[0], l.Hosts[1:]
	l.Isolate(t, bastion, targets...)

	for _, h := range targets {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(h.Addr, strconv.Itoa(h.Port)), 2*time.Second)
		if err == nil {
			c.Close()
			t.Fatalf("%s: direct dial succeeded: it is not isolated", h.Name)
		}
	}
	if out := sshOK(t, l, bastion, "echo ok"); strings.TrimSpace(out) != "ok" {
		t.Fatalf("bastion: %q", out)
	}
	proxy := "ssh " + strings.Join(l.SSHArgs(), " ") + " -W %h:%p root@" + bastion.Addr
	for _, h := range targets {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		args := append(l.SSHArgs(), "-o", "ProxyCommand="+proxy, "root@"+h.Addr, "echo $SSH_CONNECTION; ip -4 -o addr show eth0")
		out, err := exec.CommandContext(ctx, "ssh", args...).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("%s through the bastion: %v: %s", h.Name, err, out)
		}
		if f := strings.Fields(string(out)); len(f) < 3 || f[0] != bastion.Addr || f[2] != h.Addr {
			t.Errorf("%s: SSH_CONNECTION/address %q: want client %s, server %s", h.Name, out, bastion.Addr, h.Addr)
		}
		if !strings.Contains(string(out), " "+h.Addr+"/30 ") {
			t.Errorf("%s: eth0 lacks its address: %q", h.Name, out)
		}
	}
}
