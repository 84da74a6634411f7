package template

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"tend/internal/omap"
)

// dataFilters convert between values and JSON, YAML and base64 text, as
// Ansible's filters of the same names print them (Python's json and
// PyYAML layouts). As in Ansible, to_json keeps a mapping's order and
// to_nice_json, to_yaml and to_nice_yaml sort its keys, unless sort_keys
// says otherwise.
var dataFilters = map[string]func(args ...any) (any, error){
	"_f_to_json": func(args ...any) (any, error) {
		_, kw := splitKwargs(args)
		return pyJSON(args[0], kwInt(kw, "indent", -1), kwBool(kw, "sort_keys", false))
	},
	"_f_to_nice_json": func(args ...any) (any, error) {
		_, kw := splitKwargs(args)
		return pyJSON(args[0], kwInt(kw, "indent", 4), kwBool(kw, "sort_keys", true))
	},
	"_f_from_json": filterFromJSON,
	"_f_to_yaml": func(args ...any) (any, error) {
		_, kw := splitKwargs(args)
		return toYAML(args[0], 2, true, kwBool(kw, "sort_keys", true))
	},
	"_f_to_nice_yaml": func(args ...any) (any, error) {
		_, kw := splitKwargs(args)
		return toYAML(args[0], kwInt(kw, "indent", 4), false, kwBool(kw, "sort_keys", true))
	},
	"_f_from_yaml": func(args ...any) (any, error) {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(format(args[0])), &doc); err != nil {
			return nil, fmt.Errorf("from_yaml: %w", err)
		}
		out, err := omap.FromYAML(&doc)
		if err != nil {
			return nil, fmt.Errorf("from_yaml: %w", err)
		}
		return out, nil
	},
	"_f_b64encode": func(args ...any) (any, error) {
		return base64.StdEncoding.EncodeToString([]byte(format(args[0]))), nil
	},
	"_f_b64decode": func(args ...any) (any, error) {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(format(args[0])))
		if err != nil {
			return nil, fmt.Errorf("b64decode: %w", err)
		}
		return string(b), nil
	},
	"_f_regex_escape": func(args ...any) (any, error) { return regexp.QuoteMeta(format(args[0])), nil },
}

// pyJSON is Python's json.dumps with ensure_ascii: ", " and ": "
// separators on one line, or indent spaces per level (with "," and ": ").
func pyJSON(v any, indent int, sortKeys bool) (string, error) {
	var b strings.Builder
	if err := writeJSON(&b, v, indent, 0, sortKeys); err != nil {
		return "", fmt.Errorf("to_json: %w", err)
	}
	return b.String(), nil
}

// kwInt is the integer keyword argument name, or def.
func kwInt(kw map[string]any, name string, def int) int {
	if v, ok := kw[name]; ok {
		def, _ = toIndex(v)
	}
	return def
}

// kwBool is the keyword argument name by truthiness, or def.
func kwBool(kw map[string]any, name string, def bool) bool {
	if v, ok := kw[name]; ok {
		return truthy(v)
	}
	return def
}

func writeJSON(b *strings.Builder, v any, indent, depth int, sortKeys bool) error {
	newline := func(d int) {
		if indent >= 0 {
			b.WriteByte('\n')
			b.WriteString(strings.Repeat(" ", indent*d))
		}
	}
	sep := ", "
	if indent >= 0 {
		sep = ","
	}
	rv := reflect.ValueOf(v)
	kind := rv.Kind()
	if kindOf(v) == reflect.Map {
		kind = reflect.Map
	}
	switch kind {
	case reflect.Invalid:
		b.WriteString("null")
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(rv.Bool()))
	case reflect.String:
		writeJSONString(b, rv.String())
	case reflect.Float32, reflect.Float64:
		b.WriteString(pyRepr(rv.Float()))
	case reflect.Slice, reflect.Array:
		if rv.Len() == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				b.WriteString(sep)
			}
			newline(depth + 1)
			if err := writeJSON(b, rv.Index(i).Interface(), indent, depth+1, sortKeys); err != nil {
				return err
			}
		}
		newline(depth)
		b.WriteByte(']')
	case reflect.Map:
		m, _ := asOrdered(v)
		if m.Len() == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteByte('{')
		for i, k := range orderedKeys(m, sortKeys) {
			if i > 0 {
				b.WriteString(sep)
			}
			newline(depth + 1)
			writeJSONString(b, k)
			b.WriteString(": ")
			e, _ := m.Get(k)
			if err := writeJSON(b, e, indent, depth+1, sortKeys); err != nil {
				return err
			}
		}
		newline(depth)
		b.WriteByte('}')
	default:
		if isInteger(v) {
			b.WriteString(format(v))
			return nil
		}
		return fmt.Errorf("%s is not JSON serializable", show(v))
	}
	return nil
}

