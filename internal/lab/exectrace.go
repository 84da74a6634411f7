package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ExecTrace is what ran on a host while it was traced (TraceExecs): every
// program exec'd under its sshd, grouped by the remote command that started
// it. A remote command is an SSH session's command line, or one command of
// a long-lived shell (a session whose command is "exec /bin/sh", as tend's
// transport keeps): the text the shell read before it forked.
type ExecTrace struct {
	// Commands in the order they started.
	Commands []TracedCommand
	// Sessions is the number of SSH sessions that ran a command.
	Sessions int
	// SSHDExecs counts sshd's own execs (sshd -R, sshd-session, sshd-auth),
	// not in any command's Programs.
	SSHDExecs int
}

// TracedCommand is one remote command and the programs exec'd for it.
type TracedCommand struct {
	// Session is true for a session's own command (its login shell counts
	// among Programs), false for a command of a long-lived shell.
	Session bool
	// Text is the command line: the login shell's -c argument, or what the
	// long-lived shell read.
	Text string
	// Programs are the argv of every successful execve, in order.
	Programs [][]string

	pid int // the process that ran it (session) or forked for it (shell)
}

// Programs is the number of programs exec'd for all commands.
func (t *ExecTrace) Programs() int {
	n := 0
	for _, c := range t.Commands {
		n += len(c.Programs)
	}
	return n
}

// TraceExecs starts strace on the host's sshd, following every process it
// forks from now on, and returns once strace is attached. The function it
// returns stops strace (SIGINT, by its PID: it detaches) and parses what
// was recorded. strace must be installed.
func (h *Host) TraceExecs(t TB) func() *ExecTrace {
	t.Helper()
	pid := h.SSHDPID()
	if pid == 0 {
		t.Fatalf("lab: %s: sshd is not running", h.Name)
	}
	dir, err := os.MkdirTemp("", "tend-exectrace-")
	if err != nil {
		t.Fatalf("lab: exec trace: %v", err)
	}
	cmd := exec.Command("strace", "-ff", "-qq", "-s", "1048576", "-e", "signal=none",
		"-e", "trace=execve,clone,clone3,fork,vfork,read", "-o", filepath.Join(dir, "t"), "-p", strconv.Itoa(pid))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		t.Fatalf("lab: strace: %v", err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Signal(syscall.SIGINT)
			_ = cmd.Wait()
		}
	}
	t.Cleanup(func() { stop(); os.RemoveAll(dir) })
	tracer := regexp.MustCompile(`(?m)^TracerPid:\s*([0-9]+)`)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if m := tracer.FindSubmatch(st); m != nil && string(m[1]) != "0" {
			break
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("lab: strace did not attach to sshd %d", pid)
		}
	}
	return func() *ExecTrace {
		t.Helper()
		stop()
		tr, err := ParseExecTrace(dir, pid)
		if err != nil {
			t.Fatalf("lab: exec trace: %v", err)
		}
		return tr
	}
}

// traceEvent is one recorded syscall of one process.
type traceEvent struct {
	kind  byte     // 'x' successful execve, 'c' fork/clone, 'r' read from fd 0
	argv  []string // 'x'
	child int      // 'c'
	data  string   // 'r'
}

var (
	execLine  = regexp.MustCompile(`^execve\("(?:[^"\\]|\\.)*", \[(.*)\], .*\)\s+= 0$`)
	cloneLine = regexp.MustCompile(`^(?:clone|clone3|fork|vfork)\(.*\)\s+= ([0-9]+)$`)
	readLine  = regexp.MustCompile(`^read\(0, "((?:[^"\\]|\\.)*)"(?:\.\.\.)?, [0-9]+\)\s+= [0-9]+$`)
	argString = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)
)

