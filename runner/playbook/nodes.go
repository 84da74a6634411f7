package playbook

import "regexp"

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
