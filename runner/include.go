package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

	"tend/runner/playbook"
	"tend/runner/template"
)

// runInclude runs a dynamic include (include_tasks, include_role), as
// ansible-core does: its when is evaluated once, now; false skips the
// include (reported skipped) and none of its tasks run; true reports an
// include_tasks ok ("included: FILE"; an include_role is not reported) and
// runs its tasks, whose own when alone decides for each. A looped include
// runs once per item (runIncludeLoop). false means the host must stop.
func (hp *hostPlay) runInclude(ctx context.Context, t *playbook.Task, phase Phase) bool {
	if t.Loop != nil {
		return hp.runIncludeLoop(ctx, t, phase)
	}
	hp.result = nil
	start := hp.blocks.steps
	res := TaskResult{Host: hp.s.host.Name, Play: hp.play.Name, Task: t.DisplayName(), Module: t.Module, Phase: phase}
	hp.r.obs.TaskStarted(TaskStart{Host: res.Host, Play: res.Play, Task: res.Task, Module: res.Module, Phase: phase})
	vars := hp.vars(t)
	hp.r.red.collect(hp.play, vars)
	run, err := hp.includeWhen(t, vars)
	if err == nil && run.ok {
		run.tasks, err = hp.includedTasks(t, vars)
	}
	if err != nil {
		res.Status, res.Error = StatusFailed, err.Error()
		return hp.includeFailed(t, &res, phase, start)
	}
	if !run.ok {
		res.Status, res.Reason = StatusSkipped, run.reason
		hp.report(res)
		// In a lockstep batch the others may run the included tasks.
		hp.padSteps(phase, start+includeSteps(t))
		return true
	}
	if t.Module != "include_role" {
		res.Status = StatusOK
		hp.report(res)
	}
	return hp.runIncluded(ctx, t, run.tasks, phase)
}

// includeRun is what an include does for the host (or for one item):
// whether it runs, why not, and the tasks it brings in.
type includeRun struct {
	ok     bool
	reason string
	tasks  []*playbook.Task
	scope  map[string]any // the item's variables, for a looped include
	label  string
}

// includeWhen evaluates an include's when with vars.
func (hp *hostPlay) includeWhen(t *playbook.Task, vars map[string]any) (includeRun, error) {
	for _, cond := range t.When {
		ok, err := template.EvalBool(cond, vars)
		if err != nil {
			return includeRun{}, fmt.Errorf("%s: when: %w", t.Pos, err)
		}
		if !ok {
			return includeRun{reason: "when: " + cond + " is false"}, nil
		}
	}
	return includeRun{ok: true}, nil
}

// includedTasks are the tasks an include brings in for the host: those
// the parser read, or, when the file's name needs the host's data, those
// of the file it renders to now (read once per distinct file in the run,
// checked as the parser checks a playbook's).
func (hp *hostPlay) includedTasks(t *playbook.Task, vars map[string]any) ([]*playbook.Task, error) {
	d := t.Deferred
	if d == nil {
		return t.Block.Tasks, nil
	}
	names, err := renderNames(d, vars)
	if err != nil {
		return nil, err
	}
	_, v, err := d.Load(names)
	if err != nil {
		return nil, err
	}
	return v.([]*playbook.Task), nil
}

// includeSteps is how many lockstep steps an include's tasks take: none
// of their own for a looped or per-host include (runIncluded).
func includeSteps(t *playbook.Task) int {
	if t.Loop != nil || t.Deferred != nil {
		return 0
	}
	return blockSteps(t.Block.Tasks)
}

// includeFailed reports an include that failed before its tasks ran.
func (hp *hostPlay) includeFailed(t *playbook.Task, res *TaskResult, phase Phase, start int) bool {
	if t.IgnoreErrors {
		res.Ignored = true
		hp.report(*res)
		hp.padSteps(phase, start+includeSteps(t))
		return true
	}
	hp.taskFailed(t, res)
	return false
}

// runIncluded runs the tasks an include brought in: as a block of the
// include (block.go). Those of a looped include or of a file chosen per
// host take no lockstep step of their own: their number may differ from
// host to host, so the include is one step.
func (hp *hostPlay) runIncluded(ctx context.Context, t *playbook.Task, tasks []*playbook.Task, phase Phase) bool {
	if t.Deferred == nil && t.Loop == nil {
		return hp.runBlock(ctx, t, phase)
	}
	hp.stepless++
	defer func() { hp.stepless-- }()
	return hp.runBlock(ctx, &playbook.Task{Block: &playbook.Block{Tasks: tasks}}, phase)
}

