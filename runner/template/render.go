package template

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"tend/internal/omap"
)

// exprEnd finds the close sequence ("}}" or "%}") ending a tag, skipping
// quoted strings and braces the expression itself opens (map literals);
// -1 if none.
func exprEnd(s, closer string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '"', '`':
			for i++; i < len(s) && s[i] != c; i++ {
				if s[i] == '\\' && c != '`' {
					i++
				}
			}
		case '{':
			depth++
		case '}':
			if depth > 0 {
				depth--
				continue
			}
			fallthrough
		default:
			if depth == 0 && strings.HasPrefix(s[i:], closer) {
				return i
			}
		}
	}
	return -1
}

// isTemplate reports whether s holds template syntax at all.
func isTemplate(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%") ||
		(strings.Contains(s, "{#") && strings.Contains(s, "#}"))
}

// Render renders a template string as Ansible 2.14's Templar does with
// jinja2_native off (the default). A string that is exactly one
// "{{ expr }}", or whose statements output exactly one expression and no
// text, yields the expression's value: a list, mapping or bool as it is,
// a number as text ("{{ x + 1 }}" is "6", "{{ l | length }}" is "2") and
// null as "" — ansible_eval_concat turns the one node into text — except
// "{{ name }}" naming a variable that holds a number, a bool or null, which
// Templar returns untouched (its SINGLE_VAR shortcut: nativeVariable).
// Text mixed with expressions yields a string; either way a string that
// reads as a Python literal list, mapping or bool becomes that value
// (convertText), unless a whole expression's last step is a filter that
// means text (keepsText: to_json, string, ...); trailing newlines are
// kept; a string without template syntax is returned unchanged. Values
// inside templates are not rendered again.
func Render(s string, vars map[string]any) (any, error) {
	if !isTemplate(s) {
		return s, nil
	}
	if v, ok := nativeVariable(s, vars); ok {
		return v, nil
	}
	nodes, err := parseTree(s)
	if err != nil {
		return nil, err
	}
	if vars == nil {
		vars = map[string]any{}
	}
	if len(nodes) == 1 {
		if out, ok := nodes[0].(outNode); ok {
			v, err := Eval(out.expr, vars)
			if err != nil {
				return nil, err
			}
			return wholeValue(out.expr, v), nil
		}
	}
	x := &executor{scope: vars}
	if err := x.run(nodes); err != nil {
		return nil, err
	}
	if x.outputs == 1 && !x.text {
		return wholeValue(x.lastExpr, x.last), nil
	}
	out := convertText(x.b.String())
	if text, ok := out.(string); ok {
		// Ansible keeps the template's trailing newlines, which Jinja's
		// trim_blocks may have eaten.
		if missing := trailingNewlines(s) - trailingNewlines(text); missing > 0 {
			out = text + strings.Repeat("\n", missing)
		}
	}
	return out, nil
}

// trailingNewlines counts the newlines that end s.
func trailingNewlines(s string) int {
	return len(s) - len(strings.TrimRight(s, "\n"))
}

// format renders a value into text as Ansible does (Python's str()):
// strings as they are, null as nothing, True/False, numbers as Python
// prints them (2.0, 1e+20), lists and mappings as Python's repr
// ([1, True, 'a'], {'k': None}).
func format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool, float64, float32:
		return pyRepr(x)
	case int:
		return strconv.Itoa(x)
	case undefined:
		return ""
	case fmt.Stringer:
		return x.String()
	}
	switch kindOf(v) {
	case reflect.Slice, reflect.Array, reflect.Map:
		return pyRepr(v)
	}
	return fmt.Sprint(v)
}

// show describes a value for error messages: its type and a short form.
func show(v any) string {
	if v == nil {
		return "null"
	}
	s := format(v)
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return fmt.Sprintf("%T %q", v, s)
}

// truthy is Jinja truthiness, for filters that take it (default(x, true),
// ternary): null, false, 0, "" and empty collections are false.
func truthy(v any) bool {
	if v == nil {
		return false
	}
	if _, u := v.(undefined); u {
		return false
	}
	if m, ok := v.(*omap.Map); ok {
		return m.Len() > 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool()
	case reflect.String, reflect.Slice, reflect.Array, reflect.Map:
		return rv.Len() > 0
	}
	if f, ok := toFloat(v); ok {
		return f != 0
	}
	return true
}

func sortedCopy(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}
