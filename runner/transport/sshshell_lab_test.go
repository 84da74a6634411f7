package transport

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"tend/internal/lab"
)

// TestLabSharedShell: commands without stdin run one after another in the
// connection's long-lived shell (the same process session on the host),
// exactly as they would on sessions of their own; OwnSession, and stdin
// too large or with NUL bytes, still get a session; a timed-out command is killed and the shell goes on.
func TestLabSharedShell(t *testing.T) {
	l := lab.New(t, 1)
	c := dialOK(t, labConfig(l, l.Hosts[0]))
	ctx := context.Background()
	parent := func(cmd Command) string {
		t.Helper()
		// The session ID: sshd starts every session's process in a new
		// one; the shell's commands stay in the shell's.
		cmd.Argv = []string{"/bin/sh", "-c", `read -r pid comm state ppid pgrp sid rest < /proc/$$/stat; echo "$sid"`}
		res, err := c.Run(ctx, cmd)
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("session id: %v %+v", err, res)
		}
		return strings.TrimSpace(string(res.Stdout))
	}
	shell := parent(Command{})
	if again := parent(Command{Timeout: time.Minute}); again != shell {
		t.Fatalf("second command ran under %s, the first under %s: not the same shell", again, shell)
	}
	if own := parent(Command{OwnSession: true}); own == shell {
		t.Errorf("OwnSession ran in the shared shell (%s)", own)
	}
	if in := parent(Command{Stdin: []byte("x")}); in != shell {
		t.Errorf("a command with a little stdin ran in session %s, not in the shell's %s", in, shell)
	}
	if in := parent(Command{Stdin: make([]byte, 10)}); in == shell {
		t.Errorf("a command with a NUL byte in its stdin ran in the shared shell (%s)", in)
	}
	if in := parent(Command{Stdin: bytes.Repeat([]byte("x"), maxShellStdin+1)}); in == shell {
		t.Errorf("a command with more than %d bytes of stdin ran in the shared shell (%s)", maxShellStdin, in)
	}
	// Stdin inline, byte for byte; a command that does not read it is fine.
	in := "a'b\\c\n$(x)\n\x01\xff" + strings.Repeat("y", 5000)
	res, err := c.Run(ctx, Command{Argv: []string{"cat"}, Stdin: []byte(in)})
	if err != nil || string(res.Stdout) != in || len(res.Stderr) != 0 {
		t.Errorf("stdin through the shell: %v stdout %d bytes (want %d) stderr %q", err, len(res.Stdout), len(in), res.Stderr)
	}
	res, err = c.Run(ctx, Command{Argv: []string{"true"}, Stdin: bytes.Repeat([]byte("z"), maxShellStdin)})
	if err != nil || res.ExitCode != 0 || len(res.Stderr) != 0 {
		t.Errorf("unread stdin: %v exit %d stderr %q", err, res.ExitCode, res.Stderr)
	}

	// tend's own `/bin/sh -c` scripts without a Timeout run in the subshell
	// itself (no exec: $$ stays the shell's), as `sh -c` would run them.
	pids := map[string]bool{}
	for i := 0; i < 2; i++ {
		res, err := c.Run(ctx, Command{Argv: []string{"/bin/sh", "-c", `echo $$`, "sh"}})
		if err != nil {
			t.Fatal(err)
		}
		pids[string(res.Stdout)] = true
	}
	if len(pids) != 1 {
		t.Errorf("/bin/sh -c scripts were exec'd (different $$: %v)", pids)
	}
	for _, tc := range []struct {
		argv       []string
		stdin      string
		out        string
		exit       int
		stderrPart string
	}{
		{[]string{"/bin/sh", "-c", `printf '%s|' "$#" "$@"; exit 4`, "name", "-x", "a b", ""}, "", "3|-x|a b||", 4, ""},
		{[]string{"/bin/sh", "-c", `printf '%s|' "$#"`}, "", "0|", 0, ""},
		{[]string{"/bin/sh", "-c", `trap 'echo bye' EXIT; echo hi`, "sh"}, "", "hi\nbye\n", 0, ""},
		{[]string{"/bin/sh", "-c", `read -r l; echo "got $l"; exec cat`, "sh"}, "one\ntwo\n", "got one\ntwo\n", 0, ""},
		{[]string{"/bin/sh", "-c", `if`, "sh"}, "", "", 2, "Syntax error"},
		{[]string{"/bin/sh", "-c", `set -e; false; echo not here`, "sh"}, "", "", 1, ""},
	} {
		cmd := Command{Argv: tc.argv}
		if tc.stdin != "" {
			cmd.Stdin = []byte(tc.stdin)
		}
		res, err := c.Run(ctx, cmd)
		if err != nil || string(res.Stdout) != tc.out || res.ExitCode != tc.exit || !strings.Contains(string(res.Stderr), tc.stderrPart) {
			t.Errorf("%q: %v stdout %q exit %d stderr %q; want %q exit %d", tc.argv, err, res.Stdout, res.ExitCode, res.Stderr, tc.out, tc.exit)
		}
	}
	if after := parent(Command{}); after != shell {
		t.Errorf("after the scripts the shell changed: %s, was %s", after, shell)
	}

	// Output byte for byte (no trailing newline, NUL bytes), stderr apart,
	// the exit status, a value that looks like the shell's framing.
	res, err = c.Run(ctx, Command{Argv: []string{"/bin/sh", "-c",
		`printf 'a\0b'; printf 'warn\n' >&2; printf '%s' "$1"; exit 3`, "sh", "tend-end-0123 0\n"}})
	if err != nil || res.ExitCode != 3 || string(res.Stdout) != "a\x00btend-end-0123 0\n" || string(res.Stderr) != "warn\n" {
		t.Errorf("framing: %v exit %d stdout %q stderr %q", err, res.ExitCode, res.Stdout, res.Stderr)
	}
	res, err = c.Run(ctx, Command{Argv: []string{"no-such-command-tend"}})
	if err != nil || res.ExitCode != 127 {
		t.Errorf("missing command: %v exit %d stderr %q", err, res.ExitCode, res.Stderr)
	}

	// A large output is capped and fully drained: the next command is in step.
	res, err = c.Run(ctx, Command{Argv: []string{"head", "-c", "3000000", "/dev/zero"}, MaxOutput: 1000})
	if err != nil || !res.Truncated || !bytes.Equal(res.Stdout, make([]byte, 1000)) {
		t.Errorf("capped output: %v truncated=%v len=%d", err, res.Truncated, len(res.Stdout))
	}

	// Timeout: the command dies, the shell stays and runs the next one.
	argv, pattern := hangingCommand()
	_, err = c.Run(ctx, Command{Argv: argv, Timeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("want ErrTimeout, got %v", err)
	}
	if after := parent(Command{}); after != shell {
		t.Errorf("after a timeout the shell changed: %s, was %s", after, shell)
	}
	res, _ = c.Run(ctx, Command{Argv: []string{"pgrep", "-f", pattern}, OwnSession: true})
	if res.ExitCode != 1 {
		t.Errorf("the timed-out command survived: %s", res.Stdout)
	}

	// A script with a Timeout and NoRemoteTimeout runs in the subshell too
	// (no `timeout` nor /bin/sh exec'd: $$ is the shell's), and its timer
	// still kills what it started.
	res, err = c.Run(ctx, Command{Argv: []string{"/bin/sh", "-c", `echo $$`, "sh"}, Timeout: time.Minute, NoRemoteTimeout: true})
	if err != nil || !pids[string(res.Stdout)] {
		t.Errorf("a NoRemoteTimeout script was exec'd: $$ %q, the shell's %v (%v)", res.Stdout, pids, err)
	}
	argv, pattern = hangingCommand()
	argv[0] = "/bin/sh"
	argv = append(argv, "sh")
	if _, err = c.Run(ctx, Command{Argv: argv, Timeout: 300 * time.Millisecond, NoRemoteTimeout: true}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("NoRemoteTimeout: want ErrTimeout, got %v", err)
	}
	res, _ = c.Run(ctx, Command{Argv: []string{"pgrep", "-f", pattern}, OwnSession: true})
	if res.ExitCode != 1 {
		t.Errorf("the timed-out NoRemoteTimeout script's child survived: %s", res.Stdout)
	}
	shell = parent(Command{}) // kept, or a new one when the kill took longer than killInShell waits

	// Cancelled while running: same.
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(300*time.Millisecond, cancel)
	if _, err = c.Run(cctx, Command{Argv: argv}); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if after := parent(Command{}); after != shell {
		t.Errorf("after a cancel the shell changed: %s, was %s", after, shell)
	}
}
