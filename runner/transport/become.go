package transport

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// BecomeOptions say how Become escalates privileges (sudo is the only method).
type BecomeOptions struct {
	// User is the user to run commands as (sudo -u); default root.
	User string
	// Password answers sudo's password prompt; empty means none is
	// configured, and a prompt fails the command with ErrMissingBecomePassword.
	Password string
}

// Errors a become Conn returns (wrapped in a *BecomeError) when sudo did not
// run the command.
var (
	// ErrIncorrectBecomePassword: sudo rejected the password. It is tried
	// once: sudo's second prompt is never answered.
	ErrIncorrectBecomePassword = errors.New("incorrect become password")
	// ErrMissingBecomePassword: sudo asked for a password and none is configured.
	ErrMissingBecomePassword = errors.New("missing become password")
	// ErrBecomeRequiresTTY: sudoers has requiretty for the user; tend never
	// allocates a terminal.
	ErrBecomeRequiresTTY = errors.New("sudo requires a tty (requiretty in sudoers)")
	// ErrBecomeFailed: sudo refused or failed for another reason (the user
	// may not run commands as the target user, sudo is not installed, ...).
	ErrBecomeFailed = errors.New("sudo failed")
)

// BecomeError says why sudo did not run a command.
type BecomeError struct {
	User string // the target user
	Err  error  // one of the ErrBecome*/Err*BecomePassword values
	// Detail is what sudo printed (its own prompts removed), if useful.
	Detail string
}

// Error names the target user, the cause and what to do about it.
func (e *BecomeError) Error() string {
	msg := fmt.Sprintf("transport: become %s: %v", e.User, e.Err)
	switch {
	case errors.Is(e.Err, ErrIncorrectBecomePassword):
		msg += " (sudo rejected it; not retried)"
	case errors.Is(e.Err, ErrMissingBecomePassword):
		msg += ": sudo asked for one; give it with --ask-become-pass (-K) or the variable ansible_become_password"
	case errors.Is(e.Err, ErrBecomeRequiresTTY):
		msg += ": remove it for this user (Defaults:USER !requiretty) or log in as " + e.User + "; tend runs commands without a terminal"
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns the cause, for errors.Is.
func (e *BecomeError) Unwrap() error { return e.Err }

// becomeKillTimeout bounds the privileged kill of a timed-out command.
const becomeKillTimeout = 10 * time.Second

// Become returns a Conn that runs every command of conn as opts.User through
// sudo. ReadFile, Stat and WriteFileAtomic run through Run, so they are
// covered too. Closing it closes conn.
//
// Each command becomes
//
//	sudo -S -p PROMPT -u USER -- /bin/sh -c 'printf "%s\n" "$1" >&2; shift; exec "$@"' tend-become READY \
//	    env TEND_RUN_ID=<id> [timeout -s KILL N] ARGV...
//
// where PROMPT and READY are random markers, and a script's arguments are on
// its stdin, not in ARGV (scriptargs.go). The password is never in argv:
// it is written to sudo's stdin only after PROMPT appears on stderr, so when
// sudo does not ask (NOPASSWD) it is never sent. A second PROMPT means the
// password was wrong: it is not answered, stdin is closed and sudo gives up.
// The command's own stdin is written only after READY appears, i.e. once
// sudo has started the command, so it never reaches sudo and the password
// never reaches the command. Everything on stderr up to READY (sudo's
// prompts and warnings) is removed from Result.Stderr.
//
// sudo resets the environment, so the transport's own TEND_RUN_ID marker
// (and its kill) stop at sudo; the marker and the `timeout` backstop are
// therefore set again inside sudo, and when Command.Timeout expires or ctx
// is cancelled, every process carrying the inner marker is killed by a
// second sudo invocation (answered the same way) as the target user.
func Become(conn Conn, opts BecomeOptions) Conn {
	if opts.User == "" {
		opts.User = "root"
	}
	return &becomeConn{conn: conn, opts: opts}
}

type becomeConn struct {
	conn Conn
	opts BecomeOptions
}

// Unwrap returns the connection sudo runs on, for what does not run a
// command (the uri module opens TCP streams from the host through it;
// a stream has no user to become).
func (b *becomeConn) Unwrap() Conn { return b.conn }

// readyScript announces on stderr that sudo has started the command, then
// becomes it.
const readyScript = `printf '%s\n' "$1" >&2; shift; exec "$@"`

// sudoArgv wraps rest in sudo and the ready announcement.
func (b *becomeConn) sudoArgv(m sudoMarkers, rest []string) []string {
	argv := []string{"sudo", "-S", "-p", m.prompt, "-u", b.opts.User, "--",
		"/bin/sh", "-c", readyScript, "tend-become", m.ready}
	return append(argv, rest...)
}

// Run runs cmd as the become user; see Become.
func (b *becomeConn) Run(ctx context.Context, cmd Command) (Result, error) {
	if err := ValidateArgv(cmd.Argv); err != nil {
		return Result{}, err
	}
	if strings.ContainsAny(b.opts.Password, "\r\n\x00") {
		return Result{}, &BecomeError{User: b.opts.User, Err: ErrBecomeFailed, Detail: "the become password contains a line break or NUL"}
	}
	// sudo logs the command line: a script's values go on its stdin, which
	// sudo neither logs nor reads once the command runs (scriptargs.go).
	cmd = argsOnStdin(cmd)
	id := newRunID()
	rest := []string{"env", runIDVar + "=" + id}
	if cmd.Timeout > 0 && !cmd.NoRemoteTimeout {
		secs := int64(math.Ceil((cmd.Timeout + remoteTimeoutSlack).Seconds()))
		rest = append(rest, "timeout", "-s", "KILL", strconv.FormatInt(secs, 10))
	}
	rest = append(rest, cmd.Argv...)

	// Kill under sudo when the command outlives its timeout or ctx.
	var started atomic.Bool
	killed := make(chan struct{})
	var once sync.Once
	startKill := func() {
		once.Do(func() {
			started.Store(true)
			go func() {
				defer close(killed)
				b.kill(ctx, id)
			}()
		})
	}
	if cmd.Timeout > 0 {
		t := time.AfterFunc(cmd.Timeout, startKill)
		defer t.Stop()
	}
	stop := context.AfterFunc(ctx, startKill)
	defer stop()

	res, err := b.sudo(ctx, rest, cmd)
	stop()
	once.Do(func() {}) // no kill from now on
	if started.Load() {
		<-killed
	}
	return res, err
}

// kill kills, as the become user, every process carrying the run ID id.
func (b *becomeConn) kill(ctx context.Context, id string) {
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), becomeKillTimeout)
	defer cancel()
	_, _ = b.sudo(kctx, []string{"/bin/sh", "-c", killScript, "sh", id}, Command{})
}

