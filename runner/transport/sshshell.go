package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// A new SSH session costs the host ~10 ms of CPU (sshd forks, sets the
// user's context up, starts the login shell): more than most of tend's own
// commands. So each connection keeps one long-lived /bin/sh on one session
// and runs commands in it one after another, each in a subshell, with its
// end marked on stdout (with the exit status) and on stderr by a random
// marker. A command runs there unless it needs stdin fed as it runs, more
// than maxShellStdin of it, or its caller asked for a session of its own
// (Command.OwnSession: a user's command may leave a daemon behind holding
// the output open, which would mix into later commands' output); while the
// shell is busy, or when it cannot be started, a command gets a new session
// as before.

// maxShellStdin is the largest Stdin sent inline, as a quoted word of the
// shell's command line (a file tend writes, such as sysctl.conf): larger
// input, or input with a NUL byte (no shell word holds one), gets a session.
const maxShellStdin = 64 << 10

// shellEligible says whether cmd may run in the connection's shell.
func shellEligible(cmd Command) bool {
	return cmd.Input == nil && !cmd.OwnSession &&
		len(cmd.Stdin) <= maxShellStdin && bytes.IndexByte(cmd.Stdin, 0) < 0
}

// sshShell is the long-lived shell of one connection.
type sshShell struct {
	sess           *ssh.Session
	stdin          io.WriteCloser
	stdout, stderr io.Reader
}

// takeShell returns the connection's shell, starting it on first use, or
// nil when it is busy or unavailable. The caller gives it back with
// returnShell.
func (c *sshConn) takeShell() *sshShell {
	c.shellMu.Lock()
	defer c.shellMu.Unlock()
	if c.shellBusy || c.shellFailed {
		return nil
	}
	if c.shell == nil {
		// The shell holds a session slot for its lifetime; without a free
		// one right now, this command takes the usual path.
		select {
		case c.sem <- struct{}{}:
		default:
			return nil
		}
		sh, err := c.startShell()
		if err != nil {
			<-c.sem
			c.shellFailed = true // e.g. the server refuses another channel: sessions still work
			return nil
		}
		c.shell = sh
	}
	c.shellBusy = true
	return c.shell
}

// returnShell marks the shell free again, or discards it when it is no
// longer in a known state.
func (c *sshConn) returnShell(sh *sshShell, healthy bool) {
	c.shellMu.Lock()
	defer c.shellMu.Unlock()
	c.shellBusy = false
	if !healthy && c.shell == sh {
		_ = sh.sess.Close()
		c.shell = nil
		<-c.sem
	}
}

func (c *sshConn) startShell() (*sshShell, error) {
	sess, err := c.client.NewSession()
	if err != nil {
		return nil, err
	}
	sh := &sshShell{sess: sess}
	if sh.stdin, err = sess.StdinPipe(); err == nil {
		if sh.stdout, err = sess.StdoutPipe(); err == nil {
			sh.stderr, err = sess.StderrPipe()
		}
	}
	if err == nil {
		err = sess.Start("exec /bin/sh")
	}
	if err != nil {
		sess.Close()
		return nil, err
	}
	return sh, nil
}

// shellEnd is how one output stream of a command in the shell ended: at its
// mark (err nil; code is the exit status on stdout) or not.
type shellEnd struct {
	code int
	err  error
}

