package lab

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long Stop waits after SIGTERM before sending SIGKILL.
const stopGrace = 3 * time.Second

// Proc is a process the lab started inside a host's namespaces (a stand-in
// service, or the lab's own sshd). It runs in its own process group and
// receives SIGKILL if the starting process dies, so a crashed test leaves
// no listener behind.
type Proc struct {
	PID     int    // process ID, also its process group ID
	LogPath string // file receiving its stdout and stderr ("" if discarded)

	cmd     *exec.Cmd
	done    chan struct{} // closed once the process has been waited for
	waitErr error
	stop    sync.Once
}

// spawn starts cmd in a new process group with a parent-death signal and
// reaps it in the background.
func spawn(cmd *exec.Cmd) (*Proc, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{PID: cmd.Process.Pid, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// spawnLogged starts argv with stdout and stderr appended to logPath.
func spawnLogged(argv []string, logPath string) (*Proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the child holds its own copy
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	p, err := spawn(cmd)
	if err != nil {
		return nil, err
	}
	p.LogPath = logPath
	return p, nil
}

// Exited reports whether the process has ended (and been waited for).
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Output returns what the process has written so far.
func (p *Proc) Output() string {
	if p.LogPath == "" {
		return ""
	}
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

// Stop ends the process group: SIGTERM, then SIGKILL after a grace period,
// and waits for the process. It is idempotent and returns nil when the
// process was stopped by the lab; a process that had already exited returns
// its exit error.
func (p *Proc) Stop() error {
	p.stop.Do(func() {
		if p.Exited() {
			return
		}
		syscall.Kill(-p.PID, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			syscall.Kill(-p.PID, syscall.SIGKILL)
			<-p.done
		}
		p.waitErr = nil
	})
	<-p.done
	return p.waitErr
}

// procStat is the part of /proc/PID/stat the lab needs.
type procStat struct {
	ppid   int
	zombie bool
}

// readStat parses /proc/PID/stat; ok is false if the process is gone.
func readStat(pid int) (st procStat, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return st, false
	}
	// The command name is parenthesised and may contain anything: split after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return st, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return st, false
	}
	st.zombie = f[0] == "Z" || f[0] == "X"
	st.ppid, _ = strconv.Atoi(f[1])
	return st, true
}

// allPIDs lists the numeric entries of /proc.
func allPIDs() []int {
	entries, _ := os.ReadDir("/proc")
	pids := make([]int, 0, len(entries))
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// pidsInNetns returns the PIDs whose network namespace is one of the named
// namespaces (like `ip netns pids`, for many namespaces in one /proc scan).
func pidsInNetns(names []string) []int {
	want := map[uint64]bool{}
	for _, ns := range names {
		var st syscall.Stat_t
		if syscall.Stat(filepath.Join(netnsDir, ns), &st) == nil {
			want[st.Ino] = true
		}
	}
	if len(want) == 0 {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, pid := range allPIDs() {
		var st syscall.Stat_t
		if pid == self || syscall.Stat("/proc/"+strconv.Itoa(pid)+"/ns/net", &st) != nil {
			continue
		}
		if want[st.Ino] {
			pids = append(pids, pid)
		}
	}
	return pids
}

// descendants returns every live descendant of pid.
func descendants(pid int) []int {
	children := map[int][]int{}
	for _, p := range allPIDs() {
		if st, ok := readStat(p); ok && !st.zombie {
			children[st.ppid] = append(children[st.ppid], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		c := children[queue[0]]
		queue = append(queue[1:], c...)
		out = append(out, c...)
	}
	return out
}

// errStillRunning is returned when killed processes outlive killAndWait.
var errStillRunning = errors.New("processes still running after SIGKILL")

// killAndWait signals each PID and waits (bounded) until none is left
// running; zombies count as gone, since their reaper may not be us.
func killAndWait(pids []int, sig syscall.Signal) error {
	for _, pid := range pids {
		syscall.Kill(pid, sig)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for {
			st, ok := readStat(pid)
			if !ok || st.zombie {
				break
			}
			if time.Now().After(deadline) {
				return errStillRunning
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}
