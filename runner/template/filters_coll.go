package template

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"tend/internal/omap"
)

// collFilters are the string and collection filters: x | f(a) is
// _f_f(x, a). Each is a Go function, so map('f') and select('t') can
// apply them by name.
var collFilters = map[string]func(args ...any) (any, error){
	"_f_upper":      strFilter(strings.ToUpper),
	"_f_lower":      strFilter(strings.ToLower),
	"_f_trim":       strFilter(strings.TrimSpace),
	"_f_capitalize": strFilter(capitalize),
	"_f_title":      strFilter(title),
	"_f_replace":    filterReplace,
	"_f_split":      filterSplit,
	"_f_first":      func(args ...any) (any, error) { return pick(args[0], 0, "first") },
	"_f_last":       func(args ...any) (any, error) { return pick(args[0], -1, "last") },
	"_f_reverse":    filterReverse,
	"_f_sort":       filterSort,
	"_f_dictsort":   filterDictsort,
	"_f_unique":     func(args ...any) (any, error) { return setOp("unique", args, nil) },
	"_f_union": func(args ...any) (any, error) {
		return setOp("union", args, func(x any, in bool) bool { return true })
	},
	"_f_difference": func(args ...any) (any, error) {
		return setOp("difference", args, func(x any, in bool) bool { return !in })
	},
	"_f_intersect": func(args ...any) (any, error) {
		return setOp("intersect", args, func(x any, in bool) bool { return in })
	},
	"_f_symmetric_difference": filterSymDiff,
	"_f_min":                  func(args ...any) (any, error) { return extreme("min", args, -1) },
	"_f_max":                  func(args ...any) (any, error) { return extreme("max", args, 1) },
	"_f_sum":                  filterSum,
	"_f_abs":                  filterAbs,
	"_f_flatten":              filterFlatten,
	"_f_keys":                 func(args ...any) (any, error) { return mapParts("keys", args[0], 0) },
	"_f_values":               func(args ...any) (any, error) { return mapParts("values", args[0], 1) },
	"_f_items":                func(args ...any) (any, error) { return mapParts("items", args[0], 2) },
	"_f_dict2items":           filterDict2Items,
	"_f_items2dict":           filterItems2Dict,
	"_f_combine":              filterCombine,
	"_f_zip":                  filterZip,
	"_f_map":                  filterMap,
	"_f_select":               selectFilter("select", false, false),
	"_f_reject":               selectFilter("reject", true, false),
	"_f_selectattr":           selectFilter("selectattr", false, true),
	"_f_rejectattr":           selectFilter("rejectattr", true, true),
	"_f_indent":               filterIndent,
	"_f_truncate":             filterTruncate, // jinja_builtins.go
	"_f_format":               func(args ...any) (any, error) { return pyFormat(format(args[0]), args[1:]) },
	"_f_type_debug":           func(args ...any) (any, error) { return pyTypeName(args[0]), nil },
}

// items converts a list (or a string, or a mapping's keys) to []any.
func items(name string, v any) ([]any, error) {
	if kindOf(v) == reflect.Map {
		return mapParts(name, v, 0)
	}
	l, err := filterList(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %s is not a list", name, show(v))
	}
	return l.([]any), nil
}

