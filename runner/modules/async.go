package modules

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kballard/go-shellquote"

	"tend/runner/plan"
	"tend/runner/transport"
)

// AsyncOptions are an async task's settings, rendered for the host.
type AsyncOptions struct {
	// Limit is async: in seconds (> 0); Poll is poll: in seconds (0: fire
	// and forget).
	Limit, Poll int
	// Dir is the host's async dir (AsyncDir).
	Dir string
}

// TimeoutMsg is Ansible's message for an async task polled past its limit.
func TimeoutMsg(limit int) string {
	return fmt.Sprintf("async task did not complete within the requested time - %ds", limit)
}

// Async wraps m to run as an async task. A module that is one program
// (AsyncRunner: command, shell) runs as a detached job (asyncjob.go):
// poll > 0 polls it every Poll seconds until it ends or Limit passes;
// poll 0 starts it and reports its ansible_job_id. Any other module runs
// as usual within Limit seconds (poll > 0 only: the parser refuses poll 0
// for it): the same result, but it cannot outlive the connection.
func Async(m Module, o AsyncOptions) (Module, error) {
	if o.Limit <= 0 {
		return m, nil
	}
	if r, ok := m.(AsyncRunner); ok {
		return &asyncJob{inner: m, cmd: r.AsyncCommand(), o: o}, nil
	}
	if o.Poll == 0 {
		return nil, errors.New("async: poll: 0 (fire and forget) is supported for command and shell only")
	}
	return &asyncInline{inner: m, limit: time.Duration(o.Limit) * time.Second}, nil
}

// asyncJob is a command or shell task run as a detached job.
type asyncJob struct {
	inner Module
	cmd   transport.Command
	o     AsyncOptions
}

// Check is the module's own (creates / removes may say there is nothing
// to run).
func (m *asyncJob) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	c, err := m.inner.Check(ctx, conn)
	if err == nil && c.Action == plan.Run {
		c.Summary = fmt.Sprintf("would start as an async job (up to %ds): %s", m.o.Limit, shellquote.Join(m.cmd.Argv...))
	}
	return c, err
}

// Apply starts the job; with poll > 0 it then waits for it.
func (m *asyncJob) Apply(ctx context.Context, conn transport.Conn, _ plan.Change) (plan.Change, error) {
	job, err := LaunchJob(ctx, conn, m.o.Dir, m.cmd, m.o.Limit)
	if err != nil {
		return plan.Change{}, err
	}
	if m.o.Poll == 0 { // Ansible's result for a job left running: changed
		return plan.Change{Action: plan.Run, Summary: "started async job " + job.ID,
			Data: map[string]any{"ansible_job_id": job.ID, "started": 1, "finished": 0, "results_file": job.ResultsFile}}, nil
	}
	return m.poll(ctx, conn, job)
}

// poll reads the job every Poll seconds, Limit seconds long, as Ansible's
// task executor does (sleep first; a read that fails, such as a dropped
// connection, is retried on a new connection while time is left).
func (m *asyncJob) poll(ctx context.Context, conn transport.Conn, job Job) (plan.Change, error) {
	every := time.Duration(m.o.Poll) * time.Second
	var st JobState
	var lastErr error
	done := false
	for left := m.o.Limit; left > 0 && !done; left -= m.o.Poll {
		if err := sleepCtx(ctx, every); err != nil {
			return plan.Change{}, fmt.Errorf("async: waiting for job %s: %w", job.ID, err)
		}
		if conn == nil {
			conn, lastErr = m.reconnect(ctx)
			if conn == nil {
				continue
			}
		}
		st, lastErr = ReadJob(ctx, conn, m.o.Dir, job.ID)
		switch {
		case lastErr != nil && transport.IsUnreachable(lastErr) && reconnectFrom(ctx) != nil:
			conn = nil // the job goes on without the connection: open a new one
		case lastErr != nil:
			if ctx.Err() != nil {
				return plan.Change{}, lastErr
			}
		default:
			done = st.Finished || st.Missing
			report(ctx, fmt.Sprintf("async job %s running (%ds left)", job.ID, left-m.o.Poll))
		}
	}
	if !done {
		if lastErr != nil {
			return plan.Change{}, lastErr // as Ansible: the last poll's error, once time is out
		}
		return plan.Change{Action: plan.None, Failed: true, Msg: TimeoutMsg(m.o.Limit),
			Data: map[string]any{"ansible_job_id": job.ID, "results_file": job.ResultsFile}}, nil
	}
	if _, err := CleanupJob(ctx, conn, m.o.Dir, job.ID); err != nil {
		report(ctx, err.Error())
	}
	return JobChange(job.ID, st), nil
}

// reconnect opens the host's connection again; an unknown or changed host
// key is fatal, any other error is retried at the next poll.
func (m *asyncJob) reconnect(ctx context.Context) (transport.Conn, error) {
	r := reconnectFrom(ctx)
	if r == nil {
		return nil, errors.New("async: the connection cannot be re-established")
	}
	c, err := r(ctx)
	var hk *transport.HostKeyError
	if errors.As(err, &hk) {
		return nil, &transport.UnreachableError{Host: hk.Host, Err: fmt.Errorf("async: reconnect: %w", err)}
	}
	return c, err
}

// asyncInline runs a module that is not one program within the limit.
type asyncInline struct {
	inner    Module
	limit    time.Duration
	deadline time.Time
}

// Check starts the limit and runs the module's Check within it.
func (m *asyncInline) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	m.deadline = time.Now().Add(m.limit)
	return m.within(ctx, func(ctx context.Context) (plan.Change, error) { return m.inner.Check(ctx, conn) })
}

// Apply runs the module's Apply within what is left of the limit.
func (m *asyncInline) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	return m.within(ctx, func(ctx context.Context) (plan.Change, error) { return m.inner.Apply(ctx, conn, planned) })
}

// within runs f under the deadline; running past it is Ansible's failure.
func (m *asyncInline) within(ctx context.Context, f func(context.Context) (plan.Change, error)) (plan.Change, error) {
	dctx, cancel := context.WithDeadline(ctx, m.deadline)
	defer cancel()
	c, err := f(dctx)
	if err != nil && ctx.Err() == nil && dctx.Err() != nil {
		return plan.Change{Action: plan.None, Failed: true, Msg: TimeoutMsg(int(m.limit / time.Second))}, nil
	}
	return c, err
}
