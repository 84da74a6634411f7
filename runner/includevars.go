package runner

import (
	"maps"

	"tend/runner/playbook"
)

// includeVars runs an include_vars task: the parser read its files before
// the run (playbook.Task.IncludeVars); the host now gets their variables,
// above task vars and below registered ones, for the rest of the run, as
// Ansible's include_vars does. It changes nothing on the host.
func (hp *hostPlay) includeVars(t *playbook.Task, res *TaskResult) outcome {
	if hp.s.included == nil {
		hp.s.included = map[string]any{}
	}
	maps.Copy(hp.s.included, t.IncludeVars)
	res.Status = StatusOK
	hp.register(t, map[string]any{"changed": false, "ansible_facts": maps.Clone(t.IncludeVars)})
	return outcomeDone
}