// runIncludeLoop runs an include once per item, as ansible-core does: every
// item's when (and file name) is evaluated first, with the item in scope;
// then, item by item, the tasks run with the loop variables (loop_var,
// index_var, ansible_loop) bound as include parameters. Each item that
// runs an include_tasks counts ok ("included: FILE => (item=...)"), as
// each included file does in Ansible's recap; an item whose when is false
// is reported skipped (before those that run) but not counted; when no item runs, the include is
// counted skipped once.
func (hp *hostPlay) runIncludeLoop(ctx context.Context, t *playbook.Task, phase Phase) bool {
	hp.result = nil
	start := hp.blocks.steps
	res := TaskResult{Host: hp.s.host.Name, Play: hp.play.Name, Task: t.DisplayName(), Module: t.Module, Phase: phase}
	hp.r.obs.TaskStarted(TaskStart{Host: res.Host, Play: res.Play, Task: res.Task, Module: res.Module, Phase: phase})
	vars := hp.vars(t)
	hp.r.red.collect(hp.play, vars)
	items, err := loopItems(t.Loop, vars, hp.r.pb.File)
	if reason, skip := loopUndefinedSkip(t, vars, err); skip { // loopskip.go
		res.Status, res.Reason = StatusSkipped, reason
		hp.report(res)
		return true
	}
	if err != nil {
		res.Status, res.Error = StatusFailed, fmt.Sprintf("%s: %s: %v", t.Loop.Pos, t.Loop.Kind, err)
		return hp.includeFailed(t, &res, phase, start)
	}
	runs := make([]includeRun, len(items))
	for i, item := range items {
		hp.loopScope = loopScope(t.Loop, items, i)
		ivars := hp.vars(t)
		run, err := hp.includeWhen(t, ivars)
		if err == nil && run.ok {
			run.tasks, err = hp.includedTasks(t, ivars)
		}
		run.scope, run.label = hp.loopScope, hp.itemLabel(t, item)
		hp.loopScope = nil
		if err != nil {
			res.Status, res.Error, res.Item = StatusFailed, err.Error(), run.label
			return hp.includeFailed(t, &res, phase, start)
		}
		runs[i] = run
	}
	// As ansible-playbook shows them: the skipped items (shown, not
	// counted), then "included: FILE => (item=...)" for each that runs.
	ran := 0
	for _, run := range runs {
		if !run.ok {
			hp.r.obs.TaskDone(TaskResult{Host: res.Host, Play: res.Play, Task: res.Task, Module: res.Module, Phase: phase,
				Item: run.label, Status: StatusSkipped, Reason: run.reason})
		}
	}
	for _, run := range runs {
		if !run.ok {
			continue
		}
		ran++
		if t.Module != "include_role" {
			hp.report(TaskResult{Host: res.Host, Play: res.Play, Task: res.Task, Module: res.Module, Phase: phase, Item: run.label, Status: StatusOK})
		}
	}
	if ran == 0 {
		res.Status, res.Reason = StatusSkipped, "all items skipped"
		if len(items) == 0 {
			res.Reason = "no items in the list"
		}
		hp.report(res)
		return true
	}
	outer, outerItems := hp.incScope, hp.incItems
	defer func() { hp.incScope, hp.incItems = outer, outerItems }()
	for _, run := range runs {
		if !run.ok {
			continue
		}
		hp.incScope = maps.Clone(outer)
		if hp.incScope == nil {
			hp.incScope = map[string]any{}
		}
		maps.Copy(hp.incScope, run.scope)
		hp.incItems = itemsKey(outerItems, t, run.scope)
		if !hp.runIncluded(ctx, t, run.tasks, phase) {
			return false
		}
	}
	return true
}

// itemsKey extends the include items key outer (hostPlay.incItems) with
// one item of the looped include t: Ansible groups the hosts of an
// included file by its variables, so the same item, by value, is the same
// file for every host (JSON sorts plain map keys; ordered maps keep theirs).
func itemsKey(outer string, t *playbook.Task, scope map[string]any) string {
	b, err := json.Marshal(scope)
	if err != nil {
		b = fmt.Appendf(nil, "%v", scope)
	}
	return fmt.Sprintf("%s%p:%s;", outer, t, b)
}
