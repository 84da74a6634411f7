package template

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// opFuncs implement the operators whose Python meaning expr lacks; the
// translator emits calls to them (a ~ b is _concat(a, b)).
var opFuncs = map[string]func(args ...any) (any, error){
	"_truthy":   func(args ...any) (any, error) { return truthy(args[0]), nil },
	"_concat":   func(args ...any) (any, error) { return format(args[0]) + format(args[1]), nil },
	"_floordiv": opFloorDiv,
	"_pow":      opPow,
	"_mod":      opMod,
	"_add":      opAdd,
	"_sub":      opSub, // datetime_ops.go
	"_kw":       func(args ...any) (any, error) { return kwarg{args[0].(string), args[1]}, nil },
}

// kwarg is a keyword argument of a filter, test or function call
// (map(attribute='name')).
type kwarg struct {
	name  string
	value any
}

// splitKwargs separates positional and keyword arguments.
func splitKwargs(args []any) ([]any, map[string]any) {
	var kw map[string]any
	pos := args[:0:0]
	for _, a := range args {
		if k, ok := a.(kwarg); ok {
			if kw == nil {
				kw = map[string]any{}
			}
			kw[k.name] = k.value
			continue
		}
		pos = append(pos, a)
	}
	return pos, kw
}

// numbers reads two operands as ints when both are integers, else as
// floats; ok is false when either is not a number (bools count as ints,
// as in Python).
func numbers(a, b any) (ia, ib int, fa, fb float64, ints, ok bool) {
	xa, aInt := toIndex(a)
	xb, bInt := toIndex(b)
	if aInt && bInt {
		return xa, xb, 0, 0, true, true
	}
	if _, s := a.(string); s {
		return 0, 0, 0, 0, false, false
	}
	if _, s := b.(string); s {
		return 0, 0, 0, 0, false, false
	}
	fa, okA := toFloat(a)
	fb, okB := toFloat(b)
	return 0, 0, fa, fb, false, okA && okB
}

func typeError(op string, a, b any) error {
	return fmt.Errorf("invalid operation: %s %s %s", typeName(a), op, typeName(b))
}

// typeName is a value's type as a playbook author knows it.
func typeName(v any) string {
	switch kindOf(v) {
	case reflect.Invalid:
		return "null"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map:
		return "mapping"
	case reflect.Float32, reflect.Float64:
		return "float"
	}
	if isInteger(v) {
		return "int"
	}
	return fmt.Sprintf("%T", v)
}

// opFloorDiv is Python's //: floored, an int for ints.
func opFloorDiv(args ...any) (any, error) {
	ia, ib, fa, fb, ints, ok := numbers(args[0], args[1])
	if !ok {
		return nil, typeError("//", args[0], args[1])
	}
	if ints {
		if ib == 0 {
			return nil, fmt.Errorf("integer division by zero")
		}
		q := ia / ib
		if (ia%ib != 0) && ((ia < 0) != (ib < 0)) {
			q--
		}
		return q, nil
	}
	if fb == 0 {
		return nil, fmt.Errorf("float division by zero")
	}
	return math.Floor(fa / fb), nil
}

// opPow is Python's **: an int for ints with a non-negative exponent.
func opPow(args ...any) (any, error) {
	ia, ib, fa, fb, ints, ok := numbers(args[0], args[1])
	if !ok {
		return nil, typeError("**", args[0], args[1])
	}
	if ints && ib >= 0 {
		out := 1
		for range ib {
			out *= ia
		}
		return out, nil
	}
	if ints {
		fa, fb = float64(ia), float64(ib)
	}
	return math.Pow(fa, fb), nil
}

// opMod is Python's %: a floored modulo for numbers, printf-style
// formatting for a string ('%s-%d' % (name, n)).
func opMod(args ...any) (any, error) {
	if s, ok := args[0].(string); ok {
		vals := []any{args[1]}
		if l, ok := args[1].([]any); ok {
			vals = l
		}
		return pyFormat(s, vals)
	}
	ia, ib, fa, fb, ints, ok := numbers(args[0], args[1])
	if !ok {
		return nil, typeError("%", args[0], args[1])
	}
	if ints {
		if ib == 0 {
			return nil, fmt.Errorf("integer modulo by zero")
		}
		m := ia % ib
		if m != 0 && (m < 0) != (ib < 0) {
			m += ib
		}
		return m, nil
	}
	if fb == 0 {
		return nil, fmt.Errorf("float modulo by zero")
	}
	m := math.Mod(fa, fb)
	if m != 0 && (m < 0) != (fb < 0) {
		m += fb
	}
	return m, nil
}

