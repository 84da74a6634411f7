package runner

import (
	"context"
	"fmt"

	"tend/runner/playbook"
	"tend/runner/template"
)

// runInclude runs a dynamic include (include_tasks, include_role), as
// ansible-core does: its when is evaluated once, now; false skips the
// include (reported skipped) and none of its tasks run; true reports an
// include_tasks ok ("included: FILE"; an include_role is not reported) and
// runs its tasks, whose own when alone decides for each. false means the
// host must stop.
func (hp *hostPlay) runInclude(ctx context.Context, t *playbook.Task, phase Phase) bool {
	hp.result = nil
	start := hp.blocks.steps
	res := TaskResult{Host: hp.s.host.Name, Play: hp.play.Name, Task: t.DisplayName(), Module: t.Module, Phase: phase}
	started := func() {
		hp.r.obs.TaskStarted(TaskStart{Host: res.Host, Play: res.Play, Task: res.Task, Module: res.Module, Phase: phase})
	}
	vars := hp.vars(t)
	hp.r.red.collect(hp.play, vars)
	for _, cond := range t.When {
		ok, err := template.EvalBool(cond, vars)
		if err != nil {
			started()
			res.Status, res.Error = StatusFailed, fmt.Errorf("%s: when: %w", t.Pos, err).Error()
			if t.IgnoreErrors {
				res.Ignored = true
				hp.report(res)
				hp.padSteps(phase, start+blockSteps(t.Block.Tasks))
				return true
			}
			hp.taskFailed(t, &res)
			return false
		}
		if !ok {
			started()
			res.Status, res.Reason = StatusSkipped, "when: "+cond+" is false"
			hp.report(res)
			// In a lockstep batch the others may run the included tasks.
			hp.padSteps(phase, start+blockSteps(t.Block.Tasks))
			return true
		}
	}
	if t.Module != "include_role" {
		started()
		res.Status = StatusOK
		hp.report(res)
	}
	return hp.runBlock(ctx, t, phase) // block.go: the included tasks
}
