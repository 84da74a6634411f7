package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"tend/internal/lab"
	"tend/runner"
)

// activeMQ is Debian's ActiveMQ 5.17 (package activemq, which
// scripts/test.sh installs) running inside one lab host: started with the
// package's own /etc/init.d/activemq over the host's sshd, so it lives in
// the host's network namespace. Its pid directory (/run/activemq) and its
// data, log and tmp directory (/var/lib/activemq) are per-host directories
// bind-mounted in the host's mount namespace, so brokers of tests running
// at once never share a pidfile or a KahaDB lock, and both go with the lab.
type activeMQ struct {
	*lab.Lab
	h         *lab.Host
	dir       string       // per-host directory: run/ and lib/ (removed with the lab)
	inventory string       // the lab's inventory file
	seen      map[int]bool // every broker PID seen, killed at cleanup
}

// startActiveMQ brings up a one-host lab running the real broker and waits
// until it greets on 127.0.0.1:61616.
func startActiveMQ(t *testing.T) *activeMQ {
	t.Helper()
	if _, err := os.Stat("/etc/init.d/activemq"); err != nil {
		t.Fatalf("Debian's activemq is not installed (scripts/test.sh installs it: apt-get install activemq): %v", err)
	}
	u, err := user.Lookup("activemq")
	if err != nil {
		t.Fatalf("activemq user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	l := lab.New(t, 1, lab.WithOverlayEtc())
	a := &activeMQ{Lab: l, h: l.Hosts[0], dir: filepath.Join(l.Dir, "activemq"), inventory: l.WriteInventory(t), seen: map[int]bool{}}
	// Registered after the lab: runs before its teardown.
	t.Cleanup(a.kill)
	for _, d := range []string{"run", "lib/main", "empty"} {
		if err := os.MkdirAll(filepath.Join(a.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"run", "lib", "lib/main"} {
		if err := os.Chown(filepath.Join(a.dir, d), uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	// Mount points (what the package's init script would create anyway).
	for _, d := range []string{"/run/activemq", "/var/lib/activemq"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// On a machine run by systemd, the host hides /run/systemd: Debian's
	// init-functions would hand /etc/init.d/activemq to systemctl, which
	// starts the broker in this machine's namespaces instead of the host's.
	setup := fmt.Sprintf(`set -e
mount --bind %s /run/activemq
mount --bind %s /var/lib/activemq
if [ -d /run/systemd/system ]; then mount --bind %s /run/systemd; fi
ln -sfn ../instances-available/main /etc/activemq/instances-enabled/main
/etc/init.d/activemq start`, shellQuote(filepath.Join(a.dir, "run")), shellQuote(filepath.Join(a.dir, "lib")), shellQuote(filepath.Join(a.dir, "empty")))
	if out, stderr, err := l.SSH(context.Background(), a.h, setup); err != nil {
		t.Fatalf("start activemq: %v\n%s%s", err, out, stderr)
	}
	a.pid(t)
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		conns, err := a.greeted(1)
		closeAll(conns)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("activemq does not greet on 127.0.0.1:61616 in %s: %v\n%s", a.h.Name, err, a.log())
		}
	}
	return a
}

// pid is the broker's PID from its pidfile.
func (a *activeMQ) pid(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(a.dir, "run", "main.pid"))
	if err != nil {
		t.Fatalf("activemq pidfile: %v\n%s", err, a.log())
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("activemq pidfile: %v", err)
	}
	a.seen[pid] = true
	return pid
}

// log is the tail of the broker's log, to explain a failure.
func (a *activeMQ) log() string {
	b, _ := os.ReadFile(filepath.Join(a.dir, "lib", "main", "data", "activemq.log"))
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// isBroker reports whether pid is (still) an ActiveMQ JVM.
func isBroker(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(b), "activemq")
}

// procState is the state letter of /proc/PID/stat ("T": stopped), "" when gone.
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i > 0 && i+2 < len(s) {
		return s[i+2 : i+3]
	}
	return ""
}

// kill kills (by PID) every broker the test saw, stopped ones included,
// and removes the JVM's perf-data file that a SIGKILL leaves in /tmp.
func (a *activeMQ) kill() {
	if b, err := os.ReadFile(filepath.Join(a.dir, "run", "main.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			a.seen[pid] = true
		}
	}
	for pid := range a.seen {
		if isBroker(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
			for i := 0; i < 100 && procState(pid) != "" && procState(pid) != "Z"; i++ {
				time.Sleep(50 * time.Millisecond)
			}
		}
		os.Remove(fmt.Sprintf("/tmp/hsperfdata_activemq/%d", pid))
	}
}

// greeted opens n connections to the broker from inside the host's network
// namespace and reads each one's whole OpenWire WireFormatInfo (closing
// with unread data would send a reset instead of a FIN).
func (a *activeMQ) greeted(n int) ([]net.Conn, error) {
	conns, err := dialInNetns(a.h.NS, "127.0.0.1:61616", n)
	if err != nil {
		return nil, err
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		var size [4]byte
		if _, err := io.ReadFull(c, size[:]); err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("read greeting: %w", err)
		}
		body := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(c, body); err != nil || len(body) < 9 || body[0] != 1 || string(body[1:9]) != "ActiveMQ" {
			closeAll(conns)
			return nil, fmt.Errorf("no WireFormatInfo greeting: %q %v", body, err)
		}
	}
	return conns, nil
}

// freezeWithCloseWait makes the incident for real: n clients read the
// broker's greeting, the JVM is frozen with SIGSTOP, then the clients
// close, so the broker holds n sockets in CLOSE_WAIT for as long as it
// stays stopped (a running broker closes them within a second).
func (a *activeMQ) freezeWithCloseWait(t *testing.T, n int) int {
	t.Helper()
	pid := a.pid(t)
	conns, err := a.greeted(n)
	if err != nil {
		t.Fatalf("clients: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		closeAll(conns)
		t.Fatal(err)
	}
	closeAll(conns)
	for i := 0; closeWait(t, a.h) < n; i++ {
		if i == 100 {
			t.Fatalf("%d CLOSE_WAIT after %d clients closed on the stopped broker", closeWait(t, a.h), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return pid
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// dialInNetns connects n times to addr from inside the network namespace
// ns: a goroutine locks its thread, moves it into ns, dials, and moves it
// back before unlocking it. The thread must not end (a goroutine that exits
// locked ends it): the lab's processes die with the thread that started
// them (Pdeathsig). The sockets stay in ns.
func dialInNetns(ns, addr string, n int) ([]net.Conn, error) {
	type result struct {
		conns []net.Conn
		err   error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		defer self.Close()
		f, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("setns %s: %w", ns, err)}
			return
		}
		defer func() {
			// Back home, or the thread stays locked and ends with the goroutine.
			if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
				runtime.UnlockOSThread()
			}
		}()
		var conns []net.Conn
		for i := 0; i < n; i++ {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				closeAll(conns)
				ch <- result{err: err}
				return
			}
			conns = append(conns, c)
		}
		ch <- result{conns: conns}
	}()
	r := <-ch
	return r.conns, r.err
}

// tend runs the shipped runbook on the broker's host.
func (a *activeMQ) tend(t *testing.T, args ...string) ([]event, int) {
	t.Helper()
	base := []string{"run", "mq-closewait", "-i", a.inventory, "--known-hosts", a.KnownHosts, "--format", "json",
		"--lock-file", filepath.Join(a.Dir, "run.lock"), "-e", "closewait_threshold=5"}
	stdout, _, code := tendRun(t, append(base, args...)...)
	return parseEvents(t, stdout), code
}

// TestActiveMQRunbook runs the shipped runbook against Debian's real
// ActiveMQ holding 12 CLOSE_WAIT sockets while frozen: detection names java
// with its PID and fds, the dry run changes nothing, the restart (through
// /etc/init.d with manager sysv, then through `manager: command`) waits for
// the port and the broker's greeting, verification sees the count fall and
// a new PID, and a second run changes nothing.
func TestActiveMQRunbook(t *testing.T) {
	a := startActiveMQ(t)
	h := a.h
	const clients = 12
	for _, tc := range []struct {
		route string
		args  []string
	}{
		{"sysv", []string{"-e", "mq_service_manager=sysv"}},
		{"command", []string{"-e", "mq_service_manager=command", "-e", `mq_restart_command="service activemq restart"`}},
	} {
		t.Run(tc.route, func(t *testing.T) {
			old := a.freezeWithCloseWait(t, clients)
			t.Cleanup(func() { // a failed restart leaves it frozen: thaw it for the next case
				if procState(old) == "T" {
					syscall.Kill(old, syscall.SIGCONT)
				}
			})

			events, code := a.tend(t, append([]string{"--check", "--detailed-exitcode"}, tc.args...)...)
			if code != exitChanged {
				t.Fatalf("check: exit %d, want %d", code, exitChanged)
			}
			count := findTask(t, events, h.Name, countTask).Change
			if hs, _ := count.Data["holders"].([]any); len(hs) == 0 {
				t.Errorf("detection names no holder: %s", count.Summary)
			} else if hd := hs[0].(map[string]any); hd["command"] != "java" || hd["pid"] != float64(old) ||
				hd["close_wait"] != float64(clients) || hd["fds"].(float64) < clients {
				t.Errorf("holder %v, want java pid %d holding %d CLOSE_WAIT", hd, old, clients)
			}
			if want := fmt.Sprintf("CLOSE_WAIT on :61616 held by java (pid %d): ", old); !strings.Contains(count.Summary, want) {
				t.Errorf("detection %q, want %q", count.Summary, want)
			}
			// The frozen broker accepts (the kernel does) but does not greet.
			restart := findTask(t, events, h.Name, mqRestart)
			if want := fmt.Sprintf("would restart activemq (pid %d): 127.0.0.1:61616 accepts but sent no ActiveMQ greeting", old); restart.Status != runner.StatusChanged || restart.Change.Summary != want {
				t.Errorf("planned restart: %s %q\nwant %q", restart.Status, restart.Change.Summary, want)
			}
			// mq_greeting="" turns the greeting off: accepting is enough then.
			events, _ = a.tend(t, append([]string{"--check", "-e", `mq_greeting=""`}, tc.args...)...)
			if want := fmt.Sprintf("would restart activemq (pid %d): 127.0.0.1:61616 accepts", old); findTask(t, events, h.Name, mqRestart).Change.Summary != want {
				t.Errorf("planned restart without greeting: %q\nwant %q", findTask(t, events, h.Name, mqRestart).Change.Summary, want)
			}
			if pid := a.pid(t); pid != old || procState(old) != "T" || closeWait(t, h) < clients {
				t.Errorf("the dry run touched the broker: pid %d (was %d), state %q, %d CLOSE_WAIT", pid, old, procState(old), closeWait(t, h))
			}

			events, code = a.tend(t, tc.args...)
			if code != 0 {
				t.Fatalf("apply: exit %d, want 0", code)
			}
			newPID := a.pid(t)
			restart = findTask(t, events, h.Name, mqRestart)
			if want := fmt.Sprintf("restarted activemq: pid %d -> %d; 127.0.0.1:61616 accepts, ActiveMQ greeting seen", old, newPID); restart.Change.Summary != want {
				t.Errorf("restart: %q\nwant %q", restart.Change.Summary, want)
			}
			if newPID == old || isBroker(old) || !isBroker(newPID) || procState(newPID) == "T" {
				t.Errorf("broker pid %d -> %d: old alive %v, new running %v", old, newPID, isBroker(old), procState(newPID))
			}
			after := findTask(t, events, h.Name, "Count CLOSE_WAIT sockets again")
			if after.Phase != runner.PhaseVerify || after.Change.Data["count"] != float64(0) {
				t.Errorf("verification count: %s %v, want 0", after.Phase, after.Change.Data["count"])
			}
			for _, task := range []string{"The MQ listens on the MQ port", "CLOSE_WAIT at or below the threshold", "A restarted MQ has a new PID"} {
				if r := findTask(t, events, h.Name, task); r.Status != runner.StatusOK {
					t.Errorf("verify %q: %s %s", task, r.Status, r.Change.Msg)
				}
			}
			// ss agrees. A probe that tend's wait closed before the starting
			// broker greeted may linger in CLOSE_WAIT until the broker gets to
			// it: wait for that, not for the frozen broker's, which died with it.
			for i := 0; closeWait(t, h) != 0; i++ {
				if i == 100 {
					t.Errorf("%d CLOSE_WAIT 10s after the restart (ss), want 0", closeWait(t, h))
					break
				}
				time.Sleep(100 * time.Millisecond)
			}

			if _, code := a.tend(t, append([]string{"--detailed-exitcode"}, tc.args...)...); code != 0 {
				t.Errorf("second run: exit %d, want 0 (nothing to change)", code)
			}
			if pid := a.pid(t); pid != newPID {
				t.Errorf("second run restarted the broker: pid %d -> %d", newPID, pid)
			}
		})
	}
}
