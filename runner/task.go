package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"tend/runner/modules"
	"tend/runner/plan"
	"tend/runner/playbook"
	"tend/runner/template"
	"tend/runner/transport"
)

// runTask runs one task on the host; false means the host must stop.
func (hp *hostPlay) runTask(ctx context.Context, t *playbook.Task, phase Phase) bool {
	// fatal.go: a failure now is judged by t's any_errors_fatal.
	defer hp.fatalFor(t)()
	// booltmpl.go: the templated keywords are rendered when it runs.
	hp.kw = nil
	if cont, handled := hp.engineTask(ctx, t, phase); handled { // meta, end_play, debug above -v (control.go)
		return cont
	}
	if t.Dynamic {
		return hp.runInclude(ctx, t, phase) // include.go
	}
	if t.Block != nil {
		return hp.runBlock(ctx, t, phase) // block.go
	}
	hp.result = nil
	if t.Loop != nil {
		return hp.runLoop(ctx, t, phase)
	}
	start := time.Now()
	res := TaskResult{Host: hp.s.host.Name, Play: hp.play.Name, Task: t.DisplayName(), Module: t.Module, Phase: phase}
	hp.r.obs.TaskStarted(TaskStart{Host: res.Host, Play: res.Play, Task: res.Task, Module: res.Module, Phase: phase})
	// What the module waits for becomes Progress events, paced (progress.go).
	prog := newTaskProgress(realClock{}, hp.r.obs.Progress, Progress{Host: res.Host, Play: res.Play, Task: res.Task}, start)
	outcome := hp.executeUntil(modules.WithReporter(ctx, prog.report), t, &res)
	prog.stop()
	res.Duration = time.Since(start)
	if hp.noLog(t) { // booltmpl.go: as rendered for this host
		hideNoLog(&res)
	}
	switch outcome {
	case outcomeUnreachable:
		if hp.ignoreUnreachable(t) { // as Ansible: counted ignored, the host goes on
			hp.register(t, map[string]any{"unreachable": true, "changed": false, "msg": res.Error})
			res.Ignored = true
			hp.report(res)
			return true
		}
		hp.unreachable(res.Task, hp.unreachableCause(res.Error))
		return false
	case outcomeFailed:
		if hp.ignoreErrors(t) {
			res.Ignored = true
			hp.report(res)
			return true
		}
		hp.taskFailed(t, &res)
		return false
	}
	res.Metrics = hp.metrics(t, res.Status)
	hp.report(res)
	return true
}

type outcome int

const (
	outcomeDone outcome = iota
	outcomeFailed
	outcomeUnreachable
)

