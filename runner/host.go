package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"tend/inventory"
	"tend/runner/modules"
	"tend/runner/playbook"
	"tend/runner/template"
	"tend/runner/transport"
)

// hostState is everything the run knows about one host. Only the goroutine
// running the host touches it while a play runs.
type hostState struct {
	host *inventory.Host
	conn transport.Conn
	// connUser is the SSH user conn was opened for ("" the default).
	connUser   string
	registered map[string]any
	recap      HostRecap
	err        error
	// dead is set when the host failed or became unreachable: later plays skip it.
	dead bool
	// becomeRefused remembers, per become user and password, that sudo
	// rejected the password (or needed one): it is not tried again.
	becomeRefused map[becomeKey]error
	// probes records the connections tend's own port probes made on the
	// host, for the socket counts to leave out (modules.ProbeLedger).
	probes *modules.ProbeLedger

	// included holds the variables include_vars tasks gave the host.
	included map[string]any
	// budgetSpent is set when a task's budget stopped the host (budget.go).
	budgetSpent bool
	// idle is set while conn is kept open between plays (connlife.go).
	idle bool
}

// appliedTask remembers a module that changed the host, to re-check it.
type appliedTask struct {
	task *playbook.Task
	item string // the loop item's label, if any
	mod  modules.Module
	conn transport.Conn // the task's own: through sudo when it used become
}

// hostPlay is one play running on one host.
type hostPlay struct {
	r        *run
	play     *playbook.Play
	s        *hostState
	notified map[string]bool
	applied  []appliedTask
	// factsFor is the delegate the running task's facts go to
	// (delegate_facts), "" for the host itself.
	factsFor string
	// kw holds the running task's templated boolean keywords as rendered
	// for this host (this loop item), by keyword (booltmpl.go).
	kw map[string]bool
	b  *batch
	// status is the play's outcome on the host so far, for HostDone.
	status Status
	// holding is true while the host holds a fork slot.
	holding bool
	// attempt is the current attempt of a task with until: (0 without);
	// result is the data the last execute registered (nil if none).
	attempt int
	result  map[string]any
	// loopScope holds the current item's variables while a loop runs (nil
	// otherwise); itemName is its label.
	loopScope map[string]any
	itemName  string
	// incScope holds the loop variables of the looped includes being run
	// (include.go): include parameters, as Ansible's, for their tasks.
	incScope map[string]any
	// incItems names the items of the looped includes being run, for
	// run_once (runonce.go): one run per item.
	incItems string
	// stepless counts the looped or per-host includes being run: their
	// tasks take no lockstep step of their own (include.go).
	stepless int
	// blocks tracks the blocks the host is inside (block.go).
	blocks blockState
	// changes counts the tasks that changed the host in this play (or
	// would, in check mode).
	changes int
	// undo lists the host's changes in the play, for rollback: (rollback.go);
	// rolled is what the rollback did, for HostDone.
	undo   []undoEntry
	rolled *Rollback
	// lostWith is the module error that made the host unreachable.
	lostWith error
	// prefetch answers the next Check's first read from a loop's batched
	// read (loopread.go); applies counts the Apply calls made.
	prefetch *prefetched
	applies  int
	// taskFatal is the any_errors_fatal of the task being run (fatal.go):
	// nil outside a task, or when the task leaves it to the play.
	taskFatal *bool
}

// runHost runs a play's tasks, notified handlers, re-checks and verify on
// one host of batch b. Outside lockstep the host holds a fork slot for the
// whole play; in lockstep only while it runs a task, so that hosts waiting
// for the others to finish a task never hold the slots those need.
func (r *run) runHost(ctx context.Context, p *playbook.Play, s *hostState, b *batch, sel selection) {
	hp := &hostPlay{r: r, play: p, s: s, notified: map[string]bool{}, b: b, status: StatusOK}
	if s.probes == nil {
		s.probes = modules.NewProbeLedger()
	}
	ctx = modules.WithProbeLedger(ctx, s.probes)
	defer hp.finish()
	defer hp.unhold()
	defer r.dropConn(s, b.playIndex) // connlife.go: before the fork slot is given back
	defer hp.rollback(ctx)           // rollback.go: before HostDone, on a host that failed
	ctx = hp.rollbackContext(ctx)
	if !hp.hold(ctx) {
		hp.stop(firstName(sel.tasks), "interrupted")
		return
	}
	r.obs.HostStarted(HostStart{Host: s.host.Name, Play: p.Name})
	r.resumeConn(s)                         // connlife.go
	if err := hp.connect(ctx); err != nil { // remoteuser.go
		hp.connectFailed(err)
		return
	}
	if len(p.Handlers) > 0 {
		hp.resumePending(ctx)
	}
	if !hp.runList(ctx, sel.tasks, PhaseTask) {
		return
	}
	if b.lockstep {
		// Every host has finished its tasks; a failure in the last one
		// stops the others before their handlers and verification.
		hp.unhold()
		if reason := b.arrive(); reason != "" && hp.workLeft(sel) {
			hp.stop("handlers and verification", reason)
			return
		}
	}
	if !hp.hold(ctx) {
		hp.stop("", "interrupted")
		return
	}
	// Handlers run once, in the order they are defined, if notified.
	for _, h := range p.Handlers {
		if !hp.isNotified(h) {
			continue
		}
		if !hp.runList(ctx, []*playbook.Task{h}, PhaseHandler) {
			return
		}
		if !r.opts.Check {
			if err := hp.clearPending(ctx, h); err != nil {
				hp.warn(h.DisplayName(), "could not clear the pending-handler marker: "+err.Error())
			}
		}
	}
	if r.opts.Check {
		// Verification checks a changed host; a dry run changed nothing, but
		// says when the verification would fail on what it already read.
		hp.predictVerify(ctx, sel.verify)
		return
	}
	if !hp.recheck(ctx) {
		return
	}
	hp.runList(ctx, sel.verify, PhaseVerify)
}