// writeJSONString quotes s as Python's json does with ensure_ascii.
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r > 0x7e && r < 0x10000):
			fmt.Fprintf(b, `\u%04x`, r)
		case r >= 0x10000:
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// filterFromJSON parses JSON; integral numbers become ints.
func filterFromJSON(args ...any) (any, error) {
	dec := json.NewDecoder(strings.NewReader(format(args[0])))
	dec.UseNumber()
	v, err := omap.DecodeJSON(dec)
	if err != nil {
		return nil, fmt.Errorf("from_json: %w", err)
	}
	return JSONNumbers(v), nil
}

// JSONNumbers replaces each json.Number in v (decoded with UseNumber) by
// an int when it is integral, else a float64, in place: Python's json does
// the same, so "5" prints as 5, not 5.0. from_json and uri's json use it.
func JSONNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = JSONNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = JSONNumbers(x[k])
		}
	case *omap.Map: // still being built: Set keeps each key's place
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			x.Set(k, JSONNumbers(e))
		}
	}
	return v
}

// toYAML prints v as PyYAML's dump does (keys sorted unless sortKeys is off; with flow, a
// collection of scalars only is written inline, as default_flow_style=None
// does).
func toYAML(v any, indent int, flow, sortKeys bool) (string, error) {
	var b bytes.Buffer
	y := &yamlWriter{b: &b, indent: indent, flow: flow, sort: sortKeys}
	if isYAMLScalar(v) {
		s, err := yamlScalar(v)
		if err != nil {
			return "", fmt.Errorf("to_yaml: %w", err)
		}
		return s + "\n...\n", nil
	}
	if err := y.block(v, 0); err != nil {
		return "", fmt.Errorf("to_yaml: %w", err)
	}
	return b.String(), nil
}

type yamlWriter struct {
	b      *bytes.Buffer
	indent int
	flow   bool
	sort   bool // sort_keys: keys sorted, else in the mapping's order
}

func isYAMLScalar(v any) bool {
	return !isOneOf(v, reflect.Slice, reflect.Array, reflect.Map)
}

// allScalars reports whether a collection holds scalars only (PyYAML
// writes those inline under default_flow_style=None).
func allScalars(v any) bool {
	if m, ok := asOrdered(v); ok {
		for _, k := range m.Keys() {
			if e, _ := m.Get(k); !isYAMLScalar(e) {
				return false
			}
		}
		return true
	}
	rv := reflect.ValueOf(v)
	for i := 0; i < rv.Len(); i++ {
		if !isYAMLScalar(rv.Index(i).Interface()) {
			return false
		}
	}
	return true
}

// inline writes a collection in flow style.
func (y *yamlWriter) inline(v any) error {
	if isYAMLScalar(v) {
		s, err := yamlScalar(v)
		y.b.WriteString(s)
		return err
	}
	if m, ok := asOrdered(v); ok {
		y.b.WriteByte('{')
		for i, k := range orderedKeys(m, y.sort) {
			if i > 0 {
				y.b.WriteString(", ")
			}
			ks, _ := yamlScalar(k)
			y.b.WriteString(ks + ": ")
			e, _ := m.Get(k)
			if err := y.inline(e); err != nil {
				return err
			}
		}
		y.b.WriteByte('}')
		return nil
	}
	rv := reflect.ValueOf(v)
	y.b.WriteByte('[')
	for i := 0; i < rv.Len(); i++ {
		if i > 0 {
			y.b.WriteString(", ")
		}
		if err := y.inline(rv.Index(i).Interface()); err != nil {
			return err
		}
	}
	y.b.WriteByte(']')
	return nil
}

