package modules

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"tend/runner/plan"
	"tend/runner/transport"
)

// Reconnect drops the host's connection and opens it again through the
// run's connector, with the same host key checks: after a reboot the old
// connection (and its long-lived shell) is gone. It returns the task's
// connection on the new one (through sudo when the task uses become); the
// host's later tasks run on the new connection too.
type Reconnect func(ctx context.Context) (transport.Conn, error)

type reconnectKey struct{}

// WithReconnect returns ctx carrying r; the runner gives it to the tasks
// that run on the host's own connection (not delegated ones).
func WithReconnect(ctx context.Context, r Reconnect) context.Context {
	return context.WithValue(ctx, reconnectKey{}, r)
}

// reconnectFrom returns ctx's Reconnect, or nil when the connection cannot
// be re-established.
func reconnectFrom(ctx context.Context) Reconnect {
	r, _ := ctx.Value(reconnectKey{}).(Reconnect)
	return r
}

// Backoff between two attempts to reach a rebooting host: doubling from
// rebootFirstRetry up to rebootMaxRetry (Ansible: 1 s up to 12 s).
const (
	rebootFirstRetry = 500 * time.Millisecond
	rebootMaxRetry   = 12 * time.Second
)

// rebootWait waits for a rebooting host to come back.
type rebootWait struct {
	m         *rebootModule
	reconnect Reconnect
	before    string         // the boot ID before the reboot
	conn      transport.Conn // the re-established connection; nil: reconnect next
}

// run waits post_reboot_delay, then until the host answers with a new
// boot ID, then until test_command succeeds, each within reboot_timeout.
func (w *rebootWait) run(ctx context.Context, start time.Time) (plan.Change, error) {
	m := w.m
	if err := sleepCtx(ctx, m.a.PostRebootDelay); err != nil {
		return plan.Change{}, fmt.Errorf("reboot: %w", err)
	}
	failed := func(msg string) (plan.Change, error) {
		return plan.Change{Action: plan.Restart, Failed: true, Msg: msg,
			Data: map[string]any{"rebooted": true, "elapsed": int(time.Since(start).Seconds())}}, nil
	}
	var after string
	var sameID bool // the last answer still had the old boot ID
	lastErr, err := w.until(ctx, "a new boot ID", func(conn transport.Conn) (bool, error) {
		id, err := m.bootID(ctx, conn)
		if err != nil {
			return false, err
		}
		after, sameID = id, id == w.before
		if sameID {
			return false, fmt.Errorf("the boot ID is still %s", id)
		}
		return true, nil
	})
	switch {
	case err != nil:
		return plan.Change{}, err
	case lastErr != nil && sameID:
		return failed(fmt.Sprintf("reboot: the host answered but its boot ID is still %s after %s: it did not reboot", w.before, m.a.RebootTimeout))
	case lastErr != nil:
		return failed(fmt.Sprintf("reboot: the host did not come back within reboot_timeout (%s): %v", m.a.RebootTimeout, lastErr))
	}
	lastErr, err = w.until(ctx, fmt.Sprintf("%q to succeed", m.a.TestCommand), func(conn transport.Conn) (bool, error) {
		res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", m.a.TestCommand}, Timeout: time.Minute, MaxOutput: 64 << 10})
		if err != nil {
			return false, err
		}
		if res.ExitCode != 0 {
			return false, fmt.Errorf("test command %q failed (exit %d): %s %s", m.a.TestCommand, res.ExitCode,
				strings.TrimSpace(string(res.Stderr)), strings.TrimSpace(string(res.Stdout)))
		}
		return true, nil
	})
	if err != nil {
		return plan.Change{}, err
	}
	if lastErr != nil {
		return failed(fmt.Sprintf("reboot: the host came back (boot ID %s) but the test command did not succeed within reboot_timeout (%s): %v",
			after, m.a.RebootTimeout, lastErr))
	}
	elapsed := time.Since(start)
	return plan.Change{Action: plan.Restart,
		Summary: fmt.Sprintf("rebooted in %s: boot ID %s -> %s", elapsed.Round(100*time.Millisecond), w.before, after),
		Data:    map[string]any{"rebooted": true, "elapsed": int(elapsed.Seconds())}}, nil
}

// until calls try on the re-established connection until it reports done
// or reboot_timeout passes, reconnecting whenever the connection is lost.
// lastErr is why the last attempt failed (nil: done); err is fatal: the
// context ended, or the host offered a key the known_hosts checks refuse,
// which no retry can mend (reported as the connect error it is).
func (w *rebootWait) until(ctx context.Context, what string, try func(transport.Conn) (bool, error)) (lastErr, err error) {
	deadline := time.Now().Add(w.m.a.RebootTimeout)
	wait := rebootFirstRetry
	for {
		if w.conn == nil {
			w.conn, lastErr = w.dial(ctx)
			var hk *transport.HostKeyError
			if errors.As(lastErr, &hk) {
				return nil, &transport.UnreachableError{Host: hk.Host, Err: fmt.Errorf("reboot: reconnect after the reboot: %w", lastErr)}
			}
		}
		if w.conn != nil {
			var done bool
			done, lastErr = try(w.conn)
			if done {
				return nil, nil
			}
			if transport.IsUnreachable(lastErr) {
				w.conn = nil // the connection is gone: open it again
			}
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("reboot: waiting for %s: %w", what, ctx.Err())
		}
		left := time.Until(deadline)
		if left <= 0 {
			return lastErr, nil
		}
		report(ctx, fmt.Sprintf("rebooting: waiting for %s (%s left): %v", what, left.Round(time.Second), lastErr))
		if err := sleepCtx(ctx, min(wait, left)); err != nil {
			return nil, fmt.Errorf("reboot: waiting for %s: %w", what, err)
		}
		wait = min(2*wait, rebootMaxRetry)
	}
}

// dial re-establishes the connection, within connect_timeout when set.
func (w *rebootWait) dial(ctx context.Context) (transport.Conn, error) {
	if t := w.m.a.ConnectTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	return w.reconnect(ctx)
}
