package playbook

import (
	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// TemplatedBools are the boolean task keywords that may be given as a
// template ("{{ mask_secrets | bool }}"): ansible-core renders them for
// each host (each loop item) when the task runs, after its when, and
// converts the result with its boolean rules. The runner does the same
// (Task.BoolTemplates).
var TemplatedBools = []string{"ignore_errors", "no_log", "check_mode", "become", "ignore_unreachable", "delegate_facts"}

// boolKeyword reads a boolean keyword of t: true or false, or, for one of
// TemplatedBools, a template kept in t.BoolTemplates. ok is false when the
// value was a template (the literal field is then left alone).
func (p *parser) boolKeyword(t *Task, key string, v *yaml.Node, field string) (b, ok bool) {
	if yamlnode.HasTemplate(v) {
		for _, k := range TemplatedBools {
			if k == key {
				if t.BoolTemplates == nil {
					t.BoolTemplates = map[string]string{}
				}
				t.BoolTemplates[key] = v.Value // checked by runner.Validate, rendered per host
				return false, false
			}
		}
		p.Errorf(v, field, "must be true or false, not %s: tend takes no template for %s (ansible-core renders it once, with the first host's variables, or not at all)", yamlnode.Describe(v), key)
		return false, false
	}
	return p.boolean(v, field), true
}

// ownsBool reports whether t sets boolean keyword key itself, literal or
// templated (or took it from a nearer block), so an outer one must not
// override it.
func ownsBool(t *Task, key string) bool {
	if _, ok := t.KeyPos[key]; ok {
		return true
	}
	if _, ok := t.BoolTemplates[key]; ok {
		return true
	}
	switch key {
	case "become":
		return t.Become != nil
	case "check_mode":
		return t.CheckMode != nil
	}
	return false
}

// inheritBoolTemplates gives t the templated boolean keywords of the
// block, import or role entry b around it that t does not set itself,
// with their position. Call it before the literal inheritance, which
// marks the keywords it gives as t's own.
func inheritBoolTemplates(b, t *Task) {
	for _, key := range TemplatedBools {
		tmpl, ok := b.BoolTemplates[key]
		if !ok || ownsBool(t, key) {
			continue
		}
		if t.BoolTemplates == nil {
			t.BoolTemplates = map[string]string{}
		}
		t.BoolTemplates[key] = tmpl
		if pos, ok := b.KeyPos[key]; ok {
			t.KeyPos[key] = pos
		}
	}
}
