package template

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/expr-lang/expr/vm/runtime"

	"tend/internal/omap"
)

// Mappings keep the order their keys were written in (*omap.Map), as a
// Python dict does in Ansible; a Go map (a module's result, facts) has its
// keys sorted, the order tend has always given it. The helpers here let
// every filter, test and operator take both.

// asOrdered returns a mapping as an *omap.Map: a *omap.Map itself, a Go
// map with string keys as a new one in sorted key order. ok is false for
// anything else.
func asOrdered(v any) (*omap.Map, bool) {
	switch m := v.(type) {
	case *omap.Map:
		return m, m != nil
	case map[string]any:
		return omap.FromMap(m), true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map {
		return nil, false
	}
	keys := rv.MapKeys()
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	out := omap.New(len(keys))
	for _, k := range keys {
		out.Set(fmt.Sprint(k.Interface()), rv.MapIndex(k).Interface())
	}
	return out, true
}

// orderedKeys are a mapping's keys, sorted when sortKeys is set (Ansible's
// sort_keys), else in the mapping's order.
func orderedKeys(m *omap.Map, sortKeys bool) []string {
	if sortKeys {
		return sortedCopy(m.Keys())
	}
	return m.Keys()
}

// makeDict is a mapping literal ({'z': 1, 'a': 2}) in written order:
// _dict(key, value, key, value, ...). A repeated key keeps its first place
// and its last value, as in Python.
func makeDict(args ...any) (any, error) {
	out := omap.New(len(args) / 2)
	for i := 0; i+1 < len(args); i += 2 {
		k, ok := args[i].(string)
		if !ok {
			return nil, fmt.Errorf("a mapping key must be a string, not %s", typeName(args[i]))
		}
		out.Set(k, args[i+1])
	}
	return out, nil
}

// holdsOrdered reports whether v is or holds (in a list or Go map) an
// *omap.Map, the values whose equality must ignore key order.
func holdsOrdered(v any) bool {
	switch x := v.(type) {
	case *omap.Map:
		return true
	case []any:
		for _, e := range x {
			if holdsOrdered(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if holdsOrdered(e) {
				return true
			}
		}
	}
	return false
}

// opEqual is == : expr's own equality, except that mappings compare by
// their entries whatever their order, as Python's dicts do.
func opEqual(args ...any) (any, error) {
	a, b := args[0], args[1]
	if holdsOrdered(a) || holdsOrdered(b) {
		a, b = omap.Plain(a), omap.Plain(b)
	}
	return runtime.Equal(a, b), nil
}

// opNotEqual is != (see opEqual).
func opNotEqual(args ...any) (any, error) {
	eq, _ := opEqual(args...)
	return !eq.(bool), nil
}
