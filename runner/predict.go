package runner

import (
	"context"
	"fmt"

	"tend/runner/modules"
	"tend/runner/playbook"
)

// predictVerify runs, in a dry run, the play's verification steps that
// only read (assert, tcp_states: modules whose Spec.RunsInCheckMode is
// set, that do not wait and have no until:) against what the host shows
// now, and warns about each that fails.
//
// The prediction is certain only when the play plans no change on the
// host: then verification after an apply would read the same state. When
// the play does plan changes, a verify step failing now is what those
// changes are meant to fix (a CLOSE_WAIT count a restart will clear), so
// nothing is said. Nothing is failed: a dry run reports, it does not judge.
func (hp *hostPlay) predictVerify(ctx context.Context, verify []*playbook.Task) {
	if hp.changes > 0 {
		return
	}
	for _, t := range verify {
		spec, ok := modules.Lookup(t.Module)
		if !ok || !spec.RunsInCheckMode || spec.Waits || len(t.Until) > 0 || t.Loop != nil { // a looped step is not predicted
			continue
		}
		if hp.stopReason(ctx) != "" {
			return
		}
		res := TaskResult{Host: hp.s.host.Name, Play: hp.play.Name, Task: t.DisplayName(), Module: t.Module, Phase: PhaseVerify}
		out := hp.execute(ctx, t, hp.vars(t), &res)
		if hp.noLog(t) {
			hideNoLog(&res)
		}
		switch {
		case out == outcomeUnreachable:
			return // the next real step will say so
		case out == outcomeFailed && !hp.ignoreErrors(t):
			hp.warn(res.Task, fmt.Sprintf("verification would fail: %s (this play changes nothing here, so an apply would verify the same state)", firstNonEmpty(res.Error, "failed")))
		}
	}
}
