package playbook

import (
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// str reads a scalar as its raw text; null is "".
func (p *parser) str(v *yaml.Node, field string) string {
	if yamlnode.IsNull(v) {
		return ""
	}
	if !p.Scalar(v, field, "a string") {
		return ""
	}
	return v.Value
}

// boolean reads true or false; anything else is reported.
func (p *parser) boolean(v *yaml.Node, field string) bool {
	b, _ := p.Bool(v, field)
	return b
}

// names reads a string or a list of strings (notify, listen, tags).
func (p *parser) names(v *yaml.Node, field string) []string {
	if yamlnode.IsNull(v) {
		p.Errorf(v, field, "must be a name or a list of names, not null")
		return nil
	}
	if v.Kind == yaml.MappingNode {
		p.Errorf(v, field, "must be a name or a list of names, not a mapping")
		return nil
	}
	var out []string
	for i, item := range listItems(v) {
		item = yamlnode.Resolve(item)
		f := field
		if v.Kind == yaml.SequenceNode {
			f = yamlnode.IndexPath(field, i)
		}
		if item.Kind != yaml.ScalarNode || yamlnode.IsNull(item) || strings.TrimSpace(item.Value) == "" {
			p.Errorf(item, f, "must be a non-empty name, not %s", yamlnode.Describe(item))
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

// conditions reads when-style expressions: a string, true/false, or a list
// of those. Bare booleans become "true" / "false".
func (p *parser) conditions(v *yaml.Node, field string) []string {
	if yamlnode.IsNull(v) {
		p.Errorf(v, field, "must be a condition or a list of conditions, not null")
		return nil
	}
	if v.Kind == yaml.MappingNode {
		p.Errorf(v, field, "must be a condition or a list of conditions, not a mapping (quote an expression that contains \": \")")
		return nil
	}
	var out []string
	for i, item := range listItems(v) {
		item = yamlnode.Resolve(item)
		f := field
		if v.Kind == yaml.SequenceNode {
			f = yamlnode.IndexPath(field, i)
		}
		switch {
		case item.Kind == yaml.ScalarNode && item.Tag == yamlnode.TagBool:
			b, ok := yamlnode.ParseBool(item.Value)
			if !ok {
				p.Errorf(item, f, "must be a condition, not %s", yamlnode.Describe(item))
				continue
			}
			if b {
				out = append(out, "true")
			} else {
				out = append(out, "false")
			}
		case item.Kind == yaml.ScalarNode && item.Tag == yamlnode.TagStr && strings.TrimSpace(item.Value) != "":
			out = append(out, strings.TrimSpace(item.Value))
		default:
			p.Errorf(item, f, "must be a condition (an expression or true/false), not %s", yamlnode.Describe(item))
		}
	}
	return out
}

// vars reads a mapping of variables, decoded by DecodeOrdered (a mapping
// value keeps its keys in written order), and its keys in file order.
func (p *parser) vars(v *yaml.Node, field string) (map[string]any, []string) {
	if yamlnode.IsNull(v) {
		return nil, nil
	}
	if v.Kind != yaml.MappingNode {
		p.Errorf(v, field, "must be a mapping of variables, not %s", yamlnode.Describe(v))
		return nil, nil
	}
	out := make(map[string]any, len(v.Content)/2)
	var names []string
	for i := 0; i+1 < len(v.Content); i += 2 {
		k := yamlnode.Resolve(v.Content[i])
		if k.Kind != yaml.ScalarNode || !isIdentifier(k.Value) {
			p.Errorf(k, field, "variable names must be identifiers (letters, digits, _), not %s", yamlnode.Describe(k))
			continue
		}
		if _, dup := out[k.Value]; dup {
			continue // reported by checkDuplicates
		}
		out[k.Value] = p.OrderedValue(v.Content[i+1], yamlnode.JoinPath(field, k.Value))
		names = append(names, k.Value)
	}
	return out, names
}

// checkHandlers validates a play's handlers and that every notify names
// one: a misspelled handler would otherwise never run.
func (p *parser) checkHandlers(play *Play) {
	topics := map[string]bool{}
	named := map[string]*Task{}
	var topicList []string
	for i, h := range play.Handlers {
		field := yamlnode.IndexPath("handlers", i)
		if h.Name == "" && len(h.Listen) == 0 {
			p.ErrorfAt(h.Pos, field, "a handler needs a name or listen, or it can never be notified")
		}
		if h.Name != "" {
			if first, dup := named[h.Name]; dup && first.Pos.File == h.Pos.File {
				p.ErrorfAt(h.Pos, field,
					"handler name %q is already used by the handler at line %d", h.Name, first.Pos.Line)
			} else if dup {
				// Two roles (or a role and the play) name a handler alike:
				// as Ansible 2.14, notifying the name runs the last one
				// only; each still answers its listen topics and "ROLE : NAME".
				first.Shadowed = true
			}
			named[h.Name] = h
		}
		for _, topic := range append([]string{h.Name}, h.Listen...) {
			if topic != "" && !topics[topic] {
				topics[topic] = true
				topicList = append(topicList, topic)
			}
		}
	}
	for _, ref := range p.notifies {
		n := ref.node
		if n.Kind != yaml.ScalarNode || yamlnode.IsTemplateText(n.Value) || topics[n.Value] {
			continue
		}
		hint := yamlnode.DidYouMean(n.Value, topicList)
		if len(topicList) == 0 {
			hint = "; the play has no handlers"
		}
		p.ErrorfAt(yamlnode.PosOf(ref.file, n), "notify", "%q matches no handler name or listen topic in this play%s", n.Value, hint)
	}
}