// resumePending notifies the handlers a previous, interrupted run left
// pending on this host, and says so.
func (hp *hostPlay) resumePending(ctx context.Context) {
	found, err := hp.loadPending(ctx)
	if err != nil {
		hp.warn("pending handlers", "could not read pending-handler markers: "+err.Error())
		return
	}
	if len(found) > 0 {
		hp.warn("pending handlers", "a previous run changed this host but did not run its handlers: "+strings.Join(found, ", ")+" will run")
	}
}

// warn reports a non-fatal note about the host's run of task.
func (hp *hostPlay) warn(task, msg string) {
	hp.r.obs.Warning(Warning{Host: hp.s.host.Name, Play: hp.play.Name, Task: task, Msg: msg})
}

func (hp *hostPlay) isNotified(h *playbook.Task) bool {
	if hp.notified[h.Name] && !h.Shadowed {
		return true
	}
	for _, l := range h.Listen {
		if hp.notified[l] {
			return true
		}
	}
	return false
}

// runList runs tasks in order; false means the host must stop.
func (hp *hostPlay) runList(ctx context.Context, tasks []*playbook.Task, phase Phase) bool {
	for _, t := range tasks {
		// A stopped run (any_errors_fatal, max_fail_percentage, SIGINT)
		// starts no further task: the host ends here, not failed.
		reason := hp.stopReason(ctx)
		if reason == "" && phase == PhaseTask && hp.b.lockstep && hp.stepless == 0 {
			// Every host finishes the previous step before any starts this
			// task, and all see the same verdict on stopping.
			hp.unhold()
			reason = hp.b.arrive()
			hp.blocks.steps++
		}
		if reason != "" {
			if hp.status != StatusFailed { // a failed host running a block's always: stays failed
				hp.stop(t.DisplayName(), reason)
			}
			return false
		}
		if !hp.hold(ctx) {
			hp.stop(t.DisplayName(), "interrupted")
			return false
		}
		run := hp.runTask
		// A block's run_once and throttle reach each task inside it (the
		// parser gave them), not the block as a whole.
		if t.RunOnce && t.Block == nil {
			run = hp.runOnce // runonce.go
		}
		if (t.Throttle > 0 || t.ThrottleTemplate != "") && t.Block == nil {
			inner := run
			run = func(ctx context.Context, t *playbook.Task, phase Phase) bool {
				return hp.runThrottled(ctx, t, phase, inner) // throttle.go
			}
		}
		if !run(ctx, t, phase) {
			return false
		}
	}
	return true
}

// recheck re-runs Check of every verifiable module that changed the host:
// after apply it must find nothing left to change.
func (hp *hostPlay) recheck(ctx context.Context) bool {
	for _, a := range hp.applied {
		res := TaskResult{Host: hp.s.host.Name, Play: hp.play.Name, Task: a.task.DisplayName(), Module: a.task.Module, Phase: PhaseRecheck, Item: a.item}
		hp.r.obs.TaskStarted(TaskStart{Host: res.Host, Play: res.Play, Task: res.Task, Module: res.Module, Phase: res.Phase})
		c, err := a.mod.Check(ctx, a.conn)
		res.Change = c
		switch {
		case err != nil && transport.IsUnreachable(err):
			hp.unreachable(res.Task, err)
			return false
		case err != nil:
			res.Status, res.Error = StatusFailed, err.Error()
		case c.Changed():
			res.Status = StatusFailed
			res.Error = "verification: the change did not hold: " + firstNonEmpty(c.Summary, string(c.Action))
		case c.Failed: // the module judges the host wrong as it is (sysctl persist: strict)
			res.Status = StatusFailed
			res.Error = "verification: " + firstNonEmpty(c.Msg, c.Summary, "failed")
		default:
			res.Status = StatusOK
		}
		hp.report(res)
		if res.Status == StatusFailed {
			hp.fail(fmt.Errorf("host %s: verify %q: %s", hp.s.host.Name, a.task.DisplayName(), res.Error))
			return false
		}
	}
	return true
}

