package playbook

import (
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// action reads Ansible's action: and local_action: keys, which name the
// module inside their value: "command echo hi" (the module, then its
// free-form arguments) or a mapping with a module: key beside the
// arguments. It returns the module's key node and its arguments; ok is
// false after reporting a malformed value.
func (p *parser) action(k, v *yaml.Node, field string) (key, args *yaml.Node, ok bool) {
	switch v.Kind {
	case yaml.ScalarNode:
		name, rest, _ := strings.Cut(strings.TrimSpace(v.Value), " ")
		if name == "" {
			break
		}
		key = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name, Line: v.Line, Column: v.Column}
		args = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: strings.TrimSpace(rest), Line: v.Line, Column: v.Column + len(name) + 1}
		if args.Value == "" {
			args = nil
		}
		return key, args, true
	case yaml.MappingNode:
		args = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: v.Line, Column: v.Column}
		for i := 0; i+1 < len(v.Content); i += 2 {
			ak, av := yamlnode.Resolve(v.Content[i]), yamlnode.Resolve(v.Content[i+1])
			if ak.Value == "module" && av.Kind == yaml.ScalarNode {
				key = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: av.Value, Line: av.Line, Column: av.Column}
				continue
			}
			args.Content = append(args.Content, v.Content[i], v.Content[i+1])
		}
		if key != nil {
			return key, args, true
		}
	}
	p.Errorf(v, field, "%s must name a module: \"MODULE ARGS\" or a mapping with module:, not %s", k.Value, yamlnode.Describe(v))
	return nil, nil, false
}

// hasKey reports whether mapping n has the key name.
func hasKey(n *yaml.Node, name string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if yamlnode.Resolve(n.Content[i]).Value == name {
			return true
		}
	}
	return false
}

// inheritDelegation gives task t the delegation keywords of block b that
// t does not set itself (delegate_to, run_once, throttle,
// ignore_unreachable), as Ansible's inheritance does.
func inheritDelegation(b, t *Task) {
	for _, key := range []string{"delegate_to", "run_once", "throttle", "ignore_unreachable", "delegate_facts"} {
		pos, given := b.KeyPos[key]
		if _, own := t.KeyPos[key]; !given || own {
			continue
		}
		t.KeyPos[key] = pos // an outer block's must not override it
		switch key {
		case "delegate_to":
			t.DelegateTo = b.DelegateTo
		case "run_once":
			t.RunOnce = b.RunOnce
		case "throttle":
			t.Throttle, t.ThrottleTemplate = b.Throttle, b.ThrottleTemplate
		case "ignore_unreachable":
			t.IgnoreUnreachable = b.IgnoreUnreachable
		case "delegate_facts":
			t.DelegateFacts = b.DelegateFacts
		}
	}
}
