package playbook

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// YAML tags as yaml.v3 resolves them on plain scalars.
const (
	tagNull  = "!!null"
	tagBool  = "!!bool"
	tagInt   = "!!int"
	tagFloat = "!!float"
	tagStr   = "!!str"
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
	identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// reservedNames cannot name a variable: the expression language reads them
// as operators or literals.
var reservedNames = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "is": true, "if": true,
	"else": true, "let": true, "true": true, "false": true, "nil": true,
	"none": true, "True": true, "False": true, "None": true, "matches": true,
	"contains": true, "startsWith": true, "endsWith": true,
}

// isIdentifier reports whether s can name a variable in an expression.
func isIdentifier(s string) bool { return identRE.MatchString(s) && !reservedNames[s] }

// isNull reports whether n is an explicit or empty YAML null.
func isNull(n *yaml.Node) bool { return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == tagNull) }

// hasTemplate reports whether a scalar holds a {{ ... }} template.
func hasTemplate(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "{{")
}

// resolveAlias follows *anchor references to the anchored node.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// kindName names a node's shape for messages ("a list", "a mapping").
func kindName(n *yaml.Node) string {
	switch resolveAlias(n).Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		if n.Tag == tagNull {
			return "null"
		}
		return sprintf("%q", n.Value)
	}
	return "empty"
}

// checkDuplicates reports every mapping key that appears twice in the same
// mapping, anywhere under n. yaml.v3 accepts duplicates when decoding into a
// yaml.Node, and a silently ignored duplicate is a silently ignored setting.
// Aliases are not followed: the anchored node is checked where it stands.
func checkDuplicates(c *collector, n *yaml.Node) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, child := range n.Content {
			checkDuplicates(c, child)
		}
	case yaml.MappingNode:
		seen := make(map[string]*yaml.Node, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode {
				if first, dup := seen[k.Value]; dup {
					c.add(k, k.Value, "duplicate key (first at line %d, again at line %d)", first.Line, k.Line)
				} else {
					seen[k.Value] = k
				}
			}
			checkDuplicates(c, n.Content[i+1])
		}
	}
}

// checkStatements rejects Jinja statements ({% ... %}) in any scalar: tend
// evaluates {{ expressions }} only, and a statement it does not run would
// otherwise reach a host as literal text.
func checkStatements(c *collector, n *yaml.Node) {
	if n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode {
		if hasStatement(n.Value) {
			c.add(n, "", "Jinja statements ({%% ... %%}) are not supported; use a {{ expression }}, when, or a list of tasks")
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		return
	}
	for _, child := range n.Content {
		checkStatements(c, child)
	}
}

// hasStatement reports whether s holds "{%" outside any {{ ... }}.
func hasStatement(s string) bool {
	for {
		st := strings.Index(s, "{%")
		if st < 0 {
			return false
		}
		open := strings.Index(s, "{{")
		if open < 0 || open > st {
			return true
		}
		end := strings.Index(s[open:], "}}")
		if end < 0 {
			return true
		}
		s = s[open+end+2:]
	}
}
