package transport

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tend/internal/lab"
)

// lineTap is a StderrTap that creates file once it has seen a whole line
// holding want: the command it taps waits for that file, so it ends well
// only when its line arrived while it ran.
type lineTap struct {
	mu         sync.Mutex
	buf        bytes.Buffer
	want, file string
}

func (l *lineTap) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if strings.Contains(l.buf.String(), l.want+"\n") {
		_ = os.WriteFile(l.file, nil, 0o644)
	}
	return len(p), nil
}

// tapWaitScript prints $2 on stderr, then waits up to 20 s for the file
// $1, and exits 0 only when it appeared.
const tapWaitScript = `echo "$2" >&2
i=0; while [ ! -e "$1" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
[ -e "$1" ]`

// TestLabShellStderrTap: a command with a StderrTap runs in the
// connection's shell (no session of its own: its cost stays one command),
// and its tap gets each stderr line as it is printed, while the command
// still runs, not only at its end; Result.Stderr still holds it. Under
// become, the tap gets the command's own stderr only, without sudo's.
func TestLabShellStderrTap(t *testing.T) {
	l := lab.New(t, 1)
	c := dialOK(t, labConfig(l, l.Hosts[0]))
	ctx := context.Background()
	dir := t.TempDir()
	sid := func(cmd Command) string {
		t.Helper()
		cmd.Argv = []string{"/bin/sh", "-c", `read -r pid comm state ppid pgrp sid rest < /proc/$$/stat; echo "$sid"`}
		res, err := c.Run(ctx, cmd)
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("session id: %v %+v", err, res)
		}
		return string(res.Stdout)
	}
	if shell, tapped := sid(Command{}), sid(Command{StderrTap: &lineTap{}}); tapped != shell {
		t.Errorf("a command with a StderrTap ran in session %s, not in the shell's %s", tapped, shell)
	}
	for i, timeout := range []time.Duration{0, time.Minute} { // in the subshell itself, and exec'd by timeout
		tap := &lineTap{want: "waiting for the tap", file: filepath.Join(dir, "seen"+string(rune('0'+i)))}
		res, err := c.Run(ctx, Command{Argv: []string{"/bin/sh", "-c", tapWaitScript, "sh", tap.file, tap.want}, StderrTap: tap, Timeout: timeout})
		if err != nil || res.ExitCode != 0 {
			t.Errorf("timeout %s: the tap did not get the line while the command ran: exit %d, %v (tap got %q)", timeout, res.ExitCode, err, tap.buf.String())
		}
		if string(res.Stderr) != tap.want+"\n" {
			t.Errorf("timeout %s: Result.Stderr %q", timeout, res.Stderr)
		}
	}

	t.Run("Become", func(t *testing.T) {
		l, h := labBecome(t)
		b := Become(dialAs(t, l, h, "deploy"), BecomeOptions{Password: labSudoPassword})
		tap := &lineTap{want: "under sudo", file: filepath.Join(t.TempDir(), "seen")}
		res, err := b.Run(ctx, Command{Argv: []string{"/bin/sh", "-c", tapWaitScript, "sh", tap.file, tap.want}, StderrTap: tap, Timeout: time.Minute})
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("the tap did not get the line under sudo while the command ran: exit %d, %v (tap got %q)", res.ExitCode, err, tap.buf.String())
		}
		if got := tap.buf.String(); got != tap.want+"\n" {
			t.Errorf("the tap got %q under sudo, want the command's line only", got)
		}
	})
}