// execute evaluates when, builds the module, checks, applies and registers.
func (hp *hostPlay) execute(ctx context.Context, t *playbook.Task, vars map[string]any, res *TaskResult) outcome {
	hp.r.red.collect(hp.play, vars) // before anything of this task can be reported
	hp.factsFor = ""                // facts.go: set below for delegate_facts
	failWith := func(err error) outcome {
		res.Status, res.Error = StatusFailed, err.Error()
		return outcomeFailed
	}
	_ = hp.renderBoolKeywords(t, vars, false) // booltmpl.go: no_log for a skip, as ansible-core's play context
	for _, cond := range t.When {
		ok, err := template.EvalBool(cond, vars)
		if err != nil {
			return failWith(fmt.Errorf("%s: when: %w", t.Pos, err))
		}
		if !ok {
			res.Status, res.Reason = StatusSkipped, "when: "+cond+" is false"
			hp.register(t, map[string]any{"skipped": true, "changed": false})
			return outcomeDone
		}
	}
	if err := hp.renderBoolKeywords(t, vars, true); err != nil { // after when, as ansible-core's post_validate
		return failWith(err)
	}
	if t.IncludeVars != nil || t.Module == "include_vars" {
		return hp.includeVars(t, vars, res) // includevars.go
	}
	spec, mod, err := newModule(t, vars)
	if err != nil {
		return failWith(err)
	}
	if t.Async != "" { // async.go
		dry := hp.r.opts.Check
		if cm := hp.checkMode(t); cm != nil {
			dry = *cm
		}
		if mod, err = hp.asyncModule(t, vars, mod, dry); err != nil {
			return failWith(err)
		}
	}
	if sh, ok := mod.(modules.SecretHolder); ok {
		hp.r.red.add(sh.Secrets()...) // a password argument (uri's url_password) is never shown
	}
	if t.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.Timeout)
		defer cancel()
	}
	dlg, err := hp.delegate(ctx, t, vars) // delegate.go
	if err != nil && transport.IsUnreachable(err) {
		res.Status, res.Error = StatusUnreachable, err.Error() // as Ansible: this host is unreachable
		return outcomeUnreachable
	} else if err != nil {
		return failWith(err)
	}
	if dlg != nil && !dlg.self {
		res.Delegate = dlg.name
		if hp.factsDelegated(t) { // facts.go; delegate checked it is an inventory host
			hp.factsFor = dlg.name
		}
	}
	conn, err := hp.delegatedConn(t, vars, dlg) // through sudo when become applies
	if err != nil {
		return failWith(fmt.Errorf("%s: become: %w", t.Pos, err))
	}
	if conn, err = hp.withEnvironment(conn, t, vars); err != nil { // environment.go
		return failWith(err)
	}
	if dlg == nil { // a module may re-establish the host's connection (reboot)
		ctx = modules.WithReconnect(ctx, hp.reconnector(t, vars)) // reconnect.go
	}
	checkConn := conn
	if p := hp.prefetch; p != nil { // loopread.go: this item's read, run ahead with others
		hp.prefetch = nil
		checkConn = p.over(conn)
	}
	change, err := mod.Check(ctx, checkConn)
	if err != nil {
		return hp.moduleError(ctx, t, res, err)
	}
	dry := hp.r.opts.Check
	if cm := hp.checkMode(t); cm != nil {
		dry = *cm // check_mode: false runs a read-only command for real under --check
	}
	res.DryRun = dry && change.Changed()
	var budget *budgetCheck
	if t.Budget != nil && change.Changed() { // budget.go: spent fails closed, before anything changes
		if budget, err = hp.budgetGate(ctx, t, vars, res, dry); err != nil {
			return failWith(err)
		}
	}
	if change.Skipped { // the module's own skip (unarchive's creates), in check mode too
		res.Status, res.Reason, res.Change = StatusSkipped, change.Summary, change
		hp.register(t, map[string]any{"skipped": true, "changed": false, "msg": change.Summary})
		return outcomeDone
	}
	if dry && change.Action == plan.Run {
		hp.noteChange(t, change, conn, dry) // rollback.go: would not be undone
		res.Status, res.Reason, res.Change, res.DryRun = StatusSkipped, "check mode: would run", change, false
		hp.register(t, map[string]any{"skipped": true, "changed": false})
		return outcomeDone
	}
	if !dry && change.Changed() {
		if approve := hp.r.opts.Approve; approve != nil {
			// The change as the dry run reported it: redacted, hidden under no_log.
			shown := TaskResult{Change: hp.r.red.change(change)}
			if hp.noLog(t) {
				hideNoLog(&shown)
			}
			if err := approve(ctx, hp.s.host.Name, hp.play.Name, t.DisplayName(), conn, shown.Change); err != nil {
				res.Change = change
				return failWith(fmt.Errorf("not applied: %w", err))
			}
		}
		hp.applies++
		applied, err := mod.Apply(ctx, conn, change)
		if err != nil {
			return hp.moduleError(ctx, t, res, err)
		}
		change = applied
		if modules.IsVerifiable(spec, mod) && !change.Failed {
			hp.applied = append(hp.applied, appliedTask{task: t, item: hp.itemName, mod: mod, conn: conn})
		}
	}
	hp.noteChange(t, change, conn, dry) // rollback.go
	res.Change = change
	changed, failed := change.Changed(), change.Failed
	data := map[string]any{}
	maps.Copy(data, change.Data)
	data["changed"], data["failed"], data["skipped"] = changed, failed, false
	if hp.attempt > 0 {
		data["attempts"] = hp.attempt // until: changed_when and failed_when see it too
	}
	if change.Msg != "" {
		data["msg"] = change.Msg
	}
	// changed_when / failed_when see the result under its register name and as "result".
	if len(t.ChangedWhen) > 0 || len(t.FailedWhen) > 0 {
		scope := maps.Clone(vars)
		scope["result"] = data
		if t.Register != "" {
			scope[t.Register] = data
		}
		if len(t.ChangedWhen) > 0 {
			v, err := allTrue(t.ChangedWhen, scope)
			if err != nil {
				return failWith(fmt.Errorf("%s: changed_when: %w", t.Pos, err))
			}
			changed = v
		}
		if len(t.FailedWhen) > 0 {
			v, err := allTrue(t.FailedWhen, scope)
			if err != nil {
				return failWith(fmt.Errorf("%s: failed_when: %w", t.Pos, err))
			}
			failed = v
		}
		data["changed"], data["failed"] = changed, failed
	}
	hp.register(t, data)
	switch {
	case failed:
		res.Status, res.Changed = StatusFailed, changed
		res.Error = firstNonEmpty(change.Msg, "failed")
		if stderr, _ := change.Data["stderr"].(string); stderr != "" {
			res.Error += ": " + stderr
		}
		return outcomeFailed
	case changed:
		res.Status = StatusChanged
		if budget != nil && !dry {
			if err := hp.budgetSpend(ctx, t, res, budget); err != nil {
				return failWith(err)
			}
		}
		for _, n := range t.Notify {
			if !hp.notified[n] && !dry {
				if err := hp.markPending(ctx, n); err != nil {
					hp.warn(res.Task, "could not record the pending handler "+n+": "+err.Error())
				}
			}
			hp.notified[n] = true
		}
	default:
		res.Status = StatusOK
	}
	return outcomeDone
}

