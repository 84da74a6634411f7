package runner

import (
	"context"
	"sync"

	"tend/runner/playbook"
)

// throttles bounds how many hosts run a task with throttle: N at once
// (Ansible's throttle), across the run: one semaphore per task.
type throttles struct {
	mu  sync.Mutex
	sem map[*playbook.Task]chan struct{}
}

// acquire waits for one of t's slots; release gives it back. False when
// ctx ended first.
func (th *throttles) acquire(ctx context.Context, t *playbook.Task) (release func(), ok bool) {
	th.mu.Lock()
	if th.sem == nil {
		th.sem = map[*playbook.Task]chan struct{}{}
	}
	sem, found := th.sem[t]
	if !found {
		sem = make(chan struct{}, t.Throttle)
		th.sem[t] = sem
	}
	th.mu.Unlock()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, true
	case <-ctx.Done():
		return nil, false
	}
}

// runThrottled runs t holding one of its throttle slots.
func (hp *hostPlay) runThrottled(ctx context.Context, t *playbook.Task, phase Phase, run func(context.Context, *playbook.Task, Phase) bool) bool {
	release, ok := hp.r.throttled.acquire(ctx, t)
	if !ok {
		hp.stop(t.DisplayName(), "interrupted")
		return false
	}
	defer release()
	return run(ctx, t, phase)
}
