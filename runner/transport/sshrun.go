package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// sshConn is one SSH client connection; a Run goes through its long-lived
// shell (sshshell.go) or opens a session of its own.
type sshConn struct {
	host   string
	client *ssh.Client
	sem    chan struct{} // bounds concurrent sessions
	done   chan struct{} // closed by Close

	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup // keepalive goroutine

	mu   sync.Mutex
	lost error // why the connection was dropped (keepalive), if it was

	shellMu     sync.Mutex
	shell       *sshShell // the long-lived shell (sshshell.go), nil until used
	shellBusy   bool
	shellFailed bool // it could not be started: every command gets a session
}

// killGrace is how long Run waits for a killed remote command to report
// before giving up on it (the connection may be dead).
const killGrace = 2 * time.Second

// remoteTimeoutSlack delays the remote `timeout` backstop past the local
// timer, so the normal path is the local one (see kill) and the backstop
// only acts when the client can no longer reach the host.
const remoteTimeoutSlack = 2 * time.Second

// runIDVar marks, in their environment, every process a Run starts on the
// host, so kill can find them all (children inherit the environment).
const runIDVar = "TEND_RUN_ID"

// killScript kills every process whose environment holds runIDVar=$1. It
// repeats until none is left, catching processes forked meanwhile.
const killScript = `i=0
while [ "$i" -lt 10 ]; do
	found=
	for f in $(grep -lzxF -- "` + runIDVar + `=$1" /proc/[0-9]*/environ 2>/dev/null); do
		p=${f#/proc/}
		kill -KILL "${p%/environ}" 2>/dev/null && found=1
	done
	[ -n "$found" ] || exit 0
	i=$((i+1))
done`

// Run executes cmd in the connection's long-lived shell when it can (see
// sshshell.go), else on one new session of the connection. The remote login
// shell receives `exec env TEND_RUN_ID=<id> [timeout -s KILL N] ARGV...`
// with every element of ARGV single-quoted; a script's arguments travel on
// its stdin instead (scriptargs.go).
func (c *sshConn) Run(ctx context.Context, cmd Command) (Result, error) {
	if err := ValidateArgv(cmd.Argv); err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if shellEligible(cmd) {
		if sh := c.takeShell(); sh != nil {
			res, healthy, err := c.runInShell(ctx, sh, cmd)
			c.returnShell(sh, healthy)
			return res, err
		}
	}
	select {
	case c.sem <- struct{}{}:
		defer func() { <-c.sem }()
	case <-ctx.Done():
		return Result{}, ctx.Err()
	case <-c.done:
		return Result{}, c.unreachable(errors.New("connection closed"))
	}

	sess, err := c.newSession(ctx)
	if err != nil {
		return Result{}, err
	}
	defer sess.Close()
	cmd = argsOnStdin(cmd) // values never in the host's argv (scriptargs.go)

	// `exec` makes the command replace the login shell (dash would fork it),
	// keeping it in the session's process group for sshd's killpg; `env`
	// marks it and all its descendants with the run ID for kill.
	id := newRunID()
	line := "exec env " + runIDVar + "=" + id + " "
	if cmd.Timeout > 0 && !cmd.NoRemoteTimeout {
		// The backstop: even if this client vanishes, the remote process
		// group is killed. GNU coreutils and busybox both accept this form.
		secs := int64(math.Ceil((cmd.Timeout + remoteTimeoutSlack).Seconds()))
		line += "timeout -s KILL " + strconv.FormatInt(secs, 10) + " "
	}
	line += ShellJoin(cmd.Argv)
	stdout, stderr := newCapWriter(cmd.MaxOutput), newCapWriter(cmd.MaxOutput)
	sess.Stdout, sess.Stderr = stdout, tapStderr(stderr, cmd.StderrTap)
	switch {
	case cmd.Input != nil:
		// Not sess.Stdin: Wait would wait for Input's EOF, which may only
		// come after the command ended (see Command.Input).
		w, err := sess.StdinPipe()
		if err != nil {
			return Result{}, c.unreachable(fmt.Errorf("stdin %s: %w", cmd.Argv[0], err))
		}
		go copyInput(w, cmd.Input)
	case cmd.Stdin != nil:
		sess.Stdin = bytes.NewReader(cmd.Stdin)
	}
	start := time.Now()
	result := func() Result { return captured(start, stdout, stderr) }
	if err := sess.Start(line); err != nil {
		return Result{}, c.unreachable(fmt.Errorf("start %s: %w", cmd.Argv[0], err))
	}
	waitc := make(chan error, 1)
	go func() { waitc <- sess.Wait() }()

	var timeout <-chan time.Time
	if cmd.Timeout > 0 {
		t := time.NewTimer(cmd.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case err = <-waitc:
	case <-timeout:
		c.kill(sess, waitc, id)
		return result(), fmt.Errorf("transport: %s: %s: %w after %s", c.host, cmd.Argv[0], ErrTimeout, cmd.Timeout)
	case <-ctx.Done():
		c.kill(sess, waitc, id)
		return result(), fmt.Errorf("transport: %s: %s: %w", c.host, cmd.Argv[0], ctx.Err())
	}

	res := result()
	var ee *ssh.ExitError
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &ee):
		// A non-zero exit, or death by signal (128+n, as a shell reports it).
		res.ExitCode = ee.ExitStatus()
		return res, nil
	default:
		// *ssh.ExitMissingError, io.EOF, closed connection: the outcome is unknown.
		return res, c.unreachable(fmt.Errorf("%s: %w", cmd.Argv[0], err))
	}
}