func strFilter(fn func(string) string) func(args ...any) (any, error) {
	return func(args ...any) (any, error) { return fn(format(args[0])), nil }
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r := []rune(strings.ToLower(s))
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func title(s string) string {
	r := []rune(strings.ToLower(s))
	for i := range r {
		if i == 0 || !unicode.IsLetter(r[i-1]) {
			r[i] = unicode.ToUpper(r[i])
		}
	}
	return string(r)
}

func filterReplace(args ...any) (any, error) {
	if err := arity("replace", args, 2, 3); err != nil {
		return nil, err
	}
	n := -1
	if len(args) > 3 {
		n, _ = toIndex(args[3])
	}
	return strings.Replace(format(args[0]), format(args[1]), format(args[2]), n), nil
}

func filterSplit(args ...any) (any, error) {
	if err := arity("split", args, 0, 2); err != nil {
		return nil, err
	}
	s := format(args[0])
	var parts []string
	if len(args) < 2 || args[1] == nil {
		parts = strings.Fields(s)
	} else {
		n := -1
		if len(args) > 2 {
			if m, ok := toIndex(args[2]); ok && m >= 0 {
				n = m + 1
			}
		}
		parts = strings.SplitN(s, format(args[1]), n)
	}
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

func pick(v any, i int, name string) (any, error) {
	l, err := items(name, v)
	if err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return undefined{name + " of an empty list"}, nil
	}
	if i < 0 {
		i += len(l)
	}
	return l[i], nil
}

func filterReverse(args ...any) (any, error) {
	if s, ok := args[0].(string); ok {
		r := []rune(s)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		return string(r), nil
	}
	l, err := items("reverse", args[0])
	if err != nil {
		return nil, err
	}
	out := make([]any, len(l))
	for i, x := range l {
		out[len(l)-1-i] = x
	}
	return out, nil
}

// compare orders two values as Python does for numbers and strings;
// caseless compares strings ignoring case (Jinja's sort default).
func compare(a, b any, caseless bool) (int, error) {
	if la, ok := a.([]any); ok { // lists (items() pairs) compare item by item, as Python's
		if lb, ok := b.([]any); ok {
			for i := 0; i < len(la) && i < len(lb); i++ {
				if c, err := compare(la[i], lb[i], caseless); err != nil || c != 0 {
					return c, err
				}
			}
			return len(la) - len(lb), nil
		}
	}
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok {
			if caseless {
				sa, sb = strings.ToLower(sa), strings.ToLower(sb)
			}
			return strings.Compare(sa, sb), nil
		}
	}
	_, _, fa, fb, ints, ok := numbers(a, b)
	if !ok {
		return 0, fmt.Errorf("cannot compare %s with %s", typeName(a), typeName(b))
	}
	if ints {
		ia, _ := toIndex(a)
		ib, _ := toIndex(b)
		fa, fb = float64(ia), float64(ib)
	}
	switch {
	case fa < fb:
		return -1, nil
	case fa > fb:
		return 1, nil
	}
	return 0, nil
}

// attrOf reads a dotted attribute path (a.b.0) from v.
func attrOf(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		var key any = part
		if i, err := parseIndex(part); err == nil {
			if _, isList := v.([]any); isList {
				key = i
			}
		}
		x, found, err := member(v, key)
		if err != nil || !found {
			return nil, false
		}
		v = x
	}
	return v, true
}

func parseIndex(s string) (int, error) {
	i, err := strconv.Atoi(s)
	if err == nil && strconv.Itoa(i) != s {
		return 0, fmt.Errorf("not an index")
	}
	return i, err
}

func filterSort(args ...any) (any, error) {
	pos, kw := splitKwargs(args)
	l, err := items("sort", pos[0])
	if err != nil {
		return nil, err
	}
	reverse := len(pos) > 1 && truthy(pos[1]) || truthy(kw["reverse"])
	caseless := !(len(pos) > 2 && truthy(pos[2]) || truthy(kw["case_sensitive"]))
	attr, _ := kw["attribute"].(string)
	if len(pos) > 3 {
		attr = format(pos[3])
	}
	key := func(x any) any {
		if attr == "" {
			return x
		}
		v, _ := attrOf(x, attr)
		return v
	}
	out := append([]any{}, l...)
	var cmpErr error
	sort.SliceStable(out, func(i, j int) bool {
		c, err := compare(key(out[i]), key(out[j]), caseless)
		if err != nil {
			cmpErr = err
		}
		if reverse {
			return c > 0
		}
		return c < 0
	})
	if cmpErr != nil {
		return nil, fmt.Errorf("sort: %w", cmpErr)
	}
	return out, nil
}

// filterDictsort is Jinja's dictsort(case_sensitive=false, by='key',
// reverse=false): a mapping's [key, value] pairs sorted by key or value.
func filterDictsort(args ...any) (any, error) {
	pos, kw := splitKwargs(args)
	if err := arity("dictsort", pos, 0, 3); err != nil {
		return nil, err
	}
	pairs, err := mapParts("dictsort", pos[0], 2)
	if err != nil {
		return nil, err
	}
	caseless := !(len(pos) > 1 && truthy(pos[1]) || truthy(kw["case_sensitive"]))
	by := kwString(kw, "by", "key")
	if len(pos) > 2 {
		by = format(pos[2])
	}
	at := map[string]int{"key": 0, "value": 1}
	i, ok := at[by]
	if !ok {
		return nil, fmt.Errorf("dictsort: you can only sort by either 'key' or 'value', not %q", by)
	}
	reverse := truthy(kw["reverse"])
	var cmpErr error
	sort.SliceStable(pairs, func(a, b int) bool {
		c, err := compare(pairs[a].([]any)[i], pairs[b].([]any)[i], caseless)
		if err != nil {
			cmpErr = err
		}
		if reverse {
			return c > 0
		}
		return c < 0
	})
	if cmpErr != nil {
		return nil, fmt.Errorf("dictsort: %w", cmpErr)
	}
	return pairs, nil
}

