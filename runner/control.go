package runner

import (
	"context"
	"fmt"

	"tend/runner/modules"
	"tend/runner/plan"
	"tend/runner/playbook"
	"tend/runner/template"
)

// engineTask runs what the engine does itself, before a task's module:
// meta, a play ended by meta: end_play, and a debug task whose verbosity
// is above -v (skipped, as Ansible). handled is false for every other
// task; cont is false when the host must stop the play.
func (hp *hostPlay) engineTask(ctx context.Context, t *playbook.Task, phase Phase) (cont, handled bool) {
	if _, ended := hp.r.endedPlays.Load(hp.play); ended {
		return false, true
	}
	switch t.Module {
	case "meta":
		return hp.meta(ctx, t, phase), true
	case "setup":
		if hp.skipsGather(t) { // factsuse.go
			res := TaskResult{Host: hp.s.host.Name, Play: hp.play.Name, Task: t.DisplayName(), Module: t.Module, Phase: phase, Status: StatusOK,
				Change: plan.Change{Action: plan.None, Summary: "facts not gathered: nothing in this run reads a fact (gather_facts: true gathers them)"}}
			hp.r.obs.TaskStarted(TaskStart{Host: res.Host, Play: res.Play, Task: res.Task, Module: res.Module, Phase: phase})
			hp.report(res)
			return true, true
		}
	case "debug":
		if want := modules.DebugVerbosity(t.Args); want > hp.r.opts.Verbosity {
			res := TaskResult{Host: hp.s.host.Name, Play: hp.play.Name, Task: t.DisplayName(), Module: t.Module, Phase: phase,
				Status: StatusSkipped, Reason: fmt.Sprintf("verbosity %d is above -v (%d)", want, hp.r.opts.Verbosity)}
			hp.r.obs.TaskStarted(TaskStart{Host: res.Host, Play: res.Play, Task: res.Task, Module: res.Module, Phase: phase})
			hp.register(t, map[string]any{"skipped": true, "changed": false, "skipped_reason": "Verbosity threshold not met."})
			hp.report(res)
			return true, true
		}
	}
	return true, false
}

// meta runs a meta task. As with Ansible it counts in no recap total,
// whether it ran or its when: was false.
func (hp *hostPlay) meta(ctx context.Context, t *playbook.Task, phase Phase) bool {
	action := ""
	if t.Args != nil {
		action = t.Args.Value
	}
	vars := hp.vars(t)
	for _, cond := range t.When {
		ok, err := template.EvalBool(cond, vars)
		if err != nil {
			res := TaskResult{Host: hp.s.host.Name, Play: hp.play.Name, Task: t.DisplayName(), Module: t.Module, Phase: phase,
				Status: StatusFailed, Error: fmt.Sprintf("%s: when: %v", t.Pos, err)}
			hp.taskFailed(t, &res)
			return false
		}
		if !ok {
			return true
		}
	}
	switch action {
	case "flush_handlers":
		return hp.flushHandlers(ctx)
	case "end_host":
		return false // the play ends here for this host, which did not fail
	case "end_play":
		hp.r.endedPlays.Store(hp.play, true)
		return false
	case "clear_host_errors":
		hp.r.clearHostErrors()
	case "clear_facts":
		hp.r.varsMu.Lock()
		delete(hp.r.facts, hp.s.host.Name)
		hp.r.varsMu.Unlock()
	}
	return true // noop, refresh_inventory
}

// flushHandlers runs the handlers notified so far, in the order they are
// defined; a handler notified again later runs again at the end.
func (hp *hostPlay) flushHandlers(ctx context.Context) bool {
	for _, h := range hp.play.Handlers {
		if !hp.isNotified(h) {
			continue
		}
		delete(hp.notified, h.Name)
		for _, l := range h.Listen {
			delete(hp.notified, l)
		}
		if !hp.runList(ctx, []*playbook.Task{h}, PhaseHandler) {
			return false
		}
		if !hp.r.opts.Check {
			if err := hp.clearPending(ctx, h); err != nil {
				hp.warn(h.DisplayName(), "could not clear the pending-handler marker: "+err.Error())
			}
		}
	}
	return true
}

// clearHostErrors lets the hosts that failed so far run the later plays
// (Ansible's meta: clear_host_errors); their recap keeps the failure.
func (r *run) clearHostErrors() {
	r.varsMu.Lock()
	defer r.varsMu.Unlock()
	for h := range r.down {
		r.cleared[h] = true
	}
}

// revive returns the cleared hosts to life before a play starts.
func (r *run) revive() {
	r.varsMu.Lock()
	cleared := r.cleared
	r.cleared = map[string]bool{}
	for h := range cleared {
		delete(r.down, h)
	}
	if len(cleared) > 0 {
		r.lists.downChanged()
	}
	r.varsMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	for h := range cleared {
		if s := r.hosts[h]; s != nil && s.recap.Unreachable == 0 {
			s.dead = false
		}
	}
}
