package runner

import (
	"context"
	"fmt"
	"maps"

	"tend/runner/playbook"
)

// blockState tracks the blocks a host is inside while it runs their tasks.
type blockState struct {
	// depth counts the block sections (block, rescue or always) being run;
	// rescuable counts those that are a block: list with a rescue: after it.
	depth, rescuable int
	// caught is the failure that ended the innermost section, for the
	// block to rescue or to pass outwards; nil when none.
	caught *TaskResult
	// failedVars are ansible_failed_task and ansible_failed_result, set
	// when a rescue starts; they stay for the rest of the play, as Ansible's
	// non-persistent facts.
	failedVars map[string]any
	// steps counts the host's arrivals at its batch's barrier (lockstep).
	steps int
}

// blockSteps is how many barrier steps a list of tasks takes when each
// of its blocks runs every section: one per task, plus a block's own.
func blockSteps(tasks []*playbook.Task) int {
	n := len(tasks)
	for _, t := range tasks {
		if t.Dynamic && (t.Loop != nil || t.Deferred != nil) {
			continue // one step, whatever it includes (include.go)
		}
		if t.Block != nil {
			n += blockSteps(t.Block.Tasks) + blockSteps(t.Block.Rescue) + blockSteps(t.Block.Always)
		}
	}
	return n
}

// padSteps keeps a host in step with the others of a lockstep batch: it
// arrives at the barrier for each step of a block it did not run (the
// rest of a failed block: list, a rescue: not needed), as Ansible's
// linear strategy gives such a host a no-op while the others run those
// tasks. A stop it sees there is kept by the batch for the next step.
func (hp *hostPlay) padSteps(phase Phase, upTo int) {
	if phase != PhaseTask || !hp.b.lockstep || hp.stepless > 0 {
		return
	}
	if hp.blocks.steps < upTo {
		hp.unhold()
	}
	for ; hp.blocks.steps < upTo; hp.blocks.steps++ {
		hp.b.arrive()
	}
}

// taskFailed reports a failed task and decides what the failure does:
// inside a block with a rescue it is rescued (counted as such, the host
// goes on to the rescue); otherwise the host fails, and the blocks around
// the task still run their always: lists.
func (hp *hostPlay) taskFailed(t *playbook.Task, res *TaskResult) {
	bs := &hp.blocks
	res.Rescued = bs.rescuable > 0
	hp.report(*res)
	if bs.depth > 0 {
		caught := *res
		bs.caught = &caught
	}
	if res.Rescued {
		bs.failedVars = map[string]any{
			"ansible_failed_task":   map[string]any{"name": t.Name, "action": t.Module},
			"ansible_failed_result": hp.failedResult(res),
		}
	}
	if !res.Rescued {
		hp.fail(fmt.Errorf("host %s: task %q: %s", hp.s.host.Name, res.Task, res.Error))
	}
}

// failedResult is the registered result of the task that just failed, or
// one made of its error when it failed before it had one.
func (hp *hostPlay) failedResult(res *TaskResult) map[string]any {
	if hp.result != nil {
		return maps.Clone(hp.result)
	}
	return map[string]any{"changed": false, "failed": true, "msg": res.Error}
}

// runBlock runs a block task: its tasks; after a failure among them, its
// rescue; then its always, whatever happened. false means the host must
// stop: it failed (a failure neither ignored nor rescued), or the run
// stopped it, or it ended (meta: end_host), or it became unreachable;
// only a failure lets the always: lists of the blocks around it run.
func (hp *hostPlay) runBlock(ctx context.Context, t *playbook.Task, phase Phase) bool {
	b, bs := t.Block, &hp.blocks
	section := func(tasks []*playbook.Task, rescuable bool) (ok bool, failed *TaskResult) {
		bs.depth++
		if rescuable {
			bs.rescuable++
		}
		ok = hp.runList(ctx, tasks, phase)
		bs.depth--
		if rescuable {
			bs.rescuable--
		}
		failed, bs.caught = bs.caught, nil
		return ok, failed
	}
	start := bs.steps
	ok, failed := section(b.Tasks, len(b.Rescue) > 0)
	if !ok && failed == nil {
		return false // stopped, ended or unreachable: no rescue, no always
	}
	hp.padSteps(phase, start+blockSteps(b.Tasks))
	if failed != nil && len(b.Rescue) > 0 {
		if ok, failed = section(b.Rescue, false); !ok && failed == nil {
			return false
		}
	}
	hp.padSteps(phase, start+blockSteps(b.Tasks)+blockSteps(b.Rescue))
	okAlways, failedAlways := section(b.Always, false)
	if !okAlways && failedAlways == nil {
		return false
	}
	if failedAlways != nil {
		failed = failedAlways
	}
	if failed == nil {
		return true
	}
	if bs.depth > 0 {
		bs.caught = failed // the enclosing block rescues it, or runs its always
	}
	return false
}