// ParseExecTrace reads the files strace -ff -o DIR/t wrote while following
// the sshd listener root (TraceExecs).
func ParseExecTrace(dir string, root int) (*ExecTrace, error) {
	files, err := filepath.Glob(filepath.Join(dir, "t.*"))
	if err != nil {
		return nil, err
	}
	events := map[int][]traceEvent{}
	parent := map[int]int{}
	var pids []int
	for _, f := range files {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Ext(f), "."))
		if err != nil {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		pids = append(pids, pid)
		for _, line := range strings.Split(string(b), "\n") {
			switch {
			case strings.HasPrefix(line, "execve("):
				if m := execLine.FindStringSubmatch(line); m != nil {
					var argv []string
					for _, a := range argString.FindAllStringSubmatch(m[1], -1) {
						argv = append(argv, unescapeStrace(a[1]))
					}
					events[pid] = append(events[pid], traceEvent{kind: 'x', argv: argv})
				}
			case strings.HasPrefix(line, "read(0, "):
				if m := readLine.FindStringSubmatch(line); m != nil {
					events[pid] = append(events[pid], traceEvent{kind: 'r', data: unescapeStrace(m[1])})
				}
			default:
				if m := cloneLine.FindStringSubmatch(line); m != nil {
					child, _ := strconv.Atoi(m[1])
					parent[child] = pid
					events[pid] = append(events[pid], traceEvent{kind: 'c', child: child})
				}
			}
		}
	}
	sort.Ints(pids)

	// sshd's side: the listener, its forks that exec nothing else, and
	// sshd's own helper programs.
	isSSHD := func(pid int) bool {
		for _, e := range events[pid] {
			if e.kind == 'x' && len(e.argv) > 0 && !strings.HasPrefix(filepath.Base(e.argv[0]), "sshd") {
				return false
			}
		}
		return true
	}
	sshdSide := map[int]bool{}
	var side func(pid int) bool
	side = func(pid int) bool {
		if v, ok := sshdSide[pid]; ok {
			return v
		}
		v := isSSHD(pid) && (pid == root || (parent[pid] != 0 && side(parent[pid])))
		sshdSide[pid] = v
		return v
	}

	tr := &ExecTrace{}
	cmdOf := map[int]int{} // process → index in tr.Commands of the command it belongs to
	for _, pid := range pids {
		if side(pid) {
			for _, e := range events[pid] {
				if e.kind == 'x' {
					tr.SSHDExecs++
				}
			}
			continue
		}
		if !side(parent[pid]) {
			continue
		}
		// A session: its first exec is the login shell.
		c := TracedCommand{Session: true, pid: pid}
		for _, e := range events[pid] {
			if e.kind == 'x' {
				if len(e.argv) >= 3 && e.argv[1] == "-c" {
					c.Text = e.argv[2]
				} else {
					c.Text = strings.Join(e.argv, " ")
				}
				break
			}
		}
		tr.Sessions++
		tr.Commands = append(tr.Commands, c)
		cmdOf[pid] = len(tr.Commands) - 1
		if c.Text != "exec /bin/sh" {
			continue
		}
		// The long-lived shell: the first fork after a read starts the
		// command it read (a pipeline forks more than once); the text is cut
		// at the command's end-mark trailer.
		var read strings.Builder
		last := -1
		for _, e := range events[pid] {
			switch e.kind {
			case 'x':
				read.Reset() // the login shell's own reads (a .bashrc)
			case 'r':
				read.WriteString(e.data)
			case 'c':
				if read.Len() > 0 || last < 0 {
					text := read.String()
					if i := strings.Index(text, "tend-end-"); i >= 0 {
						if j := strings.LastIndex(text[:i], "\n"); j >= 0 {
							text = text[:j]
						}
					}
					tr.Commands = append(tr.Commands, TracedCommand{Text: text, pid: e.child})
					last = len(tr.Commands) - 1
					read.Reset()
				}
				cmdOf[e.child] = last
			}
		}
	}
	// Every exec outside sshd goes to the command of its nearest ancestor
	// that started one.
	var owner func(pid int) (int, bool)
	owner = func(pid int) (int, bool) {
		for p := pid; p != 0; p = parent[p] {
			if i, ok := cmdOf[p]; ok {
				return i, true
			}
		}
		return 0, false
	}
	for _, pid := range pids {
		if side(pid) {
			continue
		}
		i, ok := owner(pid)
		if !ok {
			continue
		}
		for _, e := range events[pid] {
			if e.kind == 'x' {
				tr.Commands[i].Programs = append(tr.Commands[i].Programs, e.argv)
			}
		}
	}
	// In the order they started (PIDs grow: no wrap in one short trace).
	sort.SliceStable(tr.Commands, func(i, j int) bool { return tr.Commands[i].pid < tr.Commands[j].pid })
	return tr, nil
}

// unescapeStrace decodes a string as strace prints it (C escapes).
func unescapeStrace(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch c := s[i]; c {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'v':
			b.WriteByte('\v')
		case 'f':
			b.WriteByte('\f')
		case 'x':
			if i+2 < len(s) {
				if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
					b.WriteByte(byte(v))
					i += 2
					continue
				}
			}
			b.WriteByte(c)
		default:
			if c >= '0' && c <= '7' {
				j := i
				for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
					j++
				}
				v, _ := strconv.ParseUint(s[i:j], 8, 8)
				b.WriteByte(byte(v))
				i = j - 1
				continue
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}