// runInShell runs cmd in the shell. healthy is false when the shell must be
// discarded (it ended, or a killed command did not report in time).
func (c *sshConn) runInShell(ctx context.Context, sh *sshShell, cmd Command) (res Result, healthy bool, err error) {
	id := newRunID()
	mark := "tend-end-" + newRunID()
	// The subshell marks itself with the run ID (for kill) and `exec`s the
	// command: no `env` process as on a session (every exec costs the host
	// a millisecond or two). A missing program exits 127 on both paths.
	line := "(export " + runIDVar + "=" + id + "; "
	switch {
	case (cmd.Timeout == 0 || cmd.NoRemoteTimeout) && len(cmd.Argv) >= 3 && cmd.Argv[0] == "/bin/sh" && cmd.Argv[1] == "-c":
		// tend's own scripts run in the subshell itself, which is the same
		// /bin/sh: no exec at all. Only $0 differs from `sh -c`. A Timeout
		// with NoRemoteTimeout is this client's timer alone (killInShell).
		line += "set -- " + ShellJoin(cmd.Argv[min(4, len(cmd.Argv)):]) + "; eval " + ShellQuote(cmd.Argv[2])
	case cmd.Timeout > 0 && !cmd.NoRemoteTimeout:
		// timeout execs the script: its values go on its stdin (scriptargs.go).
		cmd = argsOnStdin(cmd)
		secs := int64(math.Ceil((cmd.Timeout + remoteTimeoutSlack).Seconds()))
		line += "exec timeout -s KILL " + strconv.FormatInt(secs, 10) + " " + ShellJoin(cmd.Argv)
	default:
		line += "exec " + ShellJoin(cmd.Argv)
	}
	stdin := " </dev/null"
	if cmd.Stdin != nil {
		// The builtin printf feeds it through a pipe, as a session would.
		stdin = ""
		line = "{ printf '%s' " + ShellQuote(string(cmd.Stdin)) + " 2>/dev/null; } | " + line
	}
	line += ")" + stdin + "\nprintf '%s %d\\n' " + mark + " \"$?\"; printf '%s' " + mark + " >&2\n"

	stdout, stderr := newCapWriter(cmd.MaxOutput), newCapWriter(cmd.MaxOutput)
	start := time.Now()
	result := func() Result { return captured(start, stdout, stderr) }
	outc, errc := make(chan shellEnd, 1), make(chan shellEnd, 1)
	go func() {
		trailer, err := copyUntilMark(stdout, sh.stdout, []byte(mark), true)
		code := -1
		if err == nil {
			code, err = strconv.Atoi(string(bytes.TrimSpace(trailer)))
		}
		outc <- shellEnd{code, err}
	}()
	go func() {
		// A StderrTap sees stderr as it arrives, as on a session.
		_, err := copyUntilMark(tapStderr(stderr, cmd.StderrTap), sh.stderr, []byte(mark), false)
		errc <- shellEnd{0, err}
	}()
	if _, err := io.WriteString(sh.stdin, line); err != nil {
		_ = sh.sess.Close()
		<-outc
		<-errc
		return Result{}, false, c.unreachable(fmt.Errorf("shell: %s: %w", cmd.Argv[0], err))
	}

	var timeout <-chan time.Time
	if cmd.Timeout > 0 {
		t := time.NewTimer(cmd.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var out, errOut shellEnd
	gotOut, gotErr := false, false
	for !gotOut || !gotErr {
		select {
		case out = <-outc:
			gotOut = true
		case errOut = <-errc:
			gotErr = true
		case <-timeout:
			healthy := c.killInShell(sh, id, outc, errc, gotOut, gotErr)
			return result(), healthy, fmt.Errorf("transport: %s: %s: %w after %s", c.host, cmd.Argv[0], ErrTimeout, cmd.Timeout)
		case <-ctx.Done():
			healthy := c.killInShell(sh, id, outc, errc, gotOut, gotErr)
			return result(), healthy, fmt.Errorf("transport: %s: %s: %w", c.host, cmd.Argv[0], ctx.Err())
		}
	}
	if err := errors.Join(out.err, errOut.err); err != nil {
		// The shell or the connection ended: the outcome is unknown.
		return result(), false, c.unreachable(fmt.Errorf("%s: %w", cmd.Argv[0], err))
	}
	res = result()
	res.ExitCode = out.code
	return res, true, nil
}

// killInShell kills the command's processes (by run ID, from a session of
// its own) and waits briefly for the shell to report the end; it says
// whether the shell is still in step.
func (c *sshConn) killInShell(sh *sshShell, id string, outc, errc <-chan shellEnd, gotOut, gotErr bool) bool {
	killed := c.killRunID(id)
	t := time.NewTimer(2 * killGrace)
	defer t.Stop()
	for !gotOut || !gotErr {
		select {
		case d := <-outc:
			gotOut = d.err == nil
			if d.err != nil {
				return false
			}
		case d := <-errc:
			gotErr = d.err == nil
			if d.err != nil {
				return false
			}
		case <-t.C:
			// Close ends the readers (EOF) and, with the channel, the shell.
			_ = sh.sess.Close()
			return false
		}
	}
	<-killed
	return true
}

// markBufs recycles copyUntilMark's read buffers: two per command, on
// hundreds of hosts at once.
var markBufs = sync.Pool{New: func() any { b := make([]byte, 8<<10); return &b }}

// copyUntilMark copies r to w up to mark. With trailer, it then reads up to
// the next newline and returns what came between (the exit status). Bytes
// after that are dropped: nothing legitimate follows until the next command.
func copyUntilMark(w io.Writer, r io.Reader, mark []byte, trailer bool) ([]byte, error) {
	bp := markBufs.Get().(*[]byte)
	defer markBufs.Put(bp)
	buf := *bp
	var pending []byte
	for {
		n, err := r.Read(buf)
		pending = append(pending, buf[:n]...)
		if i := bytes.Index(pending, mark); i >= 0 {
			_, _ = w.Write(pending[:i])
			rest := pending[i+len(mark):]
			for trailer && bytes.IndexByte(rest, '\n') < 0 {
				if err == io.EOF {
					return nil, io.ErrUnexpectedEOF
				} else if err != nil {
					return nil, err
				}
				n, err = r.Read(buf)
				rest = append(rest, buf[:n]...)
			}
			if trailer {
				rest = rest[:bytes.IndexByte(rest, '\n')]
			}
			return rest, nil
		}
		// Keep only what could be the start of the mark: the rest goes on
		// now, so that a line a command prints arrives whole as it runs.
		if keep := markPrefixLen(pending, mark); keep < len(pending) {
			_, _ = w.Write(pending[:len(pending)-keep])
			pending = append(pending[:0], pending[len(pending)-keep:]...)
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// markPrefixLen is the length of the longest end of b that begins mark
// (shorter than mark: copyUntilMark has looked for the whole mark first).
func markPrefixLen(b, mark []byte) int {
	for k := min(len(mark)-1, len(b)); k > 0; k-- {
		if bytes.Equal(b[len(b)-k:], mark[:k]) {
			return k
		}
	}
	return 0
}
