package modules

import (
	"context"
	"errors"
	"fmt"
	"time"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// waitConnSpec waits until the host answers again: Ansible's
// wait_for_connection. Each attempt opens a new connection through the
// run's connector (the same known_hosts checks as the first) and runs a
// no-op on it. As Ansible's, it is skipped in check mode.
var waitConnSpec = Spec{New: newWaitConn}

// Ansible's defaults for wait_for_connection.
const (
	defaultWaitConnTimeout        = 600 * time.Second
	defaultWaitConnSleep          = time.Second
	defaultWaitConnConnectTimeout = 5 * time.Second
)

// waitConnArgs are wait_for_connection's YAML arguments.
type waitConnArgs struct {
	Delay          time.Duration `yaml:"delay"`
	Sleep          time.Duration `yaml:"sleep"`
	Timeout        time.Duration `yaml:"timeout"`
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
}

// waitConnModule is one wait_for_connection task.
type waitConnModule struct{ a waitConnArgs }

func newWaitConn(a Args) (Module, error) {
	args := waitConnArgs{Sleep: defaultWaitConnSleep, Timeout: defaultWaitConnTimeout, ConnectTimeout: defaultWaitConnConnectTimeout}
	if a.Node != nil {
		if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
			return nil, err
		}
	}
	for _, k := range []struct {
		key string
		d   time.Duration
	}{{"timeout", args.Timeout}, {"connect_timeout", args.ConnectTimeout}} {
		if k.d <= 0 && !templatedArg(a.Node, k.key) {
			return nil, posErr(a.File, argValueNode(a.Node, k.key), "wait_for_connection", "%s must be more than 0 seconds", k.key)
		}
	}
	return &waitConnModule{a: args}, nil
}

// Check says the task would wait: in check mode the runner then skips it,
// as Ansible does.
func (m *waitConnModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	return plan.Change{Action: plan.Run, Summary: fmt.Sprintf("would wait up to %s for the host to answer over a new connection", m.a.Timeout)}, nil
}

// Apply waits delay, then tries a new connection and a no-op on it every
// sleep until one answers or timeout passes (a failed result, as
// Ansible's "timed out waiting for ping module test: ...").
func (m *waitConnModule) Apply(ctx context.Context, conn transport.Conn, _ plan.Change) (plan.Change, error) {
	start := time.Now()
	if err := sleepCtx(ctx, m.a.Delay); err != nil {
		return plan.Change{}, fmt.Errorf("wait_for_connection: %w", err)
	}
	reconnect := reconnectFrom(ctx)
	deadline := start.Add(m.a.Delay).Add(m.a.Timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		lastErr = m.try(ctx, conn, reconnect)
		var hk *transport.HostKeyError
		switch {
		case lastErr == nil:
			return plan.Change{Action: plan.None, Summary: fmt.Sprintf("the host answered after %s", time.Since(start).Round(100*time.Millisecond)),
				Data: map[string]any{"elapsed": int(time.Since(start).Seconds())}}, nil
		case errors.As(lastErr, &hk):
			// A key the known_hosts checks refuse: no retry can mend it.
			return plan.Change{}, &transport.UnreachableError{Host: hk.Host, Err: fmt.Errorf("wait_for_connection: %w", lastErr)}
		case ctx.Err() != nil:
			return plan.Change{}, fmt.Errorf("wait_for_connection: %w", ctx.Err())
		}
		report(ctx, fmt.Sprintf("waiting for the connection (%s left): %v", time.Until(deadline).Round(time.Second), lastErr))
		if err := sleepCtx(ctx, m.a.Sleep); err != nil {
			return plan.Change{}, fmt.Errorf("wait_for_connection: %w", err)
		}
	}
	return plan.Change{Action: plan.None, Failed: true, Msg: fmt.Sprintf("timed out waiting for ping module test: %v", lastErr),
		Data: map[string]any{"elapsed": int(time.Since(start).Seconds())}}, nil
}

// try opens a new connection (when the run can) within connect_timeout
// and runs a no-op on it.
func (m *waitConnModule) try(ctx context.Context, conn transport.Conn, reconnect Reconnect) error {
	cctx, cancel := context.WithTimeout(ctx, m.a.ConnectTimeout)
	defer cancel()
	if reconnect != nil {
		fresh, err := reconnect(cctx)
		if err != nil {
			return err
		}
		conn = fresh
	}
	res, err := conn.Run(cctx, transport.Command{Argv: []string{"/bin/sh", "-c", "true"}, MaxOutput: 4096})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("the no-op exited %d", res.ExitCode)
	}
	return nil
}
