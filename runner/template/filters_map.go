package template

import (
	"fmt"
	"strings"

	"tend/internal/omap"
)

// mapParts is keys (0), values (1) or items (2, [key, value] pairs) of
// a mapping, in its order: as written for a variable, sorted for a Go map
// (see asOrdered).
func mapParts(name string, v any, part int) ([]any, error) {
	m, ok := asOrdered(v)
	if !ok {
		return nil, fmt.Errorf("%s: %s is not a mapping", name, show(v))
	}
	out := make([]any, m.Len())
	for i, k := range m.Keys() {
		val, _ := m.Get(k)
		switch part {
		case 0:
			out[i] = k
		case 1:
			out[i] = val
		default:
			out[i] = []any{k, val}
		}
	}
	return out, nil
}

func filterDict2Items(args ...any) (any, error) {
	pos, kw := splitKwargs(args)
	kn, vn := kwString(kw, "key_name", "key"), kwString(kw, "value_name", "value")
	pairs, err := mapParts("dict2items", pos[0], 2)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(pairs))
	for i, p := range pairs {
		kv := p.([]any)
		item := omap.New(2)
		item.Set(kn, kv[0])
		item.Set(vn, kv[1])
		out[i] = item
	}
	return out, nil
}

func kwString(kw map[string]any, name, def string) string {
	if v, ok := kw[name]; ok {
		return format(v)
	}
	return def
}

func filterItems2Dict(args ...any) (any, error) {
	pos, kw := splitKwargs(args)
	kn, vn := kwString(kw, "key_name", "key"), kwString(kw, "value_name", "value")
	l, err := items("items2dict", pos[0])
	if err != nil {
		return nil, err
	}
	out := omap.New(len(l))
	for _, it := range l {
		k, okK := attrOf(it, kn)
		v, okV := attrOf(it, vn)
		if !okK || !okV {
			return nil, fmt.Errorf("items2dict: %s has no %q or %q", show(it), kn, vn)
		}
		out.Set(format(k), v)
	}
	return out, nil
}

// filterCombine is combine(d, ...): the keys of the first mapping in its
// order, then each new key of the next ones, as Python's dict.update.
func filterCombine(args ...any) (any, error) {
	pos, kw := splitKwargs(args)
	recursive := truthy(kw["recursive"])
	out := omap.New(0)
	for _, d := range pos {
		if l, ok := d.([]any); ok { // combine(list_of_dicts)
			sub, err := filterCombine(append(l, kwarg{"recursive", recursive})...)
			if err != nil {
				return nil, err
			}
			d = sub
		}
		if !isMapping(d) {
			return nil, fmt.Errorf("combine: %s is not a mapping", show(d))
		}
		m, _ := asOrdered(d)
		out = merge(out, m, recursive)
	}
	return out, nil
}

// isMapping reports whether v is a mapping tend's variables hold: an
// *omap.Map or a map[string]any.
func isMapping(v any) bool {
	_, ok := omap.AsMap(v)
	return ok
}

// merge returns a new mapping: a's keys with b's values over them, then
// b's new keys; recursive merges mappings found under the same key.
func merge(a, b *omap.Map, recursive bool) *omap.Map {
	out := omap.New(a.Len() + b.Len())
	for _, k := range a.Keys() {
		v, _ := a.Get(k)
		out.Set(k, v)
	}
	for _, k := range b.Keys() {
		v, _ := b.Get(k)
		old, _ := out.Get(k)
		if recursive && isMapping(old) && isMapping(v) {
			am, _ := asOrdered(old)
			bm, _ := asOrdered(v)
			out.Set(k, merge(am, bm, true))
			continue
		}
		out.Set(k, v)
	}
	return out
}

func filterZip(args ...any) (any, error) {
	lists := make([][]any, len(args))
	n := -1
	for i, a := range args {
		l, err := items("zip", a)
		if err != nil {
			return nil, err
		}
		lists[i] = l
		if n < 0 || len(l) < n {
			n = len(l)
		}
	}
	out := make([]any, n)
	for i := range n {
		row := make([]any, len(lists))
		for j := range lists {
			row[j] = lists[j][i]
		}
		out[i] = row
	}
	return out, nil
}

// filterMap is map('filter', args...) or map(attribute='a.b', default=x).
func filterMap(args ...any) (any, error) {
	pos, kw := splitKwargs(args)
	l, err := items("map", pos[0])
	if err != nil {
		return nil, err
	}
	out := make([]any, len(l))
	if attr, ok := kw["attribute"]; ok {
		def, hasDef := kw["default"]
		for i, x := range l {
			v, found := attrOf(x, format(attr))
			switch {
			case found:
				out[i] = v
			case hasDef:
				out[i] = def
			default:
				return nil, &UndefinedError{Name: fmt.Sprintf("%s.%s", pyTypeName(x), format(attr))}
			}
		}
		return out, nil
	}
	if len(pos) < 2 {
		return nil, fmt.Errorf("map: give a filter name or attribute=")
	}
	fn, err := filterByName(format(pos[1]))
	if err != nil {
		return nil, fmt.Errorf("map: %w", err)
	}
	for i, x := range l {
		if out[i], err = fn(append([]any{x}, pos[2:]...)...); err != nil {
			return nil, fmt.Errorf("map: %w", err)
		}
	}
	return out, nil
}

// selectFilter is select/reject(test, args...) and selectattr/
// rejectattr(attr, test, args...); without a test, truthiness.
func selectFilter(name string, negate, byAttr bool) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		pos, _ := splitKwargs(args)
		l, err := items(name, pos[0])
		if err != nil {
			return nil, err
		}
		rest := pos[1:]
		attr := ""
		if byAttr {
			if len(rest) == 0 {
				return nil, fmt.Errorf("%s: give an attribute", name)
			}
			attr, rest = format(rest[0]), rest[1:]
		}
		test := func(args ...any) (any, error) { return truthy(args[0]), nil }
		if len(rest) > 0 {
			if test, err = testByName(format(rest[0])); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			rest = rest[1:]
		}
		out := []any{}
		for _, x := range l {
			v := x
			if byAttr {
				var found bool
				if v, found = attrOf(x, attr); !found {
					v = undefined{attr}
				}
			}
			ok, err := test(append([]any{v}, rest...)...)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if truthy(ok) != negate {
				out = append(out, x)
			}
		}
		return out, nil
	}
}

func filterIndent(args ...any) (any, error) {
	pos, kw := splitKwargs(args)
	width := 4
	if len(pos) > 1 {
		width, _ = toIndex(pos[1])
	} else if w, ok := kw["width"]; ok {
		width, _ = toIndex(w)
	}
	first := len(pos) > 2 && truthy(pos[2]) || truthy(kw["first"])
	blank := len(pos) > 3 && truthy(pos[3]) || truthy(kw["blank"])
	pad := strings.Repeat(" ", width)
	lines := strings.Split(format(pos[0]), "\n")
	for i, l := range lines {
		if (i == 0 && !first) || (l == "" && !blank) {
			continue
		}
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n"), nil
}

// pyTypeName is the Python type name Ansible's type_debug prints.
func pyTypeName(v any) string {
	switch typeName(v) {
	case "null":
		return "NoneType"
	case "string":
		return "str"
	case "mapping":
		return "dict"
	}
	return typeName(v)
}