// collLen is a collection's length.
func collLen(v any) int {
	if m, ok := v.(*omap.Map); ok {
		return m.Len()
	}
	return reflect.ValueOf(v).Len()
}

// block writes a collection in block style at the given indentation; the
// caller has written what precedes it on the current line.
func (y *yamlWriter) block(v any, col int) error {
	if (y.flow && allScalars(v)) || collLen(v) == 0 {
		if err := y.inline(v); err != nil {
			return err
		}
		y.b.WriteByte('\n')
		return nil
	}
	pad := strings.Repeat(" ", col)
	if m, ok := asOrdered(v); ok {
		for i, k := range orderedKeys(m, y.sort) {
			if i > 0 {
				y.b.WriteString(pad)
			}
			ks, _ := yamlScalar(k)
			y.b.WriteString(ks + ":")
			e, _ := m.Get(k)
			if err := y.value(e, col, true); err != nil {
				return err
			}
		}
		return nil
	}
	rv := reflect.ValueOf(v)
	for i := 0; i < rv.Len(); i++ {
		if i > 0 {
			y.b.WriteString(pad)
		}
		y.b.WriteString("-" + strings.Repeat(" ", y.indent-1))
		if err := y.value(rv.Index(i).Interface(), col+y.indent, false); err != nil {
			return err
		}
	}
	return nil
}

// value writes a mapping value (after "key:") or a sequence item (after
// "- ").
func (y *yamlWriter) value(v any, col int, afterKey bool) error {
	if isYAMLScalar(v) || (y.flow && allScalars(v)) || collLen(v) == 0 {
		if afterKey {
			y.b.WriteByte(' ')
		}
		if err := y.inline(v); err != nil {
			return err
		}
		y.b.WriteByte('\n')
		return nil
	}
	if !afterKey {
		return y.block(v, col)
	}
	inner := col + y.indent
	if isOneOf(v, reflect.Slice, reflect.Array) {
		inner = col // PyYAML does not indent a sequence under a key
	}
	y.b.WriteString("\n" + strings.Repeat(" ", inner))
	return y.block(v, inner)
}

// yamlPlain matches strings PyYAML writes without quotes.
var yamlPlain = regexp.MustCompile(`^[A-Za-z0-9_./][A-Za-z0-9_./ +=@-]*$`)

// yaml11Words read back as booleans or null in YAML 1.1 (PyYAML), so
// strings spelled so are quoted.
var yaml11Words = map[string]bool{"yes": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true, "~": true}

// yamlScalar writes a scalar as PyYAML does: strings that would read back
// as another type, or hold special characters, single-quoted.
func yamlScalar(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case bool:
		return strconv.FormatBool(x), nil
	case string:
		var back any
		plain := yamlPlain.MatchString(x) && !yaml11Words[strings.ToLower(x)] && !strings.HasSuffix(x, " ") && !strings.Contains(x, " #") &&
			yaml.Unmarshal([]byte(x), &back) == nil && back == x && utf8.ValidString(x)
		if plain {
			return x, nil
		}
		if strings.ContainsAny(x, "\n\t\\") || !utf8.ValidString(x) {
			q, _ := json.Marshal(x)
			return string(q), nil
		}
		return "'" + strings.ReplaceAll(x, "'", "''") + "'", nil
	case float64, float32:
		return pyRepr(reflect.ValueOf(v).Float()), nil
	}
	if isInteger(v) {
		return format(v), nil
	}
	return "", fmt.Errorf("cannot represent %s", show(v))
}