// opAdd is Python's +: numbers, two strings, or two lists.
func opAdd(args ...any) (any, error) {
	a, b := args[0], args[1]
	if v, ok := addTimes(a, b); ok { // datetime_ops.go
		return v, nil
	}
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok {
			return sa + sb, nil
		}
		return nil, typeError("+", a, b)
	}
	if isOneOf(a, reflect.Slice, reflect.Array) && isOneOf(b, reflect.Slice, reflect.Array) {
		la, _ := filterList(a)
		lb, _ := filterList(b)
		return append(append([]any{}, la.([]any)...), lb.([]any)...), nil
	}
	ia, ib, fa, fb, ints, ok := numbers(a, b)
	if !ok {
		return nil, typeError("+", a, b)
	}
	if ints {
		return ia + ib, nil
	}
	return fa + fb, nil
}

// pyFormat is Python's printf-style formatting for %s, %d, %i, %f, %r
// and %%, with optional width and precision.
func pyFormat(f string, vals []any) (any, error) {
	var b strings.Builder
	n := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		j := i + 1
		for j < len(f) && strings.IndexByte("-+ 0123456789.", f[j]) >= 0 {
			j++
		}
		if j >= len(f) {
			return nil, fmt.Errorf("incomplete format")
		}
		spec, verb := f[i+1:j], f[j]
		i = j
		if verb == '%' {
			b.WriteByte('%')
			continue
		}
		if n >= len(vals) {
			return nil, fmt.Errorf("not enough arguments for format string")
		}
		v := vals[n]
		n++
		switch verb {
		case 's', 'r':
			fmt.Fprintf(&b, "%"+spec+"s", format(v))
		case 'd', 'i':
			x, err := filterInt(v)
			if err != nil {
				return nil, fmt.Errorf("%%d format: a number is required, not %s", typeName(v))
			}
			fmt.Fprintf(&b, "%"+spec+"d", x)
		case 'f', 'e', 'g':
			x, ok := toFloat(v)
			if !ok {
				return nil, fmt.Errorf("%%%c format: a number is required, not %s", verb, typeName(v))
			}
			if verb == 'f' && !strings.Contains(spec, ".") {
				spec += ".6"
			}
			fmt.Fprintf(&b, "%"+spec+string(verb), x)
		default:
			return nil, fmt.Errorf("unsupported format character %q", verb)
		}
	}
	if n < len(vals) {
		return nil, fmt.Errorf("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

// pyRepr is the text Python's repr() prints for a value: inside a
// container, or for a container in text. Mapping keys come in sorted
// order (tend's order for mappings).
func pyRepr(v any) string {
	switch x := v.(type) {
	case string:
		return pyQuote(x)
	case bool:
		if x {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	case undefined:
		return "None"
	case float64:
		return pyFloat(x)
	case float32:
		return pyFloat(float64(x))
	case int:
		return strconv.Itoa(x)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return "[]"
		}
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = pyRepr(rv.Index(i).Interface())
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Map, reflect.Pointer:
		if m, ok := asOrdered(v); ok {
			parts := make([]string, m.Len())
			for i, k := range m.Keys() {
				val, _ := m.Get(k)
				parts[i] = pyRepr(k) + ": " + pyRepr(val)
			}
			return "{" + strings.Join(parts, ", ") + "}"
		}
	}
	return format(v)
}

// pyQuote is Python's repr of a string: single quotes, or double quotes
// when it holds a single quote and no double one; backslashes, quotes
// and control characters escaped.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyFloat is Python's repr of a float: the shortest digits that read
// back, with ".0" on a whole number, and an exponent below 1e-4 or from
// 1e16 on (1e+16, 1e-05); inf, -inf, nan.
func pyFloat(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	case math.IsNaN(x):
		return "nan"
	}
	e := strconv.FormatFloat(x, 'e', -1, 64) // 1e+20, 1.5e-07
	if exp, err := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:]); err == nil && x != 0 && (exp < -4 || exp >= 16) {
		return e
	}
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}