// vars builds the variable scope of a task: play defaults < inventory < play vars < task <
// include_vars < registered < extra vars, plus the magic variables Ansible users expect.
func (hp *hostPlay) vars(t *playbook.Task) map[string]any {
	v := make(map[string]any, len(hp.play.Defaults)+len(hp.s.host.Vars)+len(hp.play.Vars)+8)
	maps.Copy(v, hp.play.Defaults)
	maps.Copy(v, hp.s.host.Vars)
	hp.addFacts(v)
	maps.Copy(v, hp.play.Vars)
	if t != nil {
		maps.Copy(v, t.Vars)
	}
	maps.Copy(v, hp.s.included)
	hp.addDelegatedVars(v) // facts.go
	maps.Copy(v, hp.s.registered)
	maps.Copy(v, hp.blocks.failedVars)
	maps.Copy(v, hp.incScope)
	maps.Copy(v, hp.r.opts.ExtraVars)
	maps.Copy(v, hp.loopScope)
	hp.addMagic(v, t)
	if lz := hp.lazyVars(t); len(lz) > 0 {
		v[template.LazyKey] = lz
	}
	return v
}

// lazyVars lists the variables of v whose values are templates written by the playbook's
// author — role defaults, inventory, play, task and include_vars vars, include parameters and
// -e — in vars' order of precedence, so that a later source (a fact, a registered result, a
// loop item) that overrides one takes it off the list: those are never rendered again.
func (hp *hostPlay) lazyVars(t *playbook.Task) template.Lazy {
	var lz template.Lazy
	trusted := func(m map[string]any) {
		for k, x := range m {
			if template.HoldsTemplate(x) {
				if lz == nil {
					lz = template.Lazy{}
				}
				lz[k] = struct{}{}
			} else if lz != nil {
				delete(lz, k)
			}
		}
	}
	untrusted := func(m map[string]any) {
		if len(lz) == 0 {
			return
		}
		for k := range m {
			delete(lz, k)
		}
	}
	trusted(hp.play.Defaults)
	trusted(hp.s.host.Vars)
	for k := range lz { // facts (ansible_*, from the host) sit between inventory and play vars
		if strings.HasPrefix(k, "ansible_") {
			delete(lz, k)
		}
	}
	trusted(hp.play.Vars)
	if t != nil {
		trusted(t.Vars)
	}
	trusted(hp.s.included)
	if len(lz) > 0 {
		hp.r.varsMu.RLock()
		untrusted(hp.r.delegatedVars[hp.s.host.Name]) // other hosts' set_fact (delegate_facts)
		hp.r.varsMu.RUnlock()
	}
	untrusted(hp.s.registered)
	untrusted(hp.blocks.failedVars)
	trusted(hp.incScope)
	trusted(hp.r.opts.ExtraVars)
	untrusted(hp.loopScope)
	return lz
}

func (hp *hostPlay) report(res TaskResult) {
	rc := &hp.s.recap
	switch res.Status {
	case StatusOK:
		rc.OK++
	case StatusChanged:
		rc.Changed++
		hp.changes++
		if res.Budget != nil && res.Budget.Relapse {
			rc.Relapsed++
		}
		if !hp.r.opts.Check && res.Loop == nil { // a loop listed its items

			rc.Applied = append(rc.Applied, res.Task+": "+firstNonEmpty(res.Change.Summary, string(res.Change.Action)))
		}
	case StatusFailed:
		if res.Ignored {
			rc.Ignored++
			if res.Changed { // as Ansible counts an ignored failure that changed
				rc.Changed++
				hp.changes++
			}
		} else if res.Rescued {
			rc.Rescued++
		} else {
			rc.Failed++
		}
	case StatusSkipped:
		rc.Skipped++
	case StatusUnreachable:
		if res.Ignored { // ignore_unreachable
			rc.Ignored++
		} else {
			rc.Unreachable++
		}
	}
	hp.r.obs.TaskDone(res)
}

func (hp *hostPlay) fail(err error) {
	hp.counted(StatusFailed)
	hp.r.markDown(hp.s.host.Name)
	hp.s.dead = true
	if hp.s.err == nil {
		hp.s.err = err
	}
}

// unreachable marks the host unreachable during task; its recap keeps
// what it had changed so far.
func (hp *hostPlay) unreachable(task string, err error) {
	hp.counted(StatusUnreachable)
	res := TaskResult{Host: hp.s.host.Name, Play: hp.play.Name, Task: task, Phase: PhaseTask, Status: StatusUnreachable, Error: err.Error()}
	var hk *transport.HostKeyError
	if errors.As(err, &hk) {
		res.HostKey = HostKeyUnknown
		if hk.Mismatch {
			res.HostKey = HostKeyMismatch
		}
	}
	hp.report(res)
	hp.fail(fmt.Errorf("host %s: task %q: %w", hp.s.host.Name, task, err))
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
