package template

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/jmespath/go-jmespath"

	"tend/internal/omap"
)

// filterJSONQuery is community.general's json_query(expr): a JMESPath
// query of the data, with go-jmespath (the reference Go implementation,
// run against JMESPath's compliance suite) where Ansible uses Python's
// jmespath. go-jmespath computes with float64 only, so integers go in as
// floats and a whole-number float comes back as an int: Python keeps 2.0
// a float (a data value 2.0, avg([1, 3])), tend gives 2. An object the
// query builds ({name: n, port: p}) is a mapping whose keys tend orders by
// name, where Python keeps the query's order.
func filterJSONQuery(args ...any) (any, error) {
	if err := arity("json_query", args, 1, 1); err != nil {
		return nil, err
	}
	expr, ok := args[1].(string)
	if !ok {
		return nil, fmt.Errorf("json_query: the expression must be a string, not %s", show(args[1]))
	}
	q, err := jmespath.Compile(elidedLiterals(expr))
	if err != nil {
		return nil, fmt.Errorf("JMESPathError in json_query filter plugin:\n%v", err)
	}
	data, err := toJMESPath(args[0], 0)
	if err != nil {
		return nil, fmt.Errorf("json_query: %w", err)
	}
	out, err := q.Search(data)
	if err != nil {
		return nil, fmt.Errorf("JMESPathError in json_query filter plugin:\n%v", err)
	}
	return fromJMESPath(out), nil
}

// maxJMESPathDepth bounds the nesting toJMESPath follows.
const maxJMESPathDepth = 512

// toJMESPath converts a value into the JSON types go-jmespath reads:
// map[string]any, []any, float64, string, bool, nil.
func toJMESPath(v any, depth int) (any, error) {
	if depth > maxJMESPathDepth {
		return nil, fmt.Errorf("data nested deeper than %d levels", maxJMESPathDepth)
	}
	switch x := v.(type) {
	case nil, bool, string, float64:
		return x, nil
	case undefined:
		return nil, fmt.Errorf("undefined value")
	case *omap.Map:
		out := make(map[string]any, x.Len())
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			c, err := toJMESPath(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), nil
	case reflect.Float32:
		return rv.Float(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			c, err := toJMESPath(rv.Index(i).Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case reflect.Map:
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			c, err := toJMESPath(it.Value().Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			out[format(it.Key().Interface())] = c
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot query a %T", v)
}

// fromJMESPath turns go-jmespath's result back into tend's values: a
// whole-number float within int range becomes an int.
func fromJMESPath(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int(x)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = fromJMESPath(e)
		}
		return x
	case map[string]any:
		for k, e := range x {
			x[k] = fromJMESPath(e)
		}
		return x
	}
	return v
}

// elidedLiterals rewrites the JSON literals of a JMESPath expression that
// are not JSON (`/bin/sh`, `foo`) into the JSON strings Python's jmespath
// reads them as: it still takes JEP-12's deprecated elided quotes
// (loads('"' + text.lstrip() + '"')), and playbooks write [?name==`web`]
// everywhere; go-jmespath refuses them. Raw strings ('...') and quoted
// identifiers ("...") are copied as they are.
func elidedLiterals(expr string) string {
	var b strings.Builder
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		if c == '\'' || c == '"' {
			j := i + 1
			for j < len(expr) && expr[j] != c {
				if expr[j] == '\\' {
					j++
				}
				j++
			}
			end := min(j+1, len(expr))
			b.WriteString(expr[i:end])
			i = end - 1
			continue
		}
		if c != '`' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(expr) && expr[j] != '`' {
			if expr[j] == '\\' && j+1 < len(expr) && expr[j+1] == '`' {
				j++
			}
			j++
		}
		if j >= len(expr) { // unterminated: go-jmespath says so
			b.WriteString(expr[i:])
			break
		}
		lexeme := strings.ReplaceAll(expr[i+1:j], "\\`", "`")
		if !json.Valid([]byte(lexeme)) {
			if quoted := `"` + strings.TrimLeft(lexeme, " \t\n\r\f\v") + `"`; json.Valid([]byte(quoted)) {
				lexeme = quoted
			}
		}
		b.WriteByte('`')
		b.WriteString(strings.ReplaceAll(lexeme, "`", "\\`"))
		b.WriteByte('`')
		i = j
	}
	return b.String()
}
