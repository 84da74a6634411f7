package template

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"tend/internal/omap"
)

// tests maps each Jinja test tend supports to its function: x is t(a) is
// is_t(x, a).
var tests = map[string]string{
	"defined": "is_defined", "undefined": "is_undefined", "none": "is_none",
	"string": "is_string", "number": "is_number", "integer": "is_integer",
	"float": "is_float", "boolean": "is_boolean", "mapping": "is_mapping",
	"sequence": "is_sequence", "iterable": "is_iterable",
	"changed": "is_changed", "failed": "is_failed", "succeeded": "is_succeeded",
	"success": "is_succeeded", "skipped": "is_skipped",
	"search": "is_search", "regex": "is_search", "match": "is_match",
	"truthy": "is_truthy", "falsy": "is_falsy",
	"failure": "is_failed", "change": "is_changed", "skip": "is_skipped",
	"version": "is_version", "version_compare": "is_version",
	"in": "is_in", "contains": "is_contains", "subset": "is_subset", "superset": "is_superset",
	"odd": "is_odd", "even": "is_even", "divisibleby": "is_divisibleby",
	"eq": "is_eq", "equalto": "is_eq", "==": "is_eq", "ne": "is_ne", "!=": "is_ne",
	"lt": "is_lt", "<": "is_lt", "le": "is_le", "<=": "is_le",
	"gt": "is_gt", ">": "is_gt", "ge": "is_ge", ">=": "is_ge", "sameas": "is_sameas",
}

// kindOf is v's reflect kind, Invalid for nil.
func kindOf(v any) reflect.Kind {
	if _, ok := v.(*omap.Map); ok {
		return reflect.Map
	}
	return reflect.ValueOf(v).Kind()
}

func isOneOf(v any, kinds ...reflect.Kind) bool {
	k := kindOf(v)
	for _, want := range kinds {
		if k == want {
			return true
		}
	}
	return false
}

var intKinds = []reflect.Kind{reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
	reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64}

// testFuncs implements the tests; each returns a bool.
var testFuncs = map[string]func(args ...any) (any, error){
	"is_defined":   func(args ...any) (any, error) { _, u := args[0].(undefined); return !u, nil },
	"is_undefined": func(args ...any) (any, error) { _, u := args[0].(undefined); return u, nil },
	"is_none":      func(args ...any) (any, error) { return args[0] == nil, nil },
	"is_string":    func(args ...any) (any, error) { return isOneOf(args[0], reflect.String), nil },
	"is_number": func(args ...any) (any, error) {
		return isOneOf(args[0], append(intKinds, reflect.Float32, reflect.Float64)...), nil
	},
	"is_integer": func(args ...any) (any, error) { return isOneOf(args[0], intKinds...), nil },
	"is_float":   func(args ...any) (any, error) { return isOneOf(args[0], reflect.Float32, reflect.Float64), nil },
	"is_boolean": func(args ...any) (any, error) { return isOneOf(args[0], reflect.Bool), nil },
	"is_mapping": func(args ...any) (any, error) { return isOneOf(args[0], reflect.Map), nil },
	"is_sequence": func(args ...any) (any, error) {
		return isOneOf(args[0], reflect.Slice, reflect.Array, reflect.String), nil
	},
	"is_changed":   resultTest("changed", "changed", false),
	"is_failed":    resultTest("failed", "failed", false),
	"is_succeeded": resultTest("succeeded", "failed", true),
	"is_skipped":   resultTest("skipped", "skipped", false),
	"is_search":    regexTest("search", ""),
	"is_match":     regexTest("match", "^"),
	"is_truthy":    func(args ...any) (any, error) { return truthy(args[0]), nil },
	"is_iterable": func(args ...any) (any, error) {
		return isOneOf(args[0], reflect.Slice, reflect.Array, reflect.String, reflect.Map), nil
	},
	"is_version":     testVersion,
	"is_in":          func(args ...any) (any, error) { return containsArgs("in", args, 1) },
	"is_contains":    func(args ...any) (any, error) { return containsArgs("contains", args, 0) },
	"is_subset":      func(args ...any) (any, error) { return subset(args, false) },
	"is_superset":    func(args ...any) (any, error) { return subset(args, true) },
	"is_odd":         intTest("odd", func(i, _ int) bool { return i%2 != 0 }),
	"is_even":        intTest("even", func(i, _ int) bool { return i%2 == 0 }),
	"is_divisibleby": intTest("divisibleby", func(i, n int) bool { return n != 0 && i%n == 0 }),
	"is_eq":          cmpTest("eq", func(c int) bool { return c == 0 }),
	"is_ne":          cmpTest("ne", func(c int) bool { return c != 0 }),
	"is_lt":          cmpTest("lt", func(c int) bool { return c < 0 }),
	"is_le":          cmpTest("le", func(c int) bool { return c <= 0 }),
	"is_gt":          cmpTest("gt", func(c int) bool { return c > 0 }),
	"is_ge":          cmpTest("ge", func(c int) bool { return c >= 0 }),
	"is_sameas":      func(args ...any) (any, error) { return len(args) > 1 && equal(args[0], args[1]), nil },
	"is_falsy":       func(args ...any) (any, error) { return !truthy(args[0]), nil },
}

