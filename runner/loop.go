package runner

import (
	"context"
	"fmt"
	"maps"
	"time"

	"tend/runner/playbook"
	"tend/runner/template"
)

// maxItemOutput caps each output string (stdout, stderr, msg) of one
// item's result, in its event and its registered entry, so that a loop of
// thousands of items stays bounded in memory.
const maxItemOutput = 16 << 10

// runLoop runs a looped task on the host: each item as the task would run
// alone (when, until, changed_when, failed_when per item, with the item in
// scope), each reported as an item result, then the task's own result
// counted once in the recap, as Ansible counts it: failed if any item
// failed, skipped if every item was skipped (or there were none), changed
// if any changed. Registered, the task's result has the items' results
// under "results". False means the host must stop.
func (hp *hostPlay) runLoop(ctx context.Context, t *playbook.Task, phase Phase) bool {
	start := time.Now()
	l := t.Loop
	res := TaskResult{Host: hp.s.host.Name, Play: hp.play.Name, Task: t.DisplayName(), Module: t.Module, Phase: phase, Loop: &LoopCounts{}}
	hp.r.obs.TaskStarted(TaskStart{Host: res.Host, Play: res.Play, Task: res.Task, Module: res.Module, Phase: phase})
	vars := hp.vars(t)
	hp.r.red.collect(hp.play, vars)
	items, err := loopItems(l, vars, hp.r.pb.File)
	if reason, skip := loopUndefinedSkip(t, vars, err); skip { // loopskip.go
		res.Status, res.Reason, res.Loop = StatusSkipped, reason, nil
		return hp.loopDone(t, &res, start, map[string]any{"changed": false, "skipped": true, "skip_reason": "Conditional result was False"})
	}
	if err != nil {
		res.Status, res.Error = StatusFailed, fmt.Sprintf("%s: %s: %v", l.Pos, l.Kind, err)
		return hp.loopDone(t, &res, start, map[string]any{"changed": false, "failed": true, "msg": res.Error})
	}
	res.Loop.Items = len(items)
	acc := &loopAcc{hp: hp, t: t, res: &res, results: make([]any, 0, len(items))}
	if done, alive := hp.sysctlBatch(ctx, t, items, phase, acc); done {
		if !alive {
			return false
		}
	} else {
		reads := hp.newLoopReads(t, items) // loopread.go
		for i, item := range items {
			if i > 0 && l.Pause > 0 && !hp.sleep(ctx, l.Pause) {
				res.Status, res.Error = StatusFailed, "interrupted during loop_control.pause"
				break
			}
			scope := loopScope(l, items, i)
			hp.loopScope = scope
			ires := TaskResult{Host: res.Host, Play: res.Play, Task: res.Task, Module: res.Module, Phase: phase}
			ires.Item = hp.itemLabel(t, item)
			hp.itemName = ires.Item
			istart := time.Now()
			hp.result = nil
			applies := hp.applies
			hp.prefetch = reads.next(ctx, i)
			out := hp.executeUntil(ctx, t, &ires)
			hp.prefetch = nil
			if hp.applies != applies {
				reads.changed()
			}
			ires.Duration = time.Since(istart)
			if !acc.add(ires, hp.result, scope, out) {
				return false
			}
		}
	}
	results, firstErr := acc.results, acc.firstErr
	hp.loopScope, hp.itemName = nil, ""
	hp.kw = acc.keywords() // the items' no_log and ignore_errors, for the task's result
	// As Ansible's: the loop changed when any item did, a failed one included.
	agg := map[string]any{"changed": res.Loop.Changed > 0 || res.Changed, "results": results, "skipped": false}
	switch {
	case res.Status == StatusFailed: // interrupted
		agg["failed"], agg["msg"] = true, res.Error
		res.Changed = agg["changed"].(bool)
	case res.Loop.Failed > 0:
		res.Status, res.Changed = StatusFailed, agg["changed"].(bool)
		res.Error = fmt.Sprintf("%d of %d items failed; first: %s", res.Loop.Failed, len(items), firstErr)
		agg["failed"], agg["msg"] = true, "One or more items failed"
	case len(items) == 0:
		res.Status, res.Reason = StatusSkipped, "no items in the list"
		agg["skipped"], agg["skipped_reason"] = true, "No items in the list"
	case res.Loop.Skipped == len(items):
		res.Status, res.Reason = StatusSkipped, "all items skipped"
		agg["skipped"], agg["msg"] = true, "All items skipped"
	case res.Loop.Changed > 0:
		res.Status = StatusChanged
		agg["msg"] = "All items completed"
	default:
		res.Status = StatusOK
		agg["msg"] = "All items completed"
	}
	return hp.loopDone(t, &res, start, agg)
}

// loopDone registers the loop's result and reports it once.
func (hp *hostPlay) loopDone(t *playbook.Task, res *TaskResult, start time.Time, agg map[string]any) bool {
	hp.register(t, agg)
	res.Duration = time.Since(start)
	if hp.noLog(t) {
		hideNoLog(res)
	}
	if res.Status == StatusFailed {
		if hp.ignoreErrors(t) {
			res.Ignored = true
			hp.report(*res)
			return true
		}
		hp.taskFailed(t, res)
		return false
	}
	res.Metrics = hp.metrics(t, res.Status) // after the loop, from its registered results
	hp.report(*res)
	return true
}

