package lab

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// TestParseExecTrace reads strace -ff files as TraceExecs records them: sshd
// (100) forks a connection (101, sshd-session), whose sessions are the
// long-lived shell (102: two commands, the second a pipeline forking twice)
// and a command of its own (104); sshd's own execs, failed execs and a
// .bashrc's read before the shell's exec are no command's.
func TestParseExecTrace(t *testing.T) {
	files := map[int]string{
		100: `clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 101
`,
		101: `execve("/usr/lib/openssh/sshd-session", ["sshd-session", "-R"], 0x5 /* 9 vars */) = 0
clone(child_stack=NULL, flags=SIGCHLD) = 102
clone(child_stack=NULL, flags=SIGCHLD) = 104
`,
		102: `execve("/bin/bash", ["bash", "-c", "exec /bin/sh"], 0x5 /* 8 vars */) = 0
read(0, "sshd\n", 4096)                 = 5
execve("/bin/sh", ["/bin/sh"], 0x5 /* 10 vars */) = 0
read(0, "(export TEND_RUN_ID=a; set -- 'x'; eval 'grep \"$1\" f')\nprintf '%s %d\\n' tend-end-1 \"$?\"; printf '%s' tend-end-1 >&2\n", 8192) = 99
vfork()                                 = 103
read(0, "{ printf '%s' 'in' 2>/dev/null; } | (export TEND_RUN_ID=b; exec 'cat')\nprintf '%s %d\\n' tend-end-2 \"$?\"; printf '%s' tend-end-2 >&2\n", 8192) = 120
clone(child_stack=NULL, flags=SIGCHLD) = 105
clone(child_stack=NULL, flags=SIGCHLD) = 106
`,
		103: `clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7, stack_size=0x9000}, 88) = 107
`,
		107: `execve("/usr/local/bin/grep", ["grep", "x", "f"], 0x5 /* 11 vars */) = -1 ENOENT (No such file or directory)
execve("/usr/bin/grep", ["grep", "x", "f"], 0x5 /* 11 vars */) = 0
`,
		105: ``,
		106: `execve("/usr/bin/cat", ["cat"], 0x5 /* 11 vars */) = 0
`,
		104: `execve("/bin/bash", ["bash", "-c", "exec env TEND_RUN_ID=c '/bin/echo' 'a\\nb'"], 0x5 /* 8 vars */) = 0
execve("/usr/bin/env", ["env", "TEND_RUN_ID=c", "/bin/echo", "a\nb\\\"\303\251"], 0x5 /* 8 vars */) = 0
execve("/bin/echo", ["/bin/echo", "a\nb"], 0x5 /* 9 vars */) = 0
`,
	}
	dir := t.TempDir()
	for pid, body := range files {
		if err := os.WriteFile(filepath.Join(dir, "t."+strconv.Itoa(pid)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := ParseExecTrace(dir, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := &ExecTrace{Sessions: 2, SSHDExecs: 1, Commands: []TracedCommand{
		{Session: true, Text: "exec /bin/sh", Programs: [][]string{{"bash", "-c", "exec /bin/sh"}, {"/bin/sh"}}, pid: 102},
		{Text: `(export TEND_RUN_ID=a; set -- 'x'; eval 'grep "$1" f')`, Programs: [][]string{{"grep", "x", "f"}}, pid: 103},
		{Session: true, Text: `exec env TEND_RUN_ID=c '/bin/echo' 'a\nb'`, Programs: [][]string{
			{"bash", "-c", `exec env TEND_RUN_ID=c '/bin/echo' 'a\nb'`}, {"env", "TEND_RUN_ID=c", "/bin/echo", "a\nb\\\"é"}, {"/bin/echo", "a\nb"}}, pid: 104},
		{Text: `{ printf '%s' 'in' 2>/dev/null; } | (export TEND_RUN_ID=b; exec 'cat')`, Programs: [][]string{{"cat"}}, pid: 105},
	}}
	if !reflect.DeepEqual(tr, want) {
		t.Errorf("got  %#v\nwant %#v", tr, want)
	}
	if n := tr.Programs(); n != 7 {
		t.Errorf("Programs() = %d, want 7", n)
	}
}
