package runner

import (
	"fmt"
	"maps"
	"strings"

	"tend/runner/playbook"
)

// includeVars runs an include_vars task: the parser read its files before
// the run (playbook.Task.IncludeVars), or, when the file's name needs the
// host's data (a fact, a host variable, a with_first_found list), the
// name is rendered now and the file read (once per distinct name in the
// run: playbook.Deferred). The host gets the variables, above task vars
// and below registered ones, for the rest of the run, as Ansible's
// include_vars does. It changes nothing on the host.
func (hp *hostPlay) includeVars(t *playbook.Task, vars map[string]any, res *TaskResult) outcome {
	got := t.IncludeVars
	if d := t.Deferred; d != nil {
		names, err := renderNames(d, vars)
		if err != nil {
			res.Status, res.Error = StatusFailed, err.Error()
			return outcomeFailed
		}
		_, v, err := d.Load(names)
		if err != nil {
			res.Status, res.Error = StatusFailed, err.Error()
			return outcomeFailed
		}
		got = v.(map[string]any)
	}
	if hp.s.included == nil {
		hp.s.included = map[string]any{}
	}
	maps.Copy(hp.s.included, got)
	res.Status = StatusOK
	hp.register(t, map[string]any{"changed": false, "ansible_facts": maps.Clone(got)})
	return outcomeDone
}

// renderNames renders a deferred file's candidate names for the host. With
// several (first_found), one whose variables are undefined is left out, as
// Ansible's first_found does; a single name must render.
func renderNames(d *playbook.Deferred, vars map[string]any) ([]string, error) {
	out := make([]string, 0, len(d.Names))
	for _, n := range d.Names {
		s, err := renderVar(n, vars)
		if err == nil && strings.TrimSpace(s) == "" {
			err = fmt.Errorf("renders to an empty file name")
		}
		if err != nil {
			if len(d.Names) > 1 {
				continue
			}
			return nil, fmt.Errorf("%s: file name %q: %w", d.Pos, n, err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no file name of %s renders for this host", d.Pos, strings.Join(d.Names, ", "))
	}
	return out, nil
}