// loopScope is the variables one item adds: the loop variable, the index
// variable, ansible_loop when extended.
func loopScope(l *playbook.Loop, items []any, i int) map[string]any {
	scope := map[string]any{l.LoopVar: items[i]}
	if l.IndexVar != "" {
		scope[l.IndexVar] = i
	}
	if l.Extended {
		n := len(items)
		ext := map[string]any{
			"allitems": items, "index": i + 1, "index0": i, "revindex": n - i, "revindex0": n - i - 1,
			"first": i == 0, "last": i == n-1, "length": n,
		}
		if i > 0 {
			ext["previtem"] = items[i-1]
		}
		if i < n-1 {
			ext["nextitem"] = items[i+1]
		}
		scope["ansible_loop"] = ext
	}
	return scope
}

// itemLabel renders loop_control.label for the current item (the item
// itself without one); a label that fails to render shows the item.
func (hp *hostPlay) itemLabel(t *playbook.Task, item any) string {
	if t.Loop.Label == "" {
		return itemLabel(item)
	}
	v, err := template.Render(t.Loop.Label, hp.vars(t))
	if err != nil {
		return itemLabel(item)
	}
	return itemLabel(v)
}

// capOutput returns a copy of data with its output strings capped.
func capOutput(data map[string]any) map[string]any {
	out := maps.Clone(data)
	for _, k := range []string{"stdout", "stderr", "msg"} {
		if s, ok := out[k].(string); ok && len(s) > maxItemOutput {
			out[k] = truncate(s, maxItemOutput)
		}
	}
	for _, k := range []string{"stdout_lines", "stderr_lines"} {
		if l, ok := out[k].([]string); ok && len(l) > 1000 {
			out[k] = l[:1000]
		}
		if l, ok := out[k].([]any); ok && len(l) > 1000 {
			out[k] = l[:1000]
		}
	}
	return out
}

// loopAcc accounts the items of a loop: their events, registered results
// and counts.
type loopAcc struct {
	hp       *hostPlay
	t        *playbook.Task
	res      *TaskResult
	results  []any
	firstErr string
	// noLog is set when an item ran under a templated no_log that did not
	// render false; ignore is what the failed items' templated
	// ignore_errors rendered (ignored only if every one rendered true),
	// failedSeen whether one failed (booltmpl.go).
	noLog, ignore, failedSeen bool
}

// keywords is what the loop's templated boolean keywords come to for the
// task's own result, as ansible-core sums its items: no_log if any item's,
// ignore_errors as the failed items' (the first's, false if any is false).
func (a *loopAcc) keywords() map[string]bool {
	kw := map[string]bool{"ignore_errors": a.ignore}
	if !a.noLog {
		kw["no_log"] = false
	}
	return kw
}

// add records one item's result (data is what it registered, nil if
// nothing) and reports it; false when the host became unreachable.
func (a *loopAcc) add(ires TaskResult, data map[string]any, scope map[string]any, out outcome) bool {
	hp, t, res := a.hp, a.t, a.res
	if data == nil {
		data = map[string]any{"changed": false, "failed": ires.Status == StatusFailed, "skipped": ires.Status == StatusSkipped}
		if ires.Error != "" {
			data["msg"] = ires.Error
		}
	}
	data = capOutput(data)
	maps.Copy(data, scope)
	data["ansible_loop_var"] = t.Loop.LoopVar
	a.results = append(a.results, data)
	if ires.Change.Data != nil {
		ires.Change.Data = capOutput(ires.Change.Data)
	}
	if hp.noLog(t) { // booltmpl.go: as rendered for this item
		hideNoLog(&ires)
		ires.Item = NoLogText
		a.noLog = true
	}
	if ires.Status == StatusFailed {
		ig := hp.ignoreErrors(t)
		ires.Ignored = ig // as Ansible marks the item's failure "...ignoring"
		if !a.failedSeen {
			a.ignore, a.failedSeen = ig, true
		} else if !ig {
			a.ignore = false
		}
	}
	switch ires.Status {
	case StatusChanged:
		res.Loop.Changed++
		res.DryRun = res.DryRun || ires.DryRun
		if !hp.r.opts.Check {
			hp.s.recap.Applied = append(hp.s.recap.Applied, fmt.Sprintf("%s (item=%s): %s", res.Task, ires.Item, firstNonEmpty(ires.Change.Summary, string(ires.Change.Action))))
		}
	case StatusFailed:
		res.Loop.Failed++
		res.Changed = res.Changed || ires.Changed
		if a.firstErr == "" {
			a.firstErr = ires.Error
		}
	case StatusSkipped:
		res.Loop.Skipped++
	case StatusOK:
		res.Loop.OK++
	}
	hp.r.obs.TaskDone(ires)
	if out == outcomeUnreachable {
		hp.loopScope, hp.itemName = nil, ""
		hp.unreachable(res.Task, fmt.Errorf("%s", ires.Error))
		return false
	}
	return true
}
