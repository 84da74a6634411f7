package playbook

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
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
	c := &collector{file: file}
	budget := maxValueNodes
	v := decodeValue(c, n, "", &budget)
	return v, c.err()
}

func decodeValue(c *collector, n *yaml.Node, path string, budget *int) any {
	if *budget--; *budget < 0 {
		if *budget == -1 {
			c.add(n, path, "value expands to more than %d nodes (aliases)", maxValueNodes)
		}
		return nil
	}
	n = resolveAlias(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return decodeValue(c, n.Content[0], path, budget)
	case yaml.ScalarNode:
		return scalarValue(c, n, path)
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, item := range n.Content {
			out[i] = decodeValue(c, item, indexPath(path, i), budget)
		}
		return out
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolveAlias(n.Content[i])
			if k.Kind != yaml.ScalarNode {
				c.add(k, path, "mapping keys must be strings, not %s", kindName(k))
				continue
			}
			if k.Value == "<<" && k.Tag == "!!merge" {
				c.add(k, path, "merge keys (<<) are not supported; write the keys out")
				continue
			}
			if _, dup := out[k.Value]; dup {
				c.add(k, joinPath(path, k.Value), "duplicate key")
				continue
			}
			out[k.Value] = decodeValue(c, n.Content[i+1], joinPath(path, k.Value), budget)
		}
		return out
	}
	c.add(n, path, "unsupported YAML node")
	return nil
}

// scalarValue decodes one scalar by the rules of DecodeValue.
func scalarValue(c *collector, n *yaml.Node, path string) any {
	switch n.Tag {
	case tagNull:
		return nil
	case tagBool:
		if b, ok := parseBool(n.Value); ok {
			return b
		}
	case tagInt:
		if decimalRE.MatchString(n.Value) {
			if i, err := strconv.ParseInt(n.Value, 10, 0); err == nil {
				return int(i)
			}
		}
	case tagFloat:
		if plainFloatRE.MatchString(n.Value) {
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return f
			}
		}
	case tagStr, "!!timestamp", "!!binary", "":
	default:
		if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			c.add(n, path, "YAML tag %s is not supported", n.Tag)
			return nil
		}
	}
	return n.Value
}

// parseBool accepts exactly true or false, in any letter case.
func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}
