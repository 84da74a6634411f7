package template

import "strings"

// RenderPieces renders the template s over vars as Render does, but hands
// its output to emit in the order it is produced: each run of literal text
// with value false, and each {{ expression }}'s output, as the template
// prints it, with value true. A caller can so keep values apart from the
// text around them, such as a shell script's code and the data put into it.
func RenderPieces(s string, vars map[string]any, emit func(text string, value bool)) error {
	if !isTemplate(s) {
		emit(s, false)
		return nil
	}
	nodes, err := parseTree(s)
	if err != nil {
		return err
	}
	if vars == nil {
		vars = map[string]any{}
	}
	x := &executor{scope: vars, emit: emit}
	return x.run(nodes)
}

// IsTemplate reports whether s holds template syntax: {{ }}, {% %} or a
// {# comment #}.
func IsTemplate(s string) bool { return isTemplate(s) }

// HasStatements reports whether s holds a Jinja statement or comment tag
// ({% ... %}, {# ... #}), beyond {{ expressions }}.
func HasStatements(s string) bool {
	return strings.Contains(s, "{%") || (strings.Contains(s, "{#") && strings.Contains(s, "#}"))
}