// sudo runs rest under sudo for cmd (its Argv ignored), answering sudo's
// prompt, and classifies a failure of sudo itself as a *BecomeError.
func (b *becomeConn) sudo(ctx context.Context, rest []string, cmd Command) (Result, error) {
	m := newSudoMarkers()
	x := newSudoExchange(m, b.opts.Password, cmd)
	defer x.finish()
	max := cmd.MaxOutput
	if max <= 0 {
		max = DefaultMaxOutput
	}
	res, err := b.conn.Run(ctx, Command{
		Argv:            b.sudoArgv(m, rest),
		Input:           x.input(),
		StderrTap:       x,
		Timeout:         cmd.Timeout,
		NoRemoteTimeout: cmd.NoRemoteTimeout,
		MaxOutput:       max + maxSudoChatter, // room for sudo's chatter, cut below
	})
	st := x.state()
	if st.ready {
		res.Stderr = st.stripReady(res.Stderr)
		for _, out := range []*[]byte{&res.Stdout, &res.Stderr} {
			if len(*out) > max {
				*out, res.Truncated = (*out)[:max], true
			}
		}
		return res, err
	}
	if err != nil && (IsUnreachable(err) || st.prompts == 0) {
		return res, err
	}
	return res, b.failure(st, res, err)
}

// failure explains why sudo did not start the command.
func (b *becomeConn) failure(st sudoState, res Result, err error) error {
	detail := st.clean(res.Stderr)
	be := &BecomeError{User: b.opts.User, Err: ErrBecomeFailed, Detail: detail}
	switch {
	case st.prompts >= 2:
		be.Err, be.Detail = ErrIncorrectBecomePassword, ""
	case st.prompts == 1 && b.opts.Password == "":
		be.Err, be.Detail = ErrMissingBecomePassword, ""
	case st.prompts == 1 && strings.Contains(detail, "incorrect password"):
		// passwd_tries=1: sudo gives up without asking again.
		be.Err, be.Detail = ErrIncorrectBecomePassword, ""
	case strings.Contains(detail, "must have a tty") || strings.Contains(detail, "requiretty"):
		be.Err = ErrBecomeRequiresTTY
	case res.ExitCode == 127 && !strings.Contains(detail, "sudo:"):
		be.Detail = "sudo is not installed on the host: " + detail
	case err != nil:
		be.Detail = strings.TrimSpace(detail + " (" + err.Error() + ")")
	case detail == "":
		be.Detail = fmt.Sprintf("exit %d before running the command", res.ExitCode)
	}
	return be
}

// Close closes the underlying connection.
func (b *becomeConn) Close() error { return b.conn.Close() }
