package yamlnode

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/omap"
)

// maxValueNodes bounds how many nodes one value may expand to through
// aliases, so a "billion laughs" document cannot exhaust memory.
const maxValueNodes = 100_000

// DecodeValue converts a YAML node to plain Go values without implicit
// coercion, for variables and `any` fields:
//
//   - null is nil; true and false (any case) are bools;
//   - a plain decimal integer (42, -7) is an int, a plain decimal float
//     (1.5) a float64;
//   - every other scalar is its raw text as a string: 0755, 0x1F, 1_000,
//     1e3, yes, on, 2024-01-01 and quoted values all stay exactly as written;
//   - a mapping is a map[string]any (keys must be scalars), a list is []any.
//
// yaml.v3 alone would turn 0755 into 493 and 1e3 into 1000.
func DecodeValue(file string, n *yaml.Node) (any, error) {
	d := NewDecoder(file)
	v := d.Value(n, "")
	return v, d.Err()
}

// DecodeOrdered is DecodeValue for variables: a mapping is an *omap.Map
// that keeps its keys in written order, as Ansible's dicts do.
func DecodeOrdered(file string, n *yaml.Node) (any, error) {
	d := NewDecoder(file)
	v := d.OrderedValue(n, "")
	return v, d.Err()
}

// Value decodes n by the rules of DecodeValue, collecting its problems in
// d at the field path.
func (d *Decoder) Value(n *yaml.Node, path string) any { return d.anyValue(n, path, false) }

// OrderedValue is Value for variables: a mapping is an *omap.Map in
// written order (see DecodeOrdered).
func (d *Decoder) OrderedValue(n *yaml.Node, path string) any { return d.anyValue(n, path, true) }

func (d *Decoder) anyValue(n *yaml.Node, path string, ordered bool) any {
	c := d
	if d.budget--; d.budget < 0 {
		if d.budget == -1 {
			c.Errorf(n, path, "value expands to more than %d nodes (aliases)", maxValueNodes)
		}
		return nil
	}
	n = Resolve(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return c.anyValue(n.Content[0], path, ordered)
	case yaml.ScalarNode:
		return c.scalarValue(n, path)
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, item := range n.Content {
			out[i] = c.anyValue(item, IndexPath(path, i), ordered)
		}
		return out
	case yaml.MappingNode:
		if ordered {
			return c.orderedMapping(n, path)
		}
		return omap.Plain(c.orderedMapping(n, path)) // the same rules; Go maps all the way down
	}
	c.Errorf(n, path, "unsupported YAML node")
	return nil
}

// orderedMapping decodes mapping n as an *omap.Map, by the rules of
// Value's mappings.
func (c *Decoder) orderedMapping(n *yaml.Node, path string) any {
	out := omap.New(len(n.Content) / 2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := Resolve(n.Content[i])
		if k.Kind != yaml.ScalarNode {
			c.Errorf(k, path, "mapping keys must be strings, not %s", Describe(k))
			continue
		}
		if k.Value == "<<" && k.Tag == "!!merge" {
			c.Errorf(k, path, "merge keys (<<) are not supported; write the keys out")
			continue
		}
		if _, dup := out.Get(k.Value); dup {
			c.Errorf(k, JoinPath(path, k.Value), "duplicate key")
			continue
		}
		out.Set(k.Value, c.anyValue(n.Content[i+1], JoinPath(path, k.Value), true))
	}
	return out
}

// scalarValue decodes one scalar by the rules of DecodeValue.
func (c *Decoder) scalarValue(n *yaml.Node, path string) any {
	switch n.Tag {
	case TagNull:
		return nil
	case TagBool:
		if b, ok := ParseBool(n.Value); ok {
			return b
		}
	case TagInt:
		if decimalRE.MatchString(n.Value) {
			if i, err := strconv.ParseInt(n.Value, 10, 0); err == nil {
				return int(i)
			}
		}
	case TagFloat:
		if plainFloatRE.MatchString(n.Value) {
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return f
			}
		}
	case TagStr, "!!timestamp", "!!binary", "":
	default:
		if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			c.Errorf(n, path, "YAML tag %s is not supported", n.Tag)
			return nil
		}
	}
	return n.Value
}
