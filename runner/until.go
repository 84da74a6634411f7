package runner

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"tend/runner/playbook"
)

// Ansible's defaults for a task with until: and no retries: or delay:.
const (
	DefaultRetries = 3
	DefaultDelay   = 5 * time.Second
)

// executeUntil runs a task once or, with until:, repeats it (Delay apart)
// until every until expression holds, at most Retries more times: up to
// Retries+1 attempts, as ansible-core 2.14 runs them. until sees the
// attempt's result under the register name and as "result", with
// "attempts" set; the last attempt's result is the task's. A task skipped
// by when:, or a host that became unreachable, is not retried.
func (hp *hostPlay) executeUntil(ctx context.Context, t *playbook.Task, res *TaskResult) outcome {
	if len(t.Until) == 0 {
		return hp.execute(ctx, t, hp.vars(t), res)
	}
	retries, delay, err := hp.retryPace(t)
	if err != nil {
		res.Status, res.Error = StatusFailed, err.Error()
		return outcomeFailed
	}
	defer func() { hp.attempt = 0 }()
	base := *res
	for attempt := 1; ; attempt++ {
		*res = base
		res.Attempts = attempt
		hp.attempt, hp.result = attempt, nil
		out := hp.execute(ctx, t, hp.vars(t), res)
		if out == outcomeUnreachable || res.Status == StatusSkipped {
			return out
		}
		data := hp.result
		if data == nil { // failed before a result existed (bad template, module error)
			data = map[string]any{"changed": false, "failed": true, "skipped": false, "msg": res.Error, "attempts": attempt}
			hp.register(t, data)
		}
		scope := hp.vars(t)
		scope["result"] = data
		if t.Register != "" {
			scope[t.Register] = data // in a loop, registered only at its end
		}
		ok, err := allTrue(t.Until, scope)
		if err != nil {
			res.Status, res.Error = StatusFailed, fmt.Sprintf("%s: until: %v", t.Pos, err)
			return outcomeFailed
		}
		if ok {
			return out
		}
		interrupted := false
		if attempt <= retries {
			interrupted = !hp.sleep(ctx, delay)
		}
		if attempt > retries || interrupted {
			msg := fmt.Sprintf("until (%s) still false after %d attempts", strings.Join(t.Until, " and "), attempt)
			if interrupted {
				msg += " (interrupted)"
			}
			if res.Status == StatusFailed && res.Error != "" {
				msg += "; last attempt: " + res.Error
			}
			data = maps.Clone(data)
			data["failed"] = true
			hp.register(t, data)
			res.Status, res.Error = StatusFailed, msg
			return outcomeFailed
		}
	}
}

// sleep waits d before the next attempt; false when the run was
// interrupted meanwhile.
func (hp *hostPlay) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil && !hp.r.stopped()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	case <-hp.r.opts.Stop: // nil: never
		return false
	}
}
