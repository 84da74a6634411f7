package playbook

import (
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// Loop is a task's loop: loop: or one of Ansible's with_* lookups, and
// its loop_control. The items are computed per host when the task runs.
type Loop struct {
	// Kind is "loop" or the with_ keyword ("with_items", "with_dict", ...).
	Kind string
	// Value is the raw node; its templates are rendered per host.
	Value *yaml.Node
	Pos   Pos
	// Label is loop_control.label: a template rendered per item for the
	// output ("" shows the item itself).
	Label string
	// LoopVar names the item's variable ("item" unless loop_control.loop_var).
	LoopVar string
	// IndexVar, when set, names a variable holding the item's 0-based index.
	IndexVar string
	// Pause waits between items.
	Pause time.Duration
	// Extended sets ansible_loop (index, first, last, length, ...).
	Extended bool
}

// loopKinds are the loop keywords tend runs: loop and these with_ lookups.
var loopKinds = map[string]bool{
	"loop": true, "with_items": true, "with_list": true, "with_dict": true,
	"with_sequence": true, "with_nested": true, "with_together": true,
	"with_fileglob": true,
}

// loopControlKeys are the loop_control keys tend runs.
var loopControlKeys = []string{"label", "loop_var", "index_var", "pause", "extended"}

// loopKeyword reads loop: or a with_ keyword into t; false when k is neither.
func (p *parser) loopKeyword(t *Task, k, v *yaml.Node, field string) bool {
	if k.Value != "loop" && !strings.HasPrefix(k.Value, "with_") {
		return false
	}
	if !loopKinds[k.Value] {
		p.Errorf(k, field, "%s is not supported by tend; use loop: with a filter (supported: loop, with_items, with_list, with_dict, with_sequence, with_nested, with_together, with_fileglob)", k.Value)
		return true
	}
	if t.Loop != nil && t.Loop.Value != nil {
		p.Errorf(k, field, "a task has one loop; found %s (line %d) and %s", t.Loop.Kind, t.Loop.Pos.Line, k.Value)
		return true
	}
	if yamlnode.IsNull(v) {
		p.Errorf(v, field, "must be a list or a template giving one, not null")
		return true
	}
	if t.Loop == nil {
		t.Loop = &Loop{LoopVar: "item"}
	}
	t.Loop.Kind, t.Loop.Value, t.Loop.Pos = k.Value, v, yamlnode.PosOf(p.File(), v)
	if k.Value == "loop" && v.Kind == yaml.MappingNode {
		p.Errorf(v, field, "must be a list, not a mapping (use \"{{ x | dict2items }}\" or with_dict)")
	}
	return true
}

// loopControl reads loop_control into t.
func (p *parser) loopControl(t *Task, v *yaml.Node, field string) {
	if v.Kind != yaml.MappingNode {
		p.Errorf(v, field, "must be a mapping (label, loop_var, index_var, pause, extended), not %s", yamlnode.Describe(v))
		return
	}
	if t.Loop == nil {
		t.Loop = &Loop{LoopVar: "item"}
	}
	l := t.Loop
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := yamlnode.Resolve(v.Content[i]), yamlnode.Resolve(v.Content[i+1])
		f := yamlnode.JoinPath(field, k.Value)
		switch k.Value {
		case "label":
			l.Label = p.str(val, f)
		case "loop_var", "index_var":
			name := p.str(val, f)
			if !isIdentifier(name) {
				p.Errorf(val, f, "must be a variable name (letters, digits, _; not starting with a digit), not %s", yamlnode.Describe(val))
			}
			if k.Value == "loop_var" {
				l.LoopVar = name
			} else {
				l.IndexVar = name
			}
		case "pause":
			l.Pause, _ = p.Duration(val, f)
		case "extended":
			l.Extended = p.boolean(val, f)
		default:
			p.Errorf(k, f, "unknown loop_control key %q%s", k.Value, yamlnode.DidYouMean(k.Value, loopControlKeys))
		}
	}
}

// checkLoop reports a loop_control without a loop.
func (p *parser) checkLoop(t *Task, n *yaml.Node, path string) {
	if t.Loop != nil && t.Loop.Value == nil {
		p.ErrorfAt(t.KeyPos["loop_control"], yamlnode.JoinPath(path, "loop_control"), "loop_control without loop: or with_*")
	}
}
