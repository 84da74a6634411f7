package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os/exec"
	"syscall"
	"time"
)

// Local returns a Conn that runs commands on this machine. Argv is executed
// directly, never through a shell; each command runs in its own process
// group so a timeout ends it together with everything it started.
func Local() Conn { return localConn{} }

type localConn struct{}

// localWaitDelay bounds how long Run waits for output pipes after the
// command was killed (a daemonised grandchild may hold them open).
const localWaitDelay = 2 * time.Second

// errTimeoutCause marks a context ended by Command.Timeout, as opposed to
// the caller's context.
var errTimeoutCause = errors.New("transport: command timeout")

// DialContext dials addr from this machine: with the local connection the
// host is this machine, so its loopback is ours.
func (localConn) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("transport: local: %w", err)
	}
	return nc, nil
}

// Run executes cmd.Argv directly (no shell) in a new process group.
func (localConn) Run(ctx context.Context, cmd Command) (Result, error) {
	if err := ValidateArgv(cmd.Argv); err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	cmd = argsOnStdin(cmd) // a script's values off this machine's command lines too
	runCtx := ctx
	if cmd.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeoutCause(ctx, cmd.Timeout, errTimeoutCause)
		defer cancel()
	}

	c := exec.CommandContext(runCtx, cmd.Argv[0], cmd.Argv[1:]...)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error {
		// Kill the whole process group, not just the direct child.
		return syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
	}
	c.WaitDelay = localWaitDelay
	switch {
	case cmd.Input != nil:
		// A pipe of our own, not c.Stdin: Wait would wait for Input's EOF,
		// which may only come after the command ended (see Command.Input).
		w, err := c.StdinPipe()
		if err != nil {
			return Result{}, fmt.Errorf("transport: %s: %w", cmd.Argv[0], err)
		}
		go copyInput(w, cmd.Input)
	case cmd.Stdin != nil:
		c.Stdin = bytes.NewReader(cmd.Stdin)
	}
	stdout, stderr := newCapWriter(cmd.MaxOutput), newCapWriter(cmd.MaxOutput)
	c.Stdout, c.Stderr = stdout, tapStderr(stderr, cmd.StderrTap)

	start := time.Now()
	err := c.Run()
	res := captured(start, stdout, stderr)

	if runCtx.Err() != nil {
		if context.Cause(runCtx) == errTimeoutCause {
			return res, fmt.Errorf("transport: %s: %w after %s", cmd.Argv[0], ErrTimeout, cmd.Timeout)
		}
		return res, fmt.Errorf("transport: %s: %w", cmd.Argv[0], ctx.Err())
	}
	if c.ProcessState == nil && (errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist)) {
		// Same outcome as a shell (and so as SSH): exit 127, not an error.
		res.ExitCode = 127
		res.Stderr = fmt.Appendf(nil, "tend: %s: command not found\n", cmd.Argv[0])
		return res, nil
	}
	if c.ProcessState != nil {
		// Exit codes (and deaths by signal, as 128+n like a shell reports
		// them) are results. ErrWaitDelay only means a grandchild kept the
		// output open after the command itself ended.
		if err == nil || errors.Is(err, exec.ErrWaitDelay) || isExitError(err) {
			res.ExitCode = exitCode(c.ProcessState)
			return res, nil
		}
	}
	return res, fmt.Errorf("transport: %s: %w", cmd.Argv[0], err)
}

// Close does nothing: a local Conn holds no resources.
func (localConn) Close() error { return nil }

func isExitError(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}

func exitCode(ps interface{ Sys() any }) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok {
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
	return -1
}

// IsLocal reports whether conn runs its commands on this machine (Local),
// looking through wrappers that offer Unwrap() Conn (become, the runner's
// own): a module that would harm the machine tend runs on (reboot) asks.
func IsLocal(conn Conn) bool {
	for conn != nil {
		if _, ok := conn.(localConn); ok {
			return true
		}
		u, ok := conn.(interface{ Unwrap() Conn })
		if !ok {
			return false
		}
		conn = u.Unwrap()
	}
	return false
}
