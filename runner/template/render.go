package template

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// segment is literal text or the expression inside one {{ }}.
type segment struct {
	text string
	expr bool
}

// templates caches parsed template strings.
var templates sync.Map // string -> []segment or error

// parseTemplate splits s into literal text and {{ expression }} segments,
// rejecting Jinja statements and unterminated braces.
func parseTemplate(s string) ([]segment, error) {
	if cached, ok := templates.Load(s); ok {
		if err, isErr := cached.(error); isErr {
			return nil, err
		}
		return cached.([]segment), nil
	}
	segs, err := splitTemplate(s)
	if err != nil {
		templates.Store(s, err)
		return nil, err
	}
	templates.Store(s, segs)
	return segs, nil
}

func splitTemplate(s string) ([]segment, error) {
	var segs []segment
	for s != "" {
		open := strings.Index(s, "{{")
		stmt := strings.Index(s, "{%")
		if stmt >= 0 && (open < 0 || stmt < open) {
			return nil, fmt.Errorf("Jinja statements ({%% ... %%}) are not supported; use a {{ expression }} or a when condition")
		}
		if open < 0 {
			segs = append(segs, segment{text: s})
			break
		}
		if open > 0 {
			segs = append(segs, segment{text: s[:open]})
		}
		end := exprEnd(s[open+2:])
		if end < 0 {
			return nil, fmt.Errorf("unterminated {{ in %q", s)
		}
		e := strings.TrimSpace(s[open+2 : open+2+end])
		if e == "" {
			return nil, fmt.Errorf("empty {{ }} in %q", s)
		}
		segs = append(segs, segment{text: e, expr: true})
		s = s[open+2+end+2:]
	}
	return segs, nil
}

// exprEnd finds the "}}" closing an expression, skipping quoted strings and
// braces the expression itself opens (map literals); -1 if none.
func exprEnd(s string) int {
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
			if depth == 0 && i+1 < len(s) && s[i+1] == '}' {
				return i
			}
			if depth > 0 {
				depth--
			}
		}
	}
	return -1
}

// Render renders a template string. A string that is exactly one
// "{{ expr }}" yields the expression's native value (an int stays an int,
// a list a list); text mixed with expressions yields a string; a string
// without {{ is returned unchanged. Values inside templates are not
// rendered again.
func Render(s string, vars map[string]any) (any, error) {
	if !strings.Contains(s, "{{") && !strings.Contains(s, "{%") {
		return s, nil
	}
	segs, err := parseTemplate(s)
	if err != nil {
		return nil, err
	}
	if len(segs) == 1 && segs[0].expr {
		return Eval(segs[0].text, vars)
	}
	var b strings.Builder
	for _, seg := range segs {
		if !seg.expr {
			b.WriteString(seg.text)
			continue
		}
		v, err := Eval(seg.text, vars)
		if err != nil {
			return nil, err
		}
		b.WriteString(format(v))
	}
	return b.String(), nil
}

// format renders a value into text: strings as they are, null as nothing,
// numbers in plain decimal, true/false, lists and mappings as JSON.
func format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case undefined:
		return ""
	case fmt.Stringer:
		return x.String()
	}
	switch kindOf(v) {
	case reflect.Slice, reflect.Array, reflect.Map:
		if b, err := json.Marshal(v); err == nil {
			return string(b)
		}
	case reflect.Float32:
		return strconv.FormatFloat(reflect.ValueOf(v).Float(), 'f', -1, 32)
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
