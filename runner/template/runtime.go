package template

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/vm/runtime"

	"tend/internal/omap"
)

// UndefinedError reports a variable, or a key of a mapping, that an
// expression read but the variables do not hold. The runner adds the
// file:line:col of the expression.
type UndefinedError struct {
	// Name is the variable ("mq_prot") or the path read ("r.stdot").
	Name string
}

// Error names the variable: `undefined variable "mq_prot"`.
func (e *UndefinedError) Error() string { return fmt.Sprintf("undefined variable %q", e.Name) }

// undefined is what a guarded lookup (under `is defined` or default)
// yields for a missing value; the guard consumes it.
type undefined struct{ name string }

// runtimeFuncs are the lookups the compiler substitutes for variable and
// member reads, so that a missing value is noticed when it is read.
var runtimeFuncs = map[string]func(args ...any) (any, error){
	"_var":  lookupVar,
	"_lvar": lenientVar,
	"_get":  strictGet,
	"_lget": lenientGet,
	"_oget": optionalGet,
	"_nil":  undefinedToNil,
	"_in":   contains,
	"_dict": makeDict,
	"_eq":   opEqual,
	"_ne":   opNotEqual,
}

// contains(needle, haystack) is Jinja's `in`: a substring of a string, an
// item of a list, a key of a mapping.
func contains(args ...any) (any, error) {
	if s, ok := args[1].(string); ok {
		sub, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("'in <string>' needs a string on the left, not %s", show(args[0]))
		}
		return strings.Contains(s, sub), nil
	}
	if args[1] == nil {
		return nil, fmt.Errorf("'in' needs a list, mapping or string on the right, not null")
	}
	if m, ok := args[1].(*omap.Map); ok {
		k, ok := args[0].(string)
		if !ok {
			return false, nil
		}
		_, found := m.Get(k)
		return found, nil
	}
	if holdsOrdered(args[0]) || holdsOrdered(args[1]) {
		return runtime.In(omap.Plain(args[0]), omap.Plain(args[1])), nil
	}
	return runtime.In(args[0], args[1]), nil
}

// lookupVar(env, name) reads a variable (rendered when env lists it as lazy: LazyKey);
// missing is an *UndefinedError.
func lookupVar(args ...any) (any, error) {
	name := args[1].(string)
	env := args[0].(map[string]any)
	if v, ok := env[name]; ok {
		return resolveLazy(env, name, v)
	}
	return nil, &UndefinedError{Name: name}
}

// lenientVar(env, name) reads a variable; missing is undefined{}.
func lenientVar(args ...any) (any, error) {
	name := args[1].(string)
	env := args[0].(map[string]any)
	if v, ok := env[name]; ok {
		return resolveLazy(env, name, v)
	}
	return undefined{name}, nil
}

// strictGet(obj, key, path) reads obj[key]; missing is an *UndefinedError.
func strictGet(args ...any) (any, error) {
	v, found, err := member(args[0], args[1])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", args[2], err)
	}
	if !found {
		return nil, &UndefinedError{Name: args[2].(string)}
	}
	return v, nil
}

// lenientGet(obj, key, path) reads obj[key]; missing is undefined{}.
func lenientGet(args ...any) (any, error) {
	if u, ok := args[0].(undefined); ok {
		return u, nil
	}
	v, found, err := member(args[0], args[1])
	if err != nil || !found {
		return undefined{args[2].(string)}, nil
	}
	return v, nil
}

// optionalGet(obj, key, path) is obj?.key: nil when obj is nil or lacks key.
func optionalGet(args ...any) (any, error) {
	if args[0] == nil {
		return nil, nil
	}
	v, found, err := member(args[0], args[1])
	if err != nil || !found {
		return nil, err
	}
	return v, nil
}

// undefinedToNil feeds a guarded lookup to `??`, which tests for nil.
func undefinedToNil(args ...any) (any, error) {
	if _, ok := args[0].(undefined); ok {
		return nil, nil
	}
	return args[0], nil
}

// member reads key from obj: a map key, a list index (negative counts from
// the end) or, for other types, whatever expr itself can fetch. found is
// false for a missing key, an index out of range or a nil obj.
func member(obj, key any) (v any, found bool, err error) {
	switch o := obj.(type) {
	case nil:
		return nil, false, nil
	case pyDateTime:
		if k, ok := key.(string); ok {
			v, found = o.attr(k)
			return v, found, nil
		}
		return nil, false, nil
	case pyTimeDelta:
		if k, ok := key.(string); ok {
			v, found = o.attr(k)
			return v, found, nil
		}
		return nil, false, nil
	case *omap.Map:
		k, ok := key.(string)
		if !ok {
			return nil, false, fmt.Errorf("a mapping key must be a string, not %T", key)
		}
		v, found = o.Get(k)
		return v, found, nil
	case map[string]any:
		k, ok := key.(string)
		if !ok {
			return nil, false, fmt.Errorf("a mapping key must be a string, not %T", key)
		}
		v, found = o[k]
		return v, found, nil
	case []any:
		i, ok := toIndex(key)
		if !ok {
			return nil, false, fmt.Errorf("a list index must be an integer, not %T", key)
		}
		if i < 0 {
			i += len(o)
		}
		if i < 0 || i >= len(o) {
			return nil, false, nil
		}
		return o[i], true, nil
	}
	rv := reflect.ValueOf(obj)
	if rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String {
		k, ok := key.(string)
		if !ok {
			return nil, false, fmt.Errorf("a mapping key must be a string, not %T", key)
		}
		mv := rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key()))
		if !mv.IsValid() {
			return nil, false, nil
		}
		return mv.Interface(), true, nil
	}
	if (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array || rv.Kind() == reflect.String) && isInteger(key) {
		i, _ := toIndex(key)
		if i < 0 {
			i += rv.Len()
		}
		if i < 0 || i >= rv.Len() {
			return nil, false, nil
		}
		if rv.Kind() == reflect.String {
			return string(rv.String()[i]), true, nil
		}
		return rv.Index(i).Interface(), true, nil
	}
	// Only data is readable: no struct fields, no methods, nothing that
	// could reach Go code behind a value.
	return nil, false, fmt.Errorf("cannot fetch %v from %s", key, typeName(obj))
}

// toIndex converts an integer of any Go type to int.
func toIndex(key any) (int, bool) {
	rv := reflect.ValueOf(key)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int(rv.Uint()), true
	}
	return 0, false
}

func isInteger(v any) bool { _, ok := toIndex(v); return ok }

// describe names what a lookup node reads, for messages: "r.stdout",
// "hosts[0]".
func describeKey(base string, key any) string {
	switch k := key.(type) {
	case string:
		if base == "" {
			return k
		}
		return base + "." + k
	case int:
		return base + "[" + strconv.Itoa(k) + "]"
	}
	return base + "[...]"
}
