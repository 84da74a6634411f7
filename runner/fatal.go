package runner

import "tend/runner/playbook"

// any_errors_fatal on tasks and blocks, as Ansible 2.14 has it: the
// keyword is inherited task < block (import, role entry) < play, and a host
// that fails (or becomes unreachable at) a task for which it holds stops
// the batch and the run, as the play's keyword does. A failure a rescue:
// catches is not one (the host goes on); a task that sets
// any_errors_fatal: false is not fatal in a play that sets it.

// fatalFor notes t as the task being run, whose any_errors_fatal judges a
// failure now, and returns what puts back the one it replaced (an
// enclosing block's or include's).
func (hp *hostPlay) fatalFor(t *playbook.Task) func() {
	prev := hp.taskFatal
	hp.taskFatal = t.AnyErrorsFatal
	return func() { hp.taskFatal = prev }
}

// fatal reports whether a failure of the host now stops the run: the
// running task's any_errors_fatal, else the play's.
func (hp *hostPlay) fatal() bool {
	if hp.taskFatal != nil {
		return *hp.taskFatal
	}
	return hp.play.AnyErrorsFatal
}

// anyTaskFatal reports whether a task of the play (its blocks, imports and
// roles included; handlers too) sets any_errors_fatal: true, so that its
// hosts run in lockstep and "stop" means the same task on every host.
func anyTaskFatal(p *playbook.Play) bool {
	for _, list := range [][]*playbook.Task{p.Tasks, p.Handlers, p.Verify} {
		for _, t := range playbook.Flatten(list) {
			if t.AnyErrorsFatal != nil && *t.AnyErrorsFatal {
				return true
			}
		}
	}
	return false
}
