package playbook

import (
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// Dynamic includes (include_tasks, include_role) as ansible-core 2.14 has
// them: the include is a task of its own (Task.Dynamic) holding the tasks
// it brought in; its when, tags, no_log and ignore_errors stay its own,
// only its vars reach those tasks, and apply: gives them block keywords.

// dynamicKeys are the keywords a dynamic include (include_tasks,
// include_role) takes: those of inheritedKeys ansible-core 2.14 accepts on
// one. Only vars reach the included tasks; apply: gives them others.
var dynamicKeys = map[string]bool{
	"name": true, "when": true, "tags": true, "vars": true, "no_log": true, "ignore_errors": true,
}

// applyKeywords reads an include's apply: (a mapping of block keywords)
// and gives them to the included tasks as a block around them would.
func (p *parser) applyKeywords(n *yaml.Node, field string, tasks []*Task) {
	if n == nil {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.Errorf(n, field, "must be a mapping of keywords (when, tags, become, ...), not %s", yamlnode.Describe(n))
		return
	}
	b := &Task{KeyPos: map[string]Pos{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := yamlnode.Resolve(n.Content[i]), yamlnode.Resolve(n.Content[i+1])
		f := yamlnode.JoinPath(field, k.Value)
		if k.Kind != yaml.ScalarNode || k.Value == "name" || !slices.Contains(blockKeys, k.Value) {
			p.Errorf(k, f, "%s is not a keyword apply: takes (valid: %s)", yamlnode.Describe(k),
				strings.Join(slices.DeleteFunc(slices.Clone(blockKeys), func(s string) bool { return s == "name" }), ", "))
			continue
		}
		b.KeyPos[k.Value] = yamlnode.PosOf(p.File(), v)
		p.keyword(b, k, v, f, false)
	}
	inheritBlock(b, tasks)
}

// inherit passes an include's (or a role entry's) keywords to its tasks:
// conditions are ANDed before the task's own, tags added, vars merged
// below the task's own, environment merged under the task's, and become,
// no_log, check_mode, ignore_errors given where the task sets none. A
// deferred include's tasks get them when read.
func inherit(inc *Task, tasks []*Task) {
	for _, t := range tasks {
		if t.Deferred != nil && t.Block != nil { // its tasks, when read (deferred.go)
			t.Deferred.inherits = append(t.Deferred.inherits, func(ts []*Task) { inherit(inc, ts) })
		}
		if t.Block != nil { // its tasks inherit (block.go)
			inherit(inc, t.Block.Tasks)
			inherit(inc, t.Block.Rescue)
			inherit(inc, t.Block.Always)
			if !t.Dynamic { // an include also takes them itself
				continue
			}
		}
		inheritBoolTemplates(inc, t) // booltmpl.go
		if len(inc.When) > 0 {
			t.When = append(slices.Clone(inc.When), t.When...)
			if _, ok := t.KeyPos["when"]; !ok {
				t.KeyPos["when"] = inc.KeyPos["when"]
			}
		}
		for _, tag := range inc.Tags {
			if !slices.Contains(t.Tags, tag) {
				t.Tags = append(t.Tags, tag)
			}
		}
		if len(inc.Vars) > 0 {
			vars := maps.Clone(inc.Vars)
			names := slices.Clone(inc.VarNames)
			for _, k := range t.VarNames {
				if _, ok := vars[k]; !ok {
					names = append(names, k)
				}
				vars[k] = t.Vars[k]
			}
			t.Vars, t.VarNames = vars, names
		}
		if t.Become == nil {
			t.Become = inc.Become
		}
		if t.BecomeUser == "" {
			t.BecomeUser = inc.BecomeUser
		}
		if t.CheckMode == nil {
			t.CheckMode = inc.CheckMode
		}
		inheritConnection(inc, t)
		t.NoLog = t.NoLog || inc.NoLog
		t.IgnoreErrors = t.IgnoreErrors || inc.IgnoreErrors
		t.Environment = mergeEnv(inc.Environment, t.Environment)
		inheritDelegation(inc, t) // action.go: delegate_to, delegate_facts of an import or role entry
	}
}

// inheritConnection gives t the any_errors_fatal and remote_user of the
// block, import or role entry b around it where t sets none, as
// Ansible's inheritance of task keywords does.
func inheritConnection(b, t *Task) {
	if t.AnyErrorsFatal == nil {
		t.AnyErrorsFatal = b.AnyErrorsFatal
	}
	if t.RemoteUser == "" && b.RemoteUser != "" {
		t.RemoteUser = b.RemoteUser
		if pos, ok := b.KeyPos["remote_user"]; ok {
			t.KeyPos["remote_user"] = pos
		}
	}
}
