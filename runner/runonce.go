package runner

import (
	"context"
	"sync"

	"tend/runner/playbook"
)

// run_once: the first host of the batch to reach the task runs it, and
// only that host reports it and counts it in its recap; every other host
// of the batch waits for it, then gets its registered result. When the
// task fails there, every other host of the batch stops, as Ansible
// fails every host of the batch (they count nothing for it).

// onceTable holds the batch's run_once tasks, each run by one host.
type onceTable struct {
	mu    sync.Mutex
	tasks map[onceKey]*onceRun
}

// onceKey is one run_once task as the batch runs it: a task a looped
// include brought in runs once per item (inc names the items of the
// includes around it), as Ansible runs each item's included file as a
// file of its own.
type onceKey struct {
	t   *playbook.Task
	inc string
}

// onceRun is one run_once task in a batch.
type onceRun struct {
	done   chan struct{} // closed when the host running it has finished
	host   string        // the host that runs it
	failed bool          // it failed there (set before done is closed)
	has    bool          // it registered a result
	result any
}

// claim returns the task's run and whether host is the one to run it.
func (o *onceTable) claim(k onceKey, host string) (*onceRun, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.tasks == nil {
		o.tasks = map[onceKey]*onceRun{}
	}
	if r, ok := o.tasks[k]; ok {
		return r, false
	}
	r := &onceRun{done: make(chan struct{}), host: host}
	o.tasks[k] = r
	return r, true
}

// runOnce runs a run_once task: on this host if it is the first of the
// batch to reach it, else it waits for that host and takes its result.
// False means the host must stop.
func (hp *hostPlay) runOnce(ctx context.Context, t *playbook.Task, phase Phase) bool {
	run, first := hp.b.once.claim(onceKey{t, hp.incItems}, hp.s.host.Name)
	if first {
		cont := false
		defer func() {
			hp.r.varsMu.Lock()
			run.result, run.has = hp.s.registered[t.Register]
			hp.r.varsMu.Unlock()
			run.failed = !cont && hp.status == StatusFailed
			close(run.done)
		}()
		cont = hp.runTask(ctx, t, phase)
		return cont
	}
	select {
	case <-run.done:
	case <-ctx.Done():
		hp.stop(t.DisplayName(), "interrupted")
		return false
	}
	if run.failed {
		hp.stop(t.DisplayName(), "the run_once task failed on "+run.host)
		return false
	}
	if t.Register != "" && run.has {
		hp.r.varsMu.Lock()
		hp.s.registered[t.Register] = run.result
		hp.r.varsMu.Unlock()
	}
	return true
}
