package playbook

import (
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// moduleDefaults reads a play's module_defaults: a mapping of module
// names (short or fully qualified) to argument mappings. Ansible's action
// groups (group/...) are refused: tend has no such groups of modules.
func (p *parser) moduleDefaults(v *yaml.Node, field string) map[string]*yaml.Node {
	if yamlnode.IsNull(v) {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		p.Errorf(v, field, "must be a mapping of module names to arguments, not %s", yamlnode.Describe(v))
		return nil
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, a := yamlnode.Resolve(v.Content[i]), yamlnode.Resolve(v.Content[i+1])
		f := yamlnode.JoinPath(field, k.Value)
		if strings.HasPrefix(k.Value, "group/") {
			p.Errorf(k, f, "action groups are not supported by tend; name each module")
			continue
		}
		name := canonicalModule(k.Value)
		if len(p.moduleNames) > 0 && !p.modules[name] {
			p.Errorf(k, f, "module %q is not supported by tend%s", k.Value, yamlnode.DidYouMean(name, p.moduleNames))
			continue
		}
		if a.Kind != yaml.MappingNode {
			p.Errorf(a, f, "must be a mapping of the module's arguments, not %s", yamlnode.Describe(a))
			continue
		}
		out[name] = a
	}
	return out
}

// applyModuleDefaults gives each task of tasks (blocks, roles and
// includes included) the defaults of its module that its own arguments
// do not set, as Ansible's module_defaults: the task's own win. A
// free-form command line (command: ls) takes none.
func applyModuleDefaults(defaults map[string]*yaml.Node, tasks []*Task) {
	if len(defaults) == 0 {
		return
	}
	for _, t := range Flatten(tasks) {
		d, ok := defaults[t.Module]
		if !ok || t.Block != nil {
			continue
		}
		switch {
		case t.Args == nil || yamlnode.IsNull(t.Args):
			c := *d
			c.Content = append([]*yaml.Node(nil), d.Content...)
			t.Args = &c
		case t.Args.Kind == yaml.MappingNode:
			merged := *t.Args
			merged.Content = append([]*yaml.Node(nil), t.Args.Content...)
			for i := 0; i+1 < len(d.Content); i += 2 {
				if !hasKey(t.Args, d.Content[i].Value) {
					merged.Content = append(merged.Content, d.Content[i], d.Content[i+1])
				}
			}
			t.Args = &merged
		}
	}
}

// collections reads the collections keyword (play, block or task): a list
// of collection names, which tend accepts and ignores — a short module
// name is always tend's own module, the one ansible.builtin or
// ansible.posix (the collections it has) gives.
func (p *parser) collections(v *yaml.Node, field string) {
	if v.Kind != yaml.SequenceNode {
		p.Errorf(v, field, "must be a list of collection names, not %s", yamlnode.Describe(v))
		return
	}
	for i, item := range v.Content {
		item = yamlnode.Resolve(item)
		if item.Kind != yaml.ScalarNode || strings.Count(item.Value, ".") != 1 || yamlnode.HasTemplate(item) {
			p.Errorf(item, yamlnode.IndexPath(field, i), "must be a collection name such as ansible.posix, not %s", yamlnode.Describe(item))
		}
	}
}