// kill ends a running remote command and everything it started: SIGKILL
// to the session (sshd delivers it with killpg, but only where it allows
// signals: not for root logins), then, in a second session, SIGKILL to every
// process carrying the run's ID in its environment. It waits a short while
// for the command to report, then closes the session.
func (c *sshConn) kill(sess *ssh.Session, waitc <-chan error, id string) {
	_ = sess.Signal(ssh.SIGKILL)
	t := time.NewTimer(killGrace)
	defer t.Stop()
	killed := c.killRunID(id)
	select {
	case <-waitc:
	case <-t.C:
		// The Wait goroutine ends when the connection closes.
	}
	_ = sess.Close()
	t2 := time.NewTimer(killGrace)
	defer t2.Stop()
	select {
	case <-killed:
	case <-t2.C:
	}
}

// killRunID runs killScript for id on a session of its own and closes the
// returned channel when it is done (or could not start).
func (c *sshConn) killRunID(id string) <-chan struct{} {
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		// Not under c.sem: this must run even when every slot is busy
		// (MaxSessions leaves room below the server's limit).
		k, err := c.client.NewSession()
		if err != nil {
			return
		}
		defer k.Close()
		_ = k.Run("exec " + ShellJoin([]string{"/bin/sh", "-c", killScript, "sh", id}))
	}()
	return killed
}

func newRunID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newSession opens a session, retrying briefly when the server refuses one
// for lack of resources (its MaxSessions may be lower than ours).
func (c *sshConn) newSession(ctx context.Context) (*ssh.Session, error) {
	backoff := 50 * time.Millisecond
	deadline := time.Now().Add(5 * time.Second)
	for {
		sess, err := c.client.NewSession()
		if err == nil {
			return sess, nil
		}
		var oe *ssh.OpenChannelError
		if !errors.As(err, &oe) || (oe.Reason != ssh.Prohibited && oe.Reason != ssh.ResourceShortage) {
			return nil, c.unreachable(fmt.Errorf("open session: %w", err))
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("transport: %s: open session: %w", c.host, err)
		}
		select {
		case <-time.After(backoff):
			backoff = min(2*backoff, 500*time.Millisecond)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// unreachable wraps err, preferring the recorded reason the connection was dropped.
func (c *sshConn) unreachable(err error) error {
	c.mu.Lock()
	lost := c.lost
	c.mu.Unlock()
	if lost != nil {
		err = fmt.Errorf("%w (%v)", lost, err)
	}
	return &UnreachableError{Host: c.host, Err: err}
}

// keepalive sends keepalive@openssh.com every interval, each raced against
// a timer of the same length; after max consecutive failures it closes the
// client, which fails every running session.
func (c *sshConn) keepalive(interval time.Duration, max int) {
	defer c.wg.Done()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	fails := 0
	for {
		select {
		case <-c.done:
			return
		case <-tick.C:
		}
		reply := make(chan error, 1)
		go func() {
			// Any reply, even "unsupported", proves the peer is alive.
			_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		timer := time.NewTimer(interval)
		select {
		case err := <-reply:
			timer.Stop()
			if err == nil {
				fails = 0
				continue
			}
			c.mu.Lock()
			c.lost = fmt.Errorf("connection lost: %v", err)
			c.mu.Unlock()
			return
		case <-timer.C:
			fails++
		case <-c.done:
			timer.Stop()
			return
		}
		if fails >= max {
			c.mu.Lock()
			c.lost = fmt.Errorf("no answer to %d keepalives at %s intervals", fails, interval)
			c.mu.Unlock()
			c.client.Close()
			return
		}
	}
}

// Close closes the connection; running commands fail with UnreachableError.
func (c *sshConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.done)
		if err := c.client.Close(); err != nil && !isClosedErr(err) {
			c.closeErr = fmt.Errorf("transport: close %s: %w", c.host, err)
		}
		c.wg.Wait()
	})
	return c.closeErr
}

func isClosedErr(err error) bool {
	return errors.Is(err, net.ErrClosed)
}

// DialContext opens a TCP stream from the host to addr ("host:port",
// resolved by the host) over one direct-tcpip channel of the connection, as
// `ssh -W` does: 127.0.0.1 is the host's own loopback. The uri module
// carries its HTTP requests over it, so the host needs no HTTP client.
// Network "unix" opens the host's socket at path addr instead (a
// direct-streamlocal@openssh.com channel, as `ssh -W /path`): the host's
// sshd connects to it as the login user.
func (c *sshConn) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	select {
	case <-c.done:
		return nil, fmt.Errorf("transport: host %s: dial %s: connection closed", c.host, addr)
	default:
	}
	c.mu.Lock()
	lost := c.lost
	c.mu.Unlock()
	if lost != nil {
		return nil, &UnreachableError{Host: c.host, Err: lost}
	}
	nc, err := c.client.DialContext(ctx, network, addr)
	if err != nil {
		var oc *ssh.OpenChannelError
		if errors.As(err, &oc) && oc.Reason == ssh.Prohibited {
			if network == "unix" { // OpenSSH also answers so for a socket it cannot connect to
				return nil, fmt.Errorf("transport: host %s: dial unix %s: %w (the socket refused the connection, or its sshd forbids stream forwarding: AllowStreamLocalForwarding, or no-port-forwarding on the key)", c.host, addr, err)
			}
			return nil, fmt.Errorf("transport: host %s: dial %s: %w (its sshd forbids TCP forwarding: AllowTcpForwarding, or a permitopen= restriction on the key)", c.host, addr, err)
		}
		return nil, fmt.Errorf("transport: host %s: dial %s: %w", c.host, addr, err)
	}
	return nc, nil
}
