package playbook

import (
	"maps"
	"slices"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// blockKeys are the keywords a block takes besides block, rescue and
// always; the tasks inside inherit all but name.
var blockKeys = []string{
	"name", "when", "become", "become_user", "become_method", "vars", "tags",
	"ignore_errors", "check_mode", "no_log",
	"delegate_to", "run_once", "throttle", "ignore_unreachable", // delegate.go
	"environment", "delegate_facts", "collections",
	"any_errors_fatal", "remote_user",
}

// isBlock reports whether a task mapping is a block.
func isBlock(n *yaml.Node) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := yamlnode.Resolve(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == "block" {
			return true
		}
	}
	return false
}

// block reads a block: its three lists of tasks and the keywords the
// tasks inside inherit.
func (p *parser) block(n *yaml.Node, path string, handlers bool) *Task {
	t := &Task{Pos: yamlnode.PosOf(p.File(), n), Field: path, KeyPos: map[string]Pos{}, Module: "block", Block: &Block{}}
	t.ModulePos = t.Pos
	if handlers {
		p.Errorf(n, path, "block is not supported in handlers by tend")
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := yamlnode.Resolve(n.Content[i]), yamlnode.Resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.Errorf(k, path, "block keys must be strings, not %s", yamlnode.Describe(k))
			continue
		}
		field := yamlnode.JoinPath(path, k.Value)
		switch {
		case k.Value == "block":
			t.Block.Tasks = p.tasks(v, field, handlers)
		case k.Value == "rescue":
			t.Block.Rescue = p.tasks(v, field, handlers)
		case k.Value == "always":
			t.Block.Always = p.tasks(v, field, handlers)
		case slices.Contains(blockKeys, k.Value):
			t.KeyPos[k.Value] = yamlnode.PosOf(p.File(), v)
			p.keyword(t, k, v, field, handlers)
		case taskKeySet[k.Value] || unsupportedTaskKeys[k.Value]:
			p.Errorf(k, field, "block keyword is not supported by tend")
		default:
			p.Errorf(k, field, "unknown block keyword %q (a block holds tasks under block:, rescue:, always:)%s",
				k.Value, yamlnode.DidYouMean(k.Value, append([]string{"block", "rescue", "always"}, blockKeys...)))
		}
	}
	for _, list := range [][]*Task{t.Block.Tasks, t.Block.Rescue, t.Block.Always} {
		inheritBlock(t, list)
	}
	return t
}

// inheritBlock gives a block's keywords to the tasks inside it, as Ansible
// does: the block's when is ANDed before each task's own, its vars are
// overridden by the task's, its tags are added, and become, become_user,
// ignore_errors, check_mode and no_log apply where the task sets none.
func inheritBlock(b *Task, tasks []*Task) {
	for _, t := range tasks {
		if t.Deferred != nil && t.Block != nil { // its tasks, when read (deferred.go)
			t.Deferred.inherits = append(t.Deferred.inherits, func(ts []*Task) { inheritBlock(b, ts) })
		}
		if t.Block != nil {
			for _, list := range [][]*Task{t.Block.Tasks, t.Block.Rescue, t.Block.Always} {
				inheritBlock(b, list)
			}
			if !t.Dynamic { // an include also takes them itself
				continue
			}
		}
		inheritBoolTemplates(b, t) // booltmpl.go: before the literal ones mark theirs
		if len(b.When) > 0 {
			t.When = append(slices.Clip(b.When), t.When...)
		}
		if len(b.Vars) > 0 {
			vars := maps.Clone(b.Vars)
			maps.Copy(vars, t.Vars)
			names := slices.Clone(b.VarNames)
			for _, name := range t.VarNames {
				if !slices.Contains(names, name) {
					names = append(names, name)
				}
			}
			t.Vars, t.VarNames = vars, names
		}
		for _, tag := range b.Tags {
			if !slices.Contains(t.Tags, tag) {
				t.Tags = append(t.Tags, tag)
			}
		}
		if t.Become == nil {
			t.Become = b.Become
		}
		if t.BecomeUser == "" {
			t.BecomeUser = b.BecomeUser
		}
		for _, key := range []string{"ignore_errors", "no_log"} {
			pos, given := b.KeyPos[key]
			if _, own := t.KeyPos[key]; !given || own {
				continue
			}
			t.KeyPos[key] = pos // an outer block's must not override it
			if key == "ignore_errors" {
				t.IgnoreErrors = b.IgnoreErrors
			} else {
				t.NoLog = b.NoLog
			}
		}
		if t.CheckMode == nil {
			t.CheckMode = b.CheckMode
		}
		inheritConnection(b, t)
		t.Environment = mergeEnv(b.Environment, t.Environment)
		inheritDelegation(b, t)
	}
}