// resultTest tests a registered result's boolean field (r is changed).
func resultTest(test, key string, negate bool) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		m, ok := omap.AsMap(args[0])
		if !ok {
			return nil, fmt.Errorf("'is %s' needs a registered result, not %s", test, show(args[0]))
		}
		b, _ := m[key].(bool)
		return b != negate, nil
	}
}

// regexTest is `s is search(pattern)`; prefix "^" anchors it (match).
func regexTest(test, prefix string) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		if err := arity(test, args, 1, 1); err != nil {
			return nil, err
		}
		pat, ok := args[1].(string)
		if !ok {
			return nil, fmt.Errorf("%s: the pattern must be a string", test)
		}
		re, err := regexCache.get(prefix + "(?:" + pat + ")")
		if err != nil {
			return nil, fmt.Errorf("%s: %v", test, err)
		}
		return re.MatchString(format(args[0])), nil
	}
}

// methodFuncs implements the Python string and dict methods Jinja users
// call: s.startswith("x") is _m_startswith(s, "x").
var methodFuncs = map[string]func(args ...any) (any, error){
	"_m_startswith": strMethod(func(s string, a []string) any { return strings.HasPrefix(s, arg(a, 0)) }),
	"_m_endswith":   strMethod(func(s string, a []string) any { return strings.HasSuffix(s, arg(a, 0)) }),
	"_m_lower":      strMethod(func(s string, _ []string) any { return strings.ToLower(s) }),
	"_m_upper":      strMethod(func(s string, _ []string) any { return strings.ToUpper(s) }),
	"_m_strip":      strMethod(func(s string, a []string) any { return trimWith(s, a, strings.Trim, strings.TrimSpace) }),
	"_m_lstrip": strMethod(func(s string, a []string) any {
		return trimWith(s, a, strings.TrimLeft, func(s string) string { return strings.TrimLeft(s, " \t\r\n\v\f") })
	}),
	"_m_rstrip": strMethod(func(s string, a []string) any {
		return trimWith(s, a, strings.TrimRight, func(s string) string { return strings.TrimRight(s, " \t\r\n\v\f") })
	}),
	"_m_replace": strMethod(func(s string, a []string) any { return strings.ReplaceAll(s, arg(a, 0), arg(a, 1)) }),
	"_m_split": strMethod(func(s string, a []string) any {
		var parts []string
		if len(a) == 0 {
			parts = strings.Fields(s)
		} else {
			parts = strings.Split(s, a[0])
		}
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out
	}),
	"_m_items":  func(args ...any) (any, error) { return mapParts("items()", args[0], 2) },
	"_m_keys":   func(args ...any) (any, error) { return mapParts("keys()", args[0], 0) },
	"_m_values": func(args ...any) (any, error) { return mapParts("values()", args[0], 1) },
	"_m_join": func(args ...any) (any, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("join() takes one list")
		}
		return filterJoin(args[1], args[0])
	},
	"_m_title":      strMethod(func(s string, _ []string) any { return title(s) }),
	"_m_capitalize": strMethod(func(s string, _ []string) any { return capitalize(s) }),
	"_m_splitlines": strMethod(func(s string, _ []string) any {
		out := []any{}
		for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
			out = append(out, strings.TrimSuffix(l, "\r"))
		}
		if s == "" {
			return []any{}
		}
		return out
	}),
	"_m_isdigit": strMethod(func(s string, _ []string) any {
		return s != "" && strings.Trim(s, "0123456789") == ""
	}),
	"_m_get": func(args ...any) (any, error) {
		v, found, err := member(args[0], args[1])
		if err != nil || found {
			return v, err
		}
		if len(args) > 2 {
			return args[2], nil
		}
		return nil, nil
	},
}

// strMethod adapts a string method; its receiver and arguments must be
// strings.
func strMethod(fn func(s string, args []string) any) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		s, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("string method called on %s", show(args[0]))
		}
		rest := make([]string, 0, len(args)-1)
		for _, a := range args[1:] {
			as, ok := a.(string)
			if !ok {
				return nil, fmt.Errorf("string method argument must be a string, not %s", show(a))
			}
			rest = append(rest, as)
		}
		return fn(s, rest), nil
	}
}

func arg(a []string, i int) string {
	if i < len(a) {
		return a[i]
	}
	return ""
}

// trimWith is Python's strip family: given characters, or whitespace.
func trimWith(s string, a []string, cut func(string, string) string, space func(string) string) string {
	if len(a) > 0 {
		return cut(s, a[0])
	}
	return space(s)
}

// regexps caches compiled regular expressions by pattern.
type regexps struct{ m sync.Map }

func newRegexCache() *regexps { return &regexps{} }

func (c *regexps) get(pat string) (*regexp.Regexp, error) {
	if re, ok := c.m.Load(pat); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, err
	}
	c.m.Store(pat, re)
	return re, nil
}
