package runner

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"tend/runner/playbook"
	"tend/runner/template"
)

// throttles bounds how many hosts run a task with throttle: N at once
// (Ansible's throttle), across the run: one counter per task. A templated
// throttle may render to a different N on each host: a host waits while
// as many hosts as its own N run the task, as Ansible's worker rewind does.
type throttles struct {
	mu    sync.Mutex
	slots map[*playbook.Task]*throttleSlots
}

// throttleSlots counts the hosts running one task; changed is closed (and
// replaced) whenever one leaves.
type throttleSlots struct {
	running int
	changed chan struct{}
}

// acquire waits until fewer than n hosts run t and takes a place; release
// gives it back. False when ctx ended first.
func (th *throttles) acquire(ctx context.Context, t *playbook.Task, n int) (release func(), ok bool) {
	for {
		th.mu.Lock()
		if th.slots == nil {
			th.slots = map[*playbook.Task]*throttleSlots{}
		}
		s, found := th.slots[t]
		if !found {
			s = &throttleSlots{changed: make(chan struct{})}
			th.slots[t] = s
		}
		if s.running < n {
			s.running++
			th.mu.Unlock()
			return func() {
				th.mu.Lock()
				s.running--
				close(s.changed)
				s.changed = make(chan struct{})
				th.mu.Unlock()
			}, true
		}
		wait := s.changed
		th.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// runThrottled runs t holding one of its throttle places.
func (hp *hostPlay) runThrottled(ctx context.Context, t *playbook.Task, phase Phase, run func(context.Context, *playbook.Task, Phase) bool) bool {
	n := t.Throttle
	if t.ThrottleTemplate != "" {
		var err error
		if n, err = renderThrottle(t.ThrottleTemplate, hp.vars(t)); err != nil {
			// Ansible stops on it ("Failed to convert the throttle value to
			// an integer"); here the host's task fails, as a bad retries does.
			res := TaskResult{Host: hp.s.host.Name, Play: hp.play.Name, Task: t.DisplayName(), Module: t.Module, Phase: phase,
				Status: StatusFailed, Error: fmt.Sprintf("%s: throttle: %v", t.KeyPos["throttle"], err)}
			hp.r.obs.TaskStarted(TaskStart{Host: res.Host, Play: res.Play, Task: res.Task, Module: res.Module, Phase: phase})
			hp.taskFailed(t, &res)
			return false
		}
		if n <= 0 {
			return run(ctx, t, phase) // 0: no bound
		}
	}
	release, ok := hp.r.throttled.acquire(ctx, t, n)
	if !ok {
		hp.stop(t.DisplayName(), "interrupted")
		return false
	}
	defer release()
	return run(ctx, t, phase)
}

// renderThrottle renders a templated throttle and converts it as Python's
// int() does: an integer, a float truncated, a string of decimal digits
// (spaces around allowed), a bool as 0 or 1.
func renderThrottle(tmpl string, vars map[string]any) (int, error) {
	v, err := template.Render(tmpl, vars)
	if err != nil {
		return 0, err
	}
	var n int
	switch x := v.(type) {
	case bool:
		if x {
			n = 1
		}
	case int:
		n = x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		n = int(x)
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		n = i
	default:
		return 0, fmt.Errorf("renders to %v, not an integer", v)
	}
	if n < 0 {
		return 0, fmt.Errorf("renders to %d: must not be negative", n)
	}
	return n, nil
}