// setOp is unique (keep nil), union, difference and intersect: the first
// list's items (then, for union, the second's) without repeats, in order,
// kept when keep says so given whether the item is in the second list.
func setOp(name string, args []any, keep func(x any, inOther bool) bool) (any, error) {
	want := 0
	if keep != nil {
		want = 1
	}
	pos, _ := splitKwargs(args)
	if err := arity(name, pos, want, want); err != nil {
		return nil, err
	}
	a, err := items(name, pos[0])
	if err != nil {
		return nil, err
	}
	var b []any
	if keep != nil {
		if b, err = items(name, pos[1]); err != nil {
			return nil, err
		}
	}
	all := a
	if name == "union" {
		all = append(append([]any{}, a...), b...)
	}
	out := []any{}
	for _, x := range all {
		if indexOf(out, x) >= 0 {
			continue
		}
		if keep == nil || keep(x, indexOf(b, x) >= 0) {
			out = append(out, x)
		}
	}
	return out, nil
}

func filterSymDiff(args ...any) (any, error) {
	ab, err := setOp("difference", args, func(x any, in bool) bool { return !in })
	if err != nil {
		return nil, err
	}
	ba, err := setOp("difference", []any{args[1], args[0]}, func(x any, in bool) bool { return !in })
	if err != nil {
		return nil, err
	}
	return setOp("union", []any{ab, ba}, func(x any, in bool) bool { return true })
}

// indexOf finds x in l by Python equality (1 == 1.0).
func indexOf(l []any, x any) int {
	for i, y := range l {
		if equal(x, y) {
			return i
		}
	}
	return -1
}

func equal(a, b any) bool {
	if c, err := compare(a, b, false); err == nil {
		_, sa := a.(string)
		_, sb := b.(string)
		return c == 0 && sa == sb
	}
	if holdsOrdered(a) || holdsOrdered(b) {
		a, b = omap.Plain(a), omap.Plain(b)
	}
	return reflect.DeepEqual(a, b)
}

// extreme is min (sign -1) and max (sign 1), with attribute=.
func extreme(name string, args []any, sign int) (any, error) {
	pos, kw := splitKwargs(args)
	l, err := items(name, pos[0])
	if err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return undefined{name + " of an empty list"}, nil
	}
	attr, _ := kw["attribute"].(string)
	best := l[0]
	for _, x := range l[1:] {
		a, b := x, best
		if attr != "" {
			a, _ = attrOf(x, attr)
			b, _ = attrOf(best, attr)
		}
		c, err := compare(a, b, !truthy(kw["case_sensitive"]))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if c*sign > 0 {
			best = x
		}
	}
	return best, nil
}

func filterSum(args ...any) (any, error) {
	pos, kw := splitKwargs(args)
	l, err := items("sum", pos[0])
	if err != nil {
		return nil, err
	}
	var total any = 0
	if len(pos) > 2 {
		total = pos[2]
	} else if s, ok := kw["start"]; ok {
		total = s
	}
	attr, _ := kw["attribute"].(string)
	if len(pos) > 1 {
		attr = format(pos[1])
	}
	for _, x := range l {
		if attr != "" {
			x, _ = attrOf(x, attr)
		}
		if total, err = opAdd(total, x); err != nil {
			return nil, fmt.Errorf("sum: %w", err)
		}
	}
	return total, nil
}

func filterAbs(args ...any) (any, error) {
	if i, ok := toIndex(args[0]); ok {
		if i < 0 {
			return -i, nil
		}
		return i, nil
	}
	if f, ok := toFloat(args[0]); ok && !isOneOf(args[0], reflect.String) {
		if f < 0 {
			return -f, nil
		}
		return f, nil
	}
	return nil, fmt.Errorf("abs: %s is not a number", show(args[0]))
}

func filterFlatten(args ...any) (any, error) {
	pos, kw := splitKwargs(args)
	depth := -1
	if d, ok := kw["levels"]; ok {
		depth, _ = toIndex(d)
	} else if len(pos) > 1 {
		depth, _ = toIndex(pos[1])
	}
	l, err := items("flatten", pos[0])
	if err != nil {
		return nil, err
	}
	var out []any
	var walk func(l []any, level int)
	walk = func(l []any, level int) {
		for _, x := range l {
			if sub, ok := x.([]any); ok && (depth < 0 || level < depth) {
				walk(sub, level+1)
				continue
			}
			if x != nil {
				out = append(out, x)
			}
		}
	}
	walk(l, 0)
	if out == nil {
		out = []any{}
	}
	return out, nil
}
