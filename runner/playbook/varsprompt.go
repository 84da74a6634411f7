package playbook

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/diag"
	"tend/internal/yamlnode"
)

// VarPrompt is one vars_prompt entry. tend never prompts: it runs
// unattended (a 3 a.m. run from cron or CI has no one at the keyboard),
// so a prompted variable takes its value from -e, else from its default;
// with neither, the run is refused before any host is contacted
// (MissingPrompts). Ansible 2.14 without a terminal silently uses an
// empty value instead.
type VarPrompt struct {
	// Pos is where the entry stands.
	Pos Pos
	// Field is its path, such as "vars_prompt[0]".
	Field string
	// Name is the variable.
	Name string
	// Default is the default value's text; HasDefault says one is given.
	Default    string
	HasDefault bool
	// Private, Confirm and Unsafe are read for their types; without a
	// prompt they change nothing (an unsafe default is never templated:
	// tend refuses one holding "{{").
	Private, Confirm, Unsafe bool
}

// varPromptKeys are the keys of a vars_prompt entry tend accepts.
var varPromptKeys = []string{"name", "prompt", "default", "private", "confirm", "unsafe", "encrypt", "salt", "salt_size"}

// varsPrompt reads a play's vars_prompt list. A default is given to the
// play's variables (above vars:, below -e, as Ansible's prompted vars).
func (p *parser) varsPrompt(play *Play, v *yaml.Node) {
	if v.Kind != yaml.SequenceNode {
		p.Errorf(v, "vars_prompt", "must be a list of prompts, not %s", yamlnode.Describe(v))
		return
	}
	for i, item := range v.Content {
		item = yamlnode.Resolve(item)
		field := yamlnode.IndexPath("vars_prompt", i)
		if item.Kind != yaml.MappingNode {
			p.Errorf(item, field, "must be a mapping (name, prompt, default, ...), not %s", yamlnode.Describe(item))
			continue
		}
		vp := VarPrompt{Pos: yamlnode.PosOf(p.File(), item), Field: field}
		var def *yaml.Node
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, val := yamlnode.Resolve(item.Content[j]), yamlnode.Resolve(item.Content[j+1])
			kf := yamlnode.JoinPath(field, k.Value)
			switch k.Value {
			case "name":
				vp.Name = p.str(val, kf)
				if vp.Name != "" && !isIdentifier(vp.Name) {
					p.Errorf(val, kf, "variable names must be identifiers (letters, digits, _), not %q", vp.Name)
				}
			case "prompt":
				p.str(val, kf)
			case "default":
				def = val
			case "private":
				vp.Private = p.boolean(val, kf)
			case "confirm":
				vp.Confirm = p.boolean(val, kf)
			case "unsafe":
				vp.Unsafe = p.boolean(val, kf)
			case "encrypt", "salt", "salt_size":
				p.Errorf(k, kf, "is not supported by tend (no password hashing at prompt time): hash the value beforehand and pass it with -e")
			default:
				p.Errorf(k, kf, "unknown vars_prompt key%s", yamlnode.DidYouMean(k.Value, varPromptKeys))
			}
		}
		if vp.Name == "" {
			p.Errorf(item, field, "a prompt needs a name")
			continue
		}
		if def != nil && !yamlnode.IsNull(def) {
			if def.Kind != yaml.ScalarNode {
				p.Errorf(def, yamlnode.JoinPath(field, "default"), "must be a string, not %s", yamlnode.Describe(def))
				continue
			}
			vp.Default, vp.HasDefault = def.Value, true
			if vp.Unsafe && strings.Contains(def.Value, "{{") {
				p.Errorf(def, yamlnode.JoinPath(field, "default"), "an unsafe default holding \"{{\" is not supported: tend would render it")
			}
		}
		play.VarsPrompt = append(play.VarsPrompt, vp)
		if vp.HasDefault {
			if play.Vars == nil {
				play.Vars = map[string]any{}
			}
			if !slices.Contains(play.VarNames, vp.Name) {
				play.VarNames = append(play.VarNames, vp.Name)
			}
			play.Vars[vp.Name] = vp.Default
		}
	}
}

// MissingPrompts reports the prompted variables of pb that have no value:
// neither given in extra (-e) nor defaulted. tend does not prompt, so the
// run must not start: one positioned error per variable.
func MissingPrompts(pb *Playbook, extra map[string]any) error {
	var list diag.List
	for _, play := range pb.Plays {
		for _, vp := range play.VarsPrompt {
			if _, given := extra[vp.Name]; given || vp.HasDefault {
				continue
			}
			list = append(list, diag.Errorf(vp.Pos, vp.Field, "%s has no value and tend does not prompt: give it with -e %s=VALUE (or a default:)", vp.Name, vp.Name))
		}
	}
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	return list
}
