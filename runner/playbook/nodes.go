package playbook

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

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

// checkStatements rejects Jinja statements ({% ... %}) in any scalar: tend
// evaluates {{ expressions }} only, and a statement it does not run would
// otherwise reach a host as literal text.
func checkStatements(d *yamlnode.Decoder, n *yaml.Node) {
	if n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode {
		if hasStatement(n.Value) {
			d.Errorf(n, "", "Jinja statements ({%% ... %%}) are not supported; use a {{ expression }}, when, or a list of tasks")
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		return
	}
	for _, child := range n.Content {
		checkStatements(d, child)
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
