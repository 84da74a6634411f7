package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// sshOK runs command on h over the OpenSSH client and fails the test on error.
func sshOK(t *testing.T, l *Lab, h *Host, command string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, errOut, err := l.SSH(ctx, h, command)
	if err != nil {
		t.Fatalf("ssh %s %q: %v: %s", h.Name, command, err, errOut)
	}
	return out
}

func execOK(t *testing.T, h *Host, argv ...string) string {
	t.Helper()
	out, _, err := h.Exec(context.Background(), argv...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSSHLoginReachesEachHost(t *testing.T) {
	t.Parallel()
	l := New(t, 3)
	if len(l.Hosts) != 3 {
		t.Fatalf("got %d hosts", len(l.Hosts))
	}
	for _, h := range l.Hosts {
		marker := "# marker of " + h.Name + " " + h.NS + "\n"
		if err := os.WriteFile(filepath.Join(h.EtcDir, "sysctl.conf"), []byte(marker), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range l.Hosts {
		if v := strings.TrimSpace(sshOK(t, l, h, "cat /proc/sys/net/ipv4/tcp_fin_timeout")); v == "" {
			t.Errorf("%s: empty tcp_fin_timeout", h.Name)
		} else if _, err := strconv.Atoi(v); err != nil {
			t.Errorf("%s: tcp_fin_timeout %q", h.Name, v)
		}
		addrs := sshOK(t, l, h, "ip -4 -o addr")
		if !strings.Contains(addrs, " "+h.Addr+"/30 ") {
			t.Errorf("%s: own address %s missing from:\n%s", h.Name, h.Addr, addrs)
		}
		for _, o := range l.Hosts {
			if o != h && strings.Contains(addrs, " "+o.Addr+"/") {
				t.Errorf("%s sees %s's address %s: wrong namespace", h.Name, o.Name, o.Addr)
			}
		}
		if got, want := sshOK(t, l, h, "cat /etc/sysctl.conf"), "# marker of "+h.Name+" "+h.NS+"\n"; got != want {
			t.Errorf("%s: /etc/sysctl.conf = %q, want %q", h.Name, got, want)
		}
		if got, want := strings.TrimSpace(sshOK(t, l, h, `echo "$HOME"`)), filepath.Join(l.Dir, h.Name, "root"); got != want {
			t.Errorf("%s: HOME = %q, want %q", h.Name, got, want)
		}
		// both neighbour entries pinned: no ARP, no neighbour-table overflow at 1,000 hosts
		if got := sshOK(t, l, h, "ip neigh show dev eth0"); !strings.Contains(got, h.gw+" lladdr "+h.gwMAC+" PERMANENT") {
			t.Errorf("%s: gateway %s not pinned to %s: %q", h.Name, h.gw, h.gwMAC, got)
		}
		out, err := exec.Command("ip", "neigh", "show", "dev", h.veth).CombinedOutput()
		if err != nil || !strings.Contains(string(out), h.Addr+" lladdr 02:74:65:01:") || !strings.Contains(string(out), "PERMANENT") {
			t.Errorf("%s: root side's entry for %s not pinned: %q %v", h.Name, h.Addr, out, err)
		}
	}
	kh, err := os.ReadFile(l.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(kh), "\n"); got != 3 || !strings.HasPrefix(string(kh), l.Hosts[0].Addr+" ssh-ed25519 ") {
		t.Errorf("known_hosts:\n%s", kh)
	}
}

func TestSysctlWriteStaysInNamespace(t *testing.T) {
	t.Parallel()
	l := New(t, 2)
	rootB, err := os.ReadFile("/proc/sys/net/ipv4/tcp_fin_timeout")
	if err != nil {
		t.Fatal(err)
	}
	root := strings.TrimSpace(string(rootB))
	want := "33"
	if root == want {
		want = "34"
	}
	h1, h2 := l.Hosts[0], l.Hosts[1]
	execOK(t, h1, "sysctl", "-w", "net.ipv4.tcp_fin_timeout="+want)
	if got := strings.TrimSpace(execOK(t, h1, "cat", "/proc/sys/net/ipv4/tcp_fin_timeout")); got != want {
		t.Errorf("%s: tcp_fin_timeout = %s after sysctl -w, want %s", h1.Name, got, want)
	}
	if got := strings.TrimSpace(sshOK(t, l, h1, "cat /proc/sys/net/ipv4/tcp_fin_timeout")); got != want {
		t.Errorf("%s over ssh: tcp_fin_timeout = %s, want %s", h1.Name, got, want)
	}
	if got := strings.TrimSpace(execOK(t, h2, "cat", "/proc/sys/net/ipv4/tcp_fin_timeout")); got == want {
		t.Errorf("%s: sysctl written on %s leaked here", h2.Name, h1.Name)
	}
	rootNow, _ := os.ReadFile("/proc/sys/net/ipv4/tcp_fin_timeout")
	if got := strings.TrimSpace(string(rootNow)); got != root {
		t.Errorf("root namespace tcp_fin_timeout changed from %s to %s", root, got)
	}
}

func dialErr(h *Host, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(h.Addr, strconv.Itoa(h.Port)), timeout)
	if err == nil {
		c.Close()
	}
	return err
}

// waitFor polls cond until it holds or d has passed.
func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// hasDescendant reports whether a descendant of pid runs a command named comm.
func hasDescendant(pid int, comm string) bool {
	for _, d := range descendants(pid) {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", d)); strings.TrimSpace(string(b)) == comm {
			return true
		}
	}
	return false
}

func TestStopStartSSHDAndBlackhole(t *testing.T) {
	t.Parallel()
	l := New(t, 2)
	h := l.Hosts[0]
	h.StopSSHD(t)
	if err := dialErr(h, 2*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("after StopSSHD: dial error %v, want connection refused", err)
	}
	sshOK(t, l, l.Hosts[1], "true") // the other host is unaffected
	h.StartSSHD(t)
	sshOK(t, l, h, "true")

	h.Blackhole(t)
	var ne net.Error
	if err := dialErr(h, 300*time.Millisecond); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("after Blackhole: dial error %v, want a timeout", err)
	}
	h.Unblackhole(t)
	sshOK(t, l, h, "true")

	// KillSessions drops an established session; the listener stays.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	long := exec.CommandContext(ctx, "ssh", append(l.SSHArgs(), "--", "root@"+h.Addr, "sleep 60")...)
	if err := long.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitFor(10*time.Second, func() bool { return hasDescendant(h.sshd.PID, "sleep") }) {
		t.Fatalf("remote sleep never started")
	}
	start := time.Now()
	h.KillSessions(t)
	if err := long.Wait(); err == nil {
		t.Errorf("ssh session survived KillSessions")
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("session took %v to drop", d)
	}
	sshOK(t, l, h, "true")
}

func TestRenameOverSysctlConf(t *testing.T) {
	t.Parallel()
	t.Run("bind mount: EBUSY", func(t *testing.T) {
		t.Parallel()
		l := New(t, 1)
		h := l.Hosts[0]
		tmp := "/etc/.tend-lab-test-" + h.NS // lands in this machine's real /etc: removed below
		t.Cleanup(func() { os.Remove(tmp) })
		_, errOut, err := l.SSH(context.Background(), h,
			"cp /etc/sysctl.conf "+tmp+" && mv "+tmp+" /etc/sysctl.conf; rc=$?; rm -f "+tmp+"; exit $rc")
		if err == nil {
			t.Fatalf("mv over bind-mounted /etc/sysctl.conf succeeded")
		}
		if !strings.Contains(errOut, "Device or resource busy") {
			t.Errorf("mv failed without EBUSY: %v: %s", err, errOut)
		}
	})
	t.Run("overlay: rename works", func(t *testing.T) {
		t.Parallel()
		l := New(t, 2, WithOverlayEtc())
		h := l.Hosts[0]
		realConf, _ := os.ReadFile("/etc/sysctl.conf")
		sshOK(t, l, h, "printf 'net.ipv4.tcp_fin_timeout = 31\\n' > /etc/.tend-new && mv /etc/.tend-new /etc/sysctl.conf")
		want := "net.ipv4.tcp_fin_timeout = 31\n"
		if got := sshOK(t, l, h, "cat /etc/sysctl.conf"); got != want {
			t.Errorf("after mv, /etc/sysctl.conf = %q", got)
		}
		if got := execOK(t, h, "cat", "/etc/sysctl.conf"); got != want {
			t.Errorf("Exec sees /etc/sysctl.conf = %q", got)
		}
		if got, _ := os.ReadFile(filepath.Join(h.EtcDir, "sysctl.conf")); string(got) != want {
			t.Errorf("EtcDir/sysctl.conf = %q", got)
		}
		if got := sshOK(t, l, l.Hosts[1], "cat /etc/sysctl.conf"); got != defaultSysctlConf {
			t.Errorf("other host's /etc/sysctl.conf = %q", got)
		}
		if now, _ := os.ReadFile("/etc/sysctl.conf"); string(now) != string(realConf) {
			t.Errorf("this machine's /etc/sysctl.conf changed")
		}
		if _, err := os.Stat("/etc/.tend-new"); err == nil {
			t.Errorf("temp file leaked into this machine's /etc")
		}
		if got := strings.TrimSpace(sshOK(t, l, h, `echo "$HOME"`)); got != filepath.Join(h.dir, "root") {
			t.Errorf("HOME = %q: per-host passwd not in the overlay", got)
		}
	})
}

func TestRegenerateHostKey(t *testing.T) {
	t.Parallel()
	l := New(t, 1)
	h := l.Hosts[0]
	old := h.HostKeyPub
	h.RegenerateHostKey(t)
	if h.HostKeyPub == old || !strings.HasPrefix(h.HostKeyPub, "ssh-ed25519 ") {
		t.Fatalf("HostKeyPub %q after regenerate (old %q)", h.HostKeyPub, old)
	}
	_, errOut, err := l.SSH(context.Background(), h, "true")
	if err == nil || !strings.Contains(errOut, "REMOTE HOST IDENTIFICATION HAS CHANGED") {
		t.Errorf("ssh with the old known_hosts: %v: %s", err, errOut)
	}
	if err := os.WriteFile(l.KnownHosts, []byte(l.KnownHostsText()), 0o600); err != nil {
		t.Fatal(err)
	}
	sshOK(t, l, h, "true")
}

func TestStartRunsInsideHost(t *testing.T) {
	t.Parallel()
	l := New(t, 1)
	h := l.Hosts[0]
	p := h.Start(t, "sh", "-c", "echo started; exec sleep 1000")
	var nsSt, procSt syscall.Stat_t
	if err := syscall.Stat(filepath.Join(netnsDir, h.NS), &nsSt); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", p.PID), &procSt); err != nil {
		t.Fatal(err)
	}
	if nsSt.Ino != procSt.Ino {
		t.Errorf("process %d is not in namespace %s", p.PID, h.NS)
	}
	if !waitFor(5*time.Second, func() bool { return strings.Contains(p.Output(), "started") }) {
		t.Errorf("output %q", p.Output())
	}
	if err := p.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if !p.Exited() || pidAlive(p.PID) {
		t.Errorf("process %d still running after Stop", p.PID)
	}
}

func TestInventoryYAML(t *testing.T) {
	t.Parallel()
	l := New(t, 3)
	var inv struct {
		All struct {
			Hosts map[string]map[string]any `yaml:"hosts"`
		} `yaml:"all"`
	}
	data, err := os.ReadFile(l.WriteInventory(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &inv); err != nil {
		t.Fatal(err)
	}
	if len(inv.All.Hosts) != 3 {
		t.Fatalf("inventory:\n%s", data)
	}
	for _, h := range l.Hosts {
		v := inv.All.Hosts[h.Name]
		if v["ansible_host"] != h.Addr || v["ansible_user"] != "root" ||
			v["ansible_ssh_private_key_file"] != l.ClientKey || v["ansible_port"] != 22 ||
			v["tend_state_dir"] != filepath.Join(l.Dir, "state", h.Name) {
			t.Errorf("%s: %v", h.Name, v)
		}
	}
}