// newModule builds t's module from its arguments, rendered with vars
// (unless the module renders its own).
func newModule(t *playbook.Task, vars map[string]any) (modules.Spec, modules.Module, error) {
	spec, _ := modules.Lookup(t.Module) // Validate checked it exists
	node := t.Args
	if !spec.RendersOwnArgs && node != nil {
		rendered, err := template.RenderNode(node, vars)
		if err != nil {
			return spec, nil, fmt.Errorf("%s: %s: %w", t.ModulePos, t.Module, err)
		}
		node = dropOmitted(rendered)
	}
	base, _ := vars["playbook_dir"].(string)
	mod, err := spec.New(modules.Args{
		Node: node, File: t.Pos.File, // the task's own file: it may be imported
		SearchPath: stringList(vars[template.SearchPathVar]), BaseDir: base,
		Eval:   func(e string) (any, error) { return template.Eval(e, vars) },
		Render: func(s string) (any, error) { return template.Render(s, vars) },
		RenderPieces: func(s string, emit func(string, bool)) error {
			return template.RenderPieces(s, vars, emit)
		},
		RenderFile: func(name, text string) (string, error) { return template.RenderFile(name, text, vars) },
	})
	return spec, mod, err
}

// stringList is the strings of a []any (ansible_search_path).
func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// moduleError classifies a module's Go error: the task's timeout fails
// the task (the transport has ended the remote command); a lost connection
// makes the host unreachable; anything else fails the task.
func (hp *hostPlay) moduleError(ctx context.Context, t *playbook.Task, res *TaskResult, err error) outcome {
	res.Error = err.Error()
	if t.Timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		res.Status, res.Error = StatusFailed, fmt.Sprintf("timed out after %s (task timeout); the command was ended", t.Timeout)
		return outcomeFailed
	}
	if transport.IsUnreachable(err) {
		res.Status = StatusUnreachable
		hp.lostWith = err // a host key refused on reconnect is reported as one
		return outcomeUnreachable
	}
	res.Status = StatusFailed
	return outcomeFailed
}

func (hp *hostPlay) register(t *playbook.Task, data map[string]any) {
	hp.result = data
	hp.r.varsMu.Lock() // other hosts read it through hostvars
	defer hp.r.varsMu.Unlock()
	if t.Register != "" && hp.loopScope == nil { // a loop registers its results at the end
		hp.s.registered[t.Register] = data
	}
	hp.absorb(t, data)
}

func allTrue(conds []string, vars map[string]any) (bool, error) {
	for _, c := range conds {
		ok, err := template.EvalBool(c, vars)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// unreachableCause is the error that made the task's host unreachable:
// the module's own when it is the one reported (its type says whether a
// host key was refused), else the reported text.
func (hp *hostPlay) unreachableCause(reported string) error {
	err := hp.lostWith
	hp.lostWith = nil
	if err != nil && err.Error() == reported {
		return err
	}
	return errors.New(reported)
}
