package lab

import (
	"context"
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
)

// gone reports whether pid no longer runs (a zombie counts as gone).
func gone(pid int) bool {
	st, ok := readStat(pid)
	return !ok || st.zombie
}

func TestTeardownLeavesNothing(t *testing.T) {
	t.Parallel()
	type leftovers struct {
		// namespaces by name and inode: a parallel test's lab may take the
		// same name at once, but its namespace is another inode.
		ns map[string]uint64
		// a host's /etc/netns directory by path and inode, when it had one:
		// a parallel lab taking the same name makes another directory.
		etcDirs map[string]uint64
		paths   []string
		pids    []int
		// veths by interface index: a name can be taken again at once by a
		// parallel test's lab, an index is not reused.
		veths map[int]string
	}
	lo := leftovers{veths: map[int]string{}, ns: map[string]uint64{}, etcDirs: map[string]uint64{}}
	for _, overlay := range []bool{false, true} {
		t.Run(fmt.Sprintf("overlay=%v", overlay), func(t *testing.T) {
			var opts []Option
			if overlay {
				opts = append(opts, WithOverlayEtc())
			}
			l := New(t, 3, opts...)
			var pids []int
			lo.paths = append(lo.paths, l.Dir, l.res.path)
			for _, h := range l.Hosts {
				p := h.Start(t, "sleep", "1000")
				var st syscall.Stat_t
				if err := syscall.Stat(filepath.Join(netnsDir, h.NS), &st); err != nil {
					t.Fatalf("%s: namespace %s: %v", h.Name, h.NS, err)
				}
				lo.ns[h.NS+"@"+strconv.FormatUint(st.Ino, 10)] = st.Ino
				iface, err := net.InterfaceByName(h.veth)
				if err != nil {
					t.Fatalf("%s: veth %s: %v", h.Name, h.veth, err)
				}
				lo.veths[iface.Index] = h.veth
				if dir := filepath.Join(etcNetns, h.NS); syscall.Stat(dir, &st) == nil {
					lo.etcDirs[dir] = st.Ino
				}
				pids = append(pids, p.PID, h.sshd.PID)
				if h.holder != nil {
					pids = append(pids, h.holder.PID)
					mi, _ := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", h.holder.PID))
					if !strings.Contains(string(mi), "upperdir="+h.EtcDir) {
						t.Errorf("%s: no overlay in the holder's mountinfo", h.Name)
					}
				}
			}
			// A daemon started over ssh escapes sshd's process tree: the
			// namespace sweep must still get it.
			out := sshOK(t, l, l.Hosts[0], "setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $!")
			pid, err := strconv.Atoi(strings.TrimSpace(out))
			if err != nil {
				t.Fatalf("daemon pid %q", out)
			}
			pids = append(pids, pid)
			lo.pids = append(lo.pids, pids...)
			for _, p := range pids {
				if gone(p) {
					t.Fatalf("pid %d not running before teardown", p)
				}
			}
		})
	}
	if len(lo.ns) != 6 {
		t.Fatalf("subtests recorded %d namespaces", len(lo.ns))
	}
	if len(lo.etcDirs) == 0 {
		t.Fatal("no host had an /etc/netns directory to check")
	}
	for key, ino := range lo.ns {
		name, _, _ := strings.Cut(key, "@")
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(netnsDir, name), &st); err == nil && st.Ino == ino {
			t.Errorf("namespace %s (inode %d) remains", name, ino)
		}
	}
	for idx, v := range lo.veths {
		if _, err := net.InterfaceByIndex(idx); err == nil {
			t.Errorf("veth %s (index %d) remains", v, idx)
		}
	}
	for dir, ino := range lo.etcDirs {
		var st syscall.Stat_t
		if err := syscall.Stat(dir, &st); err == nil && st.Ino == ino {
			t.Errorf("%s (inode %d) remains", dir, ino)
		}
	}
	for _, p := range lo.paths {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s remains", p)
		}
	}
	for _, p := range lo.pids {
		if !gone(p) {
			t.Errorf("pid %d still running", p)
		}
	}
	// No mount namespace anywhere still holds an overlay of these labs.
	for _, pid := range allPIDs() {
		mi, _ := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
		for _, dir := range lo.paths {
			if strings.Contains(string(mi), dir+"/") {
				t.Errorf("pid %d still has a mount under %s", pid, dir)
			}
		}
	}
}

func TestNewRemovesStaleStateOfDeadPIDsOnly(t *testing.T) {
	// Not parallel: it creates namespaces by hand under names New inspects.
	if os.Geteuid() != 0 {
		New(t, 1) // fails, or skips under TEND_LAB=skip
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadPID := dead.Process.Pid
	if pidAlive(deadPID) {
		t.Skipf("pid %d was reused already", deadPID)
	}
	staleNS := fmt.Sprintf("tend-%d-99999", deadPID)
	liveNS := fmt.Sprintf("tend-%d-99999", os.Getpid()) // a live pid: must be kept
	for _, ns := range []string{staleNS, liveNS} {
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v: %s", ns, err, out)
		}
		if err := os.MkdirAll(filepath.Join(etcNetns, ns), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, ns := range []string{staleNS, liveNS} {
			exec.Command("ip", "netns", "del", ns).Run()
			os.RemoveAll(filepath.Join(etcNetns, ns))
		}
	})
	// A process left in the stale namespace, as a crashed run's sshd would be.
	sleeper := exec.Command("ip", "netns", "exec", staleNS, "sleep", "1000")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sleeper.Wait() }()
	t.Cleanup(func() { sleeper.Process.Kill() })
	// ip enters the namespace, then execs sleep in the same process: wait
	// for that (a fixed sleep is too short on a loaded machine).
	for i := 0; ; i++ {
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", sleeper.Process.Pid)); strings.TrimSpace(string(comm)) == "sleep" {
			break
		}
		if i == 500 {
			t.Fatal("ip netns exec did not start sleep within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}

	New(t, 1)

	for _, p := range []string{filepath.Join(netnsDir, staleNS), filepath.Join(etcNetns, staleNS)} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("stale %s not removed", p)
		}
	}
	for _, p := range []string{filepath.Join(netnsDir, liveNS), filepath.Join(etcNetns, liveNS)} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("live pid's %s touched: %v", p, err)
		}
	}
	select {
	case err := <-exited:
		if ws, ok := sleeper.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Errorf("process in stale namespace ended with %v, want SIGKILL", err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("process in stale namespace still running")
	}
}

// iterTB runs a lab's cleanups at the end of one benchmark iteration.
type iterTB struct {
	*testing.B
	cleanups []func()
}

func (t *iterTB) Cleanup(f func()) { t.cleanups = append(t.cleanups, f) }

func (t *iterTB) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	t.cleanups = nil
}

// BenchmarkNew measures building (and tearing down) labs of 3 and 50 hosts;
// it logs the time New alone takes.
func BenchmarkNew(b *testing.B) {
	for _, n := range []int{3, 50} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				tb := &iterTB{B: b}
				start := time.Now()
				l := New(tb, n)
				b.Logf("New(%d): %v", n, time.Since(start))
				if _, _, err := l.SSH(context.Background(), l.Hosts[n-1], "true"); err != nil {
					b.Fatal(err)
				}
				start = time.Now()
				tb.done()
				b.Logf("teardown(%d): %v", n, time.Since(start))
			}
		})
	}
}
