// Package yamlnode reads YAML the way every tend input does: one document
// parsed to a node tree (a syntax error positioned at the line and column
// of the problem), values decoded without YAML 1.1's implicit coercions,
// module arguments decoded strictly into structs, and every problem a
// *diag.Error at file:line:col naming the field. The playbook parser, the
// modules and the inventory share it; it imports no runner package.
package yamlnode

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/diag"
	closest "tend/internal/suggest"
)

// YAML tags as yaml.v3 resolves them on plain scalars.
const (
	TagNull  = "!!null"
	TagBool  = "!!bool"
	TagInt   = "!!int"
	TagFloat = "!!float"
	TagStr   = "!!str"
)

var (
	// decimalRE is a plain decimal integer: no leading zeros (0755 is
	// octal in YAML 1.1), no underscores, no hex.
	decimalRE = regexp.MustCompile(`^[-+]?(0|[1-9][0-9]*)$`)
	// plainFloatRE is a decimal float without exponent: 1e3 stays a string.
	plainFloatRE = regexp.MustCompile(`^[-+]?(0|[1-9][0-9]*)\.[0-9]+$`)
	// floatRE is any decimal float YAML writes, exponent included, but not
	// .inf, .nan or underscores.
	floatRE = regexp.MustCompile(`^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$`)
)

// IsDecimal reports whether s is a plain decimal integer: no leading zero
// (0755 reads as octal in YAML 1.1), no underscores, no hex.
func IsDecimal(s string) bool { return decimalRE.MatchString(s) }

// IsNull reports whether n is an explicit or empty YAML null.
func IsNull(n *yaml.Node) bool { return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == TagNull) }

// HasTemplate reports whether a scalar holds a template: {{ ... }} or a
// {% statement %}.
func HasTemplate(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && IsTemplateText(n.Value)
}

// IsTemplateText reports whether s holds a template to render: a
// {{ expression }} or a {% statement %}.
func IsTemplateText(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%")
}

// Resolve follows *anchor references to the anchored node.
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// Describe names a node's shape for messages: "a list", "a mapping",
// "null", or a scalar's quoted text.
func Describe(n *yaml.Node) string {
	n = Resolve(n)
	if n == nil {
		return "empty"
	}
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		if n.Tag == TagNull {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "empty"
}

// ParseBool accepts exactly true or false, in any letter case.
func ParseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// PosOf returns the position of n in file (1:1 for nil).
func PosOf(file string, n *yaml.Node) diag.Pos {
	if n == nil || n.Line == 0 {
		return diag.Pos{File: file, Line: 1, Col: 1}
	}
	return diag.Pos{File: file, Line: n.Line, Col: n.Column}
}

// JoinPath appends a key to a field path: "tasks[2]" + "notify".
func JoinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// IndexPath appends a list index to a field path: "tasks" + 2.
func IndexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// DidYouMean formats the suffix of an unknown-name message: `; did you
// mean "notify"?`, or the valid names when there are few and none is close.
func DidYouMean(word string, candidates ...[]string) string {
	if s := closest.Closest(word, candidates...); s != "" {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	var all []string
	for _, list := range candidates {
		all = append(all, list...)
	}
	if len(all) == 0 || len(all) > 12 {
		return ""
	}
	sort.Strings(all)
	return "; valid: " + strings.Join(all, ", ")
}

// CheckDuplicates reports every mapping key that appears twice in the same
// mapping, anywhere under n. yaml.v3 accepts duplicates when decoding into a
// yaml.Node, and a silently ignored duplicate is a silently ignored setting.
// Aliases are not followed: the anchored node is checked where it stands.
func CheckDuplicates(d *Decoder, n *yaml.Node) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, child := range n.Content {
			CheckDuplicates(d, child)
		}
	case yaml.MappingNode:
		seen := make(map[string]*yaml.Node, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode {
				if first, dup := seen[k.Value]; dup {
					d.Errorf(k, k.Value, "duplicate key (first at line %d, again at line %d)", first.Line, k.Line)
				} else {
					seen[k.Value] = k
				}
			}
			CheckDuplicates(d, n.Content[i+1])
		}
	}
}
