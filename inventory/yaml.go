package inventory

import (
	"bytes"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// syntaxError turns a yaml.v3 parse error into an *Error at the line and
// column of the problem.
func (p *parser) syntaxError(data []byte, err error) error {
	return yamlnode.SyntaxError(p.file, data, err)
}

// yamlRoot decodes data as one YAML document and returns its root
// mapping; shape says what it must be, for messages. An empty
// document gives a nil root and no error. When data is not a YAML mapping
// (an INI inventory never is) it returns a nil root and an error saying
// why; an error with a non-nil root concerns a file that is YAML for sure.
func (p *parser) yamlRoot(data []byte, shape string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, nil
		}
		return nil, p.syntaxError(data, err)
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, nil
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, p.errorf(root, "", "%s, not a %s", shape, kindName(root))
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return root, p.errorf(&next, "", "more than one YAML document; the file must hold a single one")
	} else if err != io.EOF {
		return root, p.syntaxError(data, err)
	}
	return root, nil
}

// parseYAML reads a YAML inventory whose top-level keys are groups
// (usually just "all"). It reports every problem it finds, a diag.List
// when there are several.
func (p *parser) parseYAML(root *yaml.Node) error {
	_ = p.collect(p.groups(root)) // errStop only ends the parse
	return p.errs.Err()
}

// groups reads the top-level groups.
func (p *parser) groups(root *yaml.Node) error {
	prs, err := p.pairs(root, "")
	if err != nil {
		return err
	}
	for _, pr := range prs {
		if pr.name == "plugin" {
			return p.errorf(pr.key, "plugin", "inventory plugins are not supported; only YAML, INI and executable inventories")
		}
		g, err := p.groupKey(pr.key, pr.name)
		if err == nil {
			err = p.groupBody(g, pr.val, pr.name)
		}
		if err != nil {
			if err = p.collect(err); err != nil {
				return err
			}
		}
	}
	return nil
}

// groupKey validates a group name and returns that group.
func (p *parser) groupKey(key *yaml.Node, field string) (*group, error) {
	if err := checkGroupName(key.Value); err != nil {
		return nil, p.errorf(key, field, "%v", err)
	}
	return p.b.group(key.Value), nil
}

// groupKeys are the only keys a group may hold.
var groupKeys = []string{"hosts", "children", "vars"}

// groupBody reads a group's hosts, children and vars.
func (p *parser) groupBody(g *group, n *yaml.Node, field string) error {
	if isNull(n) {
		return nil
	}
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, field, "group %q must be a mapping of hosts, children and vars, not a %s", g.name, kindName(n))
	}
	prs, err := p.pairs(n, field)
	if err != nil {
		return err
	}
	for _, pr := range prs {
		f := join(field, pr.name)
		switch pr.name {
		case "hosts":
			err = p.hosts(g, pr.val, f)
		case "children":
			err = p.children(g, pr.val, f)
		case "vars":
			err = p.groupVars(g, pr.val, f)
		default:
			err = p.errorf(pr.key, f, "unknown key %q in group %q: only hosts, children and vars are allowed%s",
				pr.name, g.name, suggest(pr.name, groupKeys...))
		}
		if err != nil {
			if err = p.collect(err); err != nil {
				return err
			}
		}
	}
	return nil
}

// entries returns the entries of a hosts: or children: section. A single
// string stands for one entry with no body, as in Ansible.
func (p *parser) entries(n *yaml.Node, field, what string) ([]pair, error) {
	if isNull(n) {
		return nil, nil
	}
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		return p.pairs(n, field)
	case yaml.ScalarNode:
		if n.Style&yaml.TaggedStyle != 0 && n.Tag != "!!str" {
			return nil, p.tagError(n, field)
		}
		return []pair{{name: n.Value, key: n}}, nil
	}
	return nil, p.errorf(n, field, "%s must be a mapping (name: or name: {...}), not a %s", what, kindName(n))
}

// hosts reads a group's hosts: section.
func (p *parser) hosts(g *group, n *yaml.Node, field string) error {
	prs, err := p.entries(n, field, "hosts")
	if err != nil {
		return err
	}
	for _, pr := range prs {
		f := join(field, pr.name)
		names, port, err := expandHostKey(pr.name)
		if err != nil {
			if err = p.collect(p.errorf(pr.key, f, "%v", err)); err != nil {
				return err
			}
			continue
		}
		hs := make([]*Host, len(names))
		for i, name := range names {
			hs[i] = p.b.host(g, name)
			if port != 0 {
				hs[i].own["ansible_port"] = port
			}
		}
		if err := p.hostVars(hs, pr.val, f); err != nil {
			if err = p.collect(err); err != nil {
				return err
			}
		}
	}
	return nil
}

// hostVars reads the variables given to a host key (one host, or several
// from a range) under one group.
func (p *parser) hostVars(hs []*Host, n *yaml.Node, field string) error {
	if isNull(n) {
		return nil
	}
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, field, "host %q must map to its variables or to nothing, not a %s", hs[0].Name, kindName(n))
	}
	return p.vars(n, field, func(name string, v any) {
		for _, h := range hs {
			h.own[name] = deepCopy(v)
		}
	})
}

// children reads a group's children: section. The edge is added before the
// child's body is read, so a cycle is reported at the key that closes it.
func (p *parser) children(g *group, n *yaml.Node, field string) error {
	prs, err := p.entries(n, field, "children")
	if err != nil {
		return err
	}
	for _, pr := range prs {
		if err := p.child(g, pr, join(field, pr.name)); err != nil {
			if err = p.collect(err); err != nil {
				return err
			}
		}
	}
	return nil
}

// child reads one entry of a children: section.
func (p *parser) child(g *group, pr pair, f string) error {
	if pr.name == "all" {
		return p.errorf(pr.key, f, `group "all" cannot be a child group`)
	}
	child, err := p.groupKey(pr.key, f)
	if err != nil {
		return err
	}
	if cycle := p.b.addChild(g, child); cycle != nil {
		return p.errorf(pr.key, f, "group %q would be its own ancestor: %s", child.name, strings.Join(cycle, " → "))
	}
	return p.groupBody(child, pr.val, f)
}

// groupVars reads a group's vars: section.
func (p *parser) groupVars(g *group, n *yaml.Node, field string) error {
	if isNull(n) {
		return nil
	}
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, field, "vars must be a mapping, not a %s", kindName(n))
	}
	return p.vars(n, field, func(name string, v any) {
		if name == "ansible_group_priority" {
			g.priority, _ = toInt(v) // checked by checkVar
			return
		}
		g.vars[name] = v
	})
}

// vars converts and checks each variable of mapping n and hands it to set.
// ansible_group_priority is taken by the group itself.
func (p *parser) vars(n *yaml.Node, field string, set func(string, any)) error {
	prs, err := p.pairs(n, field)
	if err != nil {
		return err
	}
	for _, pr := range prs {
		f := join(field, pr.name)
		err := checkVarName(pr.name)
		if err != nil {
			err = p.errorf(pr.key, f, "%v", err)
		} else {
			var v any
			if v, err = p.value(pr.val, f); err == nil {
				if err = checkVar(pr.name, v); err != nil {
					err = p.errorf(deref(pr.val), f, "%v", err)
				} else {
					set(pr.name, v)
				}
			}
		}
		if err != nil {
			if err = p.collect(err); err != nil {
				return err
			}
		}
	}
	return nil
}
