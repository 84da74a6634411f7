package inventory

import (
	"tend/internal/diag"
	"tend/internal/omap"

	"fmt"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds how many YAML nodes one file may expand to, so that an
// alias bomb ("billion laughs") fails instead of exhausting memory.
const maxNodes = 1 << 20

// parser walks the yaml.Node tree of one inventory file into a builder.
// It decodes nothing with node.Decode: every key is checked here, so
// unknown and duplicate keys are caught with their positions.
type parser struct {
	file  string
	b     *builder
	nodes int // nodes expanded so far, against maxNodes
	// errs are the problems found so far: the parse goes on after one,
	// to report them all at once.
	errs diag.List
}

// pair is one key/value entry of a mapping, with the key's text.
type pair struct {
	name     string
	key, val *yaml.Node
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// step counts one expanded node against maxNodes.
func (p *parser) step(n *yaml.Node, field string) error {
	p.nodes++
	if p.nodes > maxNodes {
		return p.errorf(n, field, "document expands to more than %d nodes (alias bomb?)", maxNodes)
	}
	return nil
}

// checkTag rejects an explicit tag other than want on a collection node.
func (p *parser) checkTag(n *yaml.Node, field, want string) error {
	if n.Style&yaml.TaggedStyle != 0 && n.Tag != want {
		return p.tagError(n, field)
	}
	return nil
}

// tagError explains why an explicit tag is refused.
func (p *parser) tagError(n *yaml.Node, field string) error {
	switch n.Tag {
	case "!vault":
		return p.errorf(n, field, "inline vault-encrypted values (!vault) are not supported")
	case "!unsafe":
		return p.errorf(n, field, "!unsafe values are not supported")
	}
	return p.errorf(n, field, "YAML tag %s is not supported here", n.Tag)
}

// isNull reports whether n is an explicit or implicit YAML null.
func isNull(n *yaml.Node) bool {
	n = deref(n)
	if n == nil {
		return true
	}
	if n.Kind != yaml.ScalarNode {
		return false
	}
	if n.Style&yaml.TaggedStyle != 0 {
		return n.Tag == "!!null"
	}
	return n.Style == 0 && resolvePlain(n.Value) == nil
}

// pairs returns the entries of mapping n in document order. It rejects
// duplicate keys (naming both positions), non-scalar, null and tagged keys,
// and expands YAML merge keys (<<), whose entries never override an explicit
// key of the same mapping.
func (p *parser) pairs(n *yaml.Node, field string) ([]pair, error) {
	if err := p.checkTag(n, field, "!!map"); err != nil {
		return nil, err
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if k.Kind != yaml.ScalarNode {
			return nil, p.errorf(k, field, "a mapping key must be a plain string, not a %s", kindName(k))
		}
		if k.Tag == "!!merge" {
			continue
		}
		if k.Style&yaml.TaggedStyle != 0 && k.Tag != "!!str" {
			return nil, p.tagError(k, join(field, k.Value))
		}
		if isNull(k) {
			return nil, p.errorf(k, field, "empty (null) key %q", k.Value)
		}
		if first, dup := seen[k.Value]; dup {
			return nil, p.errorf(k, join(field, k.Value), "duplicate key %q (first defined at line %d:%d)", k.Value, first.Line, first.Column)
		}
		seen[k.Value] = k
	}
	var out []pair
	added := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if err := p.step(k, field); err != nil {
			return nil, err
		}
		if k.Tag != "!!merge" {
			out = append(out, pair{name: k.Value, key: k, val: v})
			added[k.Value] = true
			continue
		}
		merged, err := p.mergeSources(v, field)
		if err != nil {
			return nil, err
		}
		for _, pr := range merged {
			if seen[pr.name] == nil && !added[pr.name] {
				out = append(out, pr)
				added[pr.name] = true
			}
		}
	}
	return out, nil
}

// mergeSources returns the entries a merge key's value brings in: one
// mapping, or a list of mappings where the earlier one wins.
func (p *parser) mergeSources(v *yaml.Node, field string) ([]pair, error) {
	v = deref(v)
	var srcs []*yaml.Node
	switch v.Kind {
	case yaml.MappingNode:
		srcs = []*yaml.Node{v}
	case yaml.SequenceNode:
		for _, s := range v.Content {
			srcs = append(srcs, deref(s))
		}
	}
	if len(srcs) == 0 {
		return nil, p.errorf(v, join(field, "<<"), "a merge key (<<) needs a mapping or a list of mappings")
	}
	var out []pair
	for _, s := range srcs {
		if s.Kind != yaml.MappingNode {
			return nil, p.errorf(s, join(field, "<<"), "a merge key (<<) needs a mapping or a list of mappings, not a %s", kindName(s))
		}
		prs, err := p.pairs(s, field)
		if err != nil {
			return nil, err
		}
		out = append(out, prs...)
	}
	return out, nil
}

// value converts a variable's node into Go values: map[string]any, []any,
// string, int, float64, bool or nil.
func (p *parser) value(n *yaml.Node, field string) (any, error) {
	n = deref(n)
	if err := p.step(n, field); err != nil {
		return nil, err
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return p.scalar(n, field)
	case yaml.SequenceNode:
		if err := p.checkTag(n, field, "!!seq"); err != nil {
			return nil, err
		}
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			v, err := p.value(c, fmt.Sprintf("%s[%d]", field, i))
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		prs, err := p.pairs(n, field)
		if err != nil {
			return nil, err
		}
		out := omap.New(len(prs)) // in written order, as Ansible's dicts
		for _, pr := range prs {
			v, err := p.value(pr.val, join(field, pr.name))
			if err != nil {
				return nil, err
			}
			out.Set(pr.name, v)
		}
		return out, nil
	}
	return nil, p.errorf(n, field, "unexpected YAML node")
}

// scalar resolves one scalar. Quoted scalars are strings. Plain scalars are
// typed only where YAML 1.1 (Ansible's PyYAML) and YAML 1.2 (yaml.v3) agree;
// anything they read differently (0755, 1_000, 0o17, yes/no/on/off, 1e3,
// 1:30, dates) stays the string written, never a silent coercion.
func (p *parser) scalar(n *yaml.Node, field string) (any, error) {
	if n.Style&yaml.TaggedStyle != 0 {
		return p.taggedScalar(n, field)
	}
	if n.Style != 0 {
		return n.Value, nil
	}
	return resolvePlain(n.Value), nil
}

// taggedScalar honours an explicit standard tag (!!str, !!int, ...).
func (p *parser) taggedScalar(n *yaml.Node, field string) (any, error) {
	s := n.Value
	switch n.Tag {
	case "!!str":
		return s, nil
	case "!!null":
		return nil, nil
	case "!!bool":
		if v, ok := resolvePlain(s).(bool); ok {
			return v, nil
		}
	case "!!int":
		if v, ok := resolvePlain(s).(int); ok {
			return v, nil
		}
	case "!!float":
		if taggedFloatRE.MatchString(s) {
			if v, err := strconv.ParseFloat(s, 64); err == nil {
				return v, nil
			}
		}
	default:
		return nil, p.tagError(n, field)
	}
	return nil, p.errorf(n, field, "%q is not an unambiguous %s (YAML 1.1 and 1.2 read it differently)", s, n.Tag)
}

var (
	decimalRE = regexp.MustCompile(`^[-+]?(0|[1-9][0-9]*)$`)
	hexRE     = regexp.MustCompile(`^0x[0-9a-fA-F]+$`)
	floatRE   = regexp.MustCompile(`^([-+]?[0-9]+\.[0-9]*|\.[0-9]+)([eE][-+][0-9]+)?$`)
	// taggedFloatRE is what an explicit !!float may hold: any decimal
	// notation, but no inf/nan, hex or underscores.
	taggedFloatRE = regexp.MustCompile(`^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$`)
)

// resolvePlain types an untagged plain scalar the way both YAML 1.1 and 1.2
// would, falling back to the text itself.
func resolvePlain(s string) any {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return nil
	case "true", "True", "TRUE":
		return true
	case "false", "False", "FALSE":
		return false
	}
	switch {
	case decimalRE.MatchString(s):
		if v, err := strconv.ParseInt(s, 10, 0); err == nil {
			return int(v)
		}
	case hexRE.MatchString(s):
		if v, err := strconv.ParseInt(s[2:], 16, 0); err == nil {
			return int(v)
		}
	case floatRE.MatchString(s):
		if v, err := strconv.ParseFloat(s, 64); err == nil {
			return v
		}
	}
	return s
}

// kindName names a node's kind for messages.
func kindName(n *yaml.Node) string {
	switch deref(n).Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		return "scalar"
	}
	return "node"
}
