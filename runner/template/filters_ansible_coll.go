package template

import (
	"fmt"
	"strings"

	"tend/internal/omap"
)

// commentStyles are the comment filter's styles.
var commentStyles = map[string]map[string]string{
	"plain":  {"decoration": "# "},
	"erlang": {"decoration": "% "},
	"c":      {"decoration": "// "},
	"cblock": {"beginning": "/*", "decoration": " * ", "end": " */"},
	"xml":    {"beginning": "<!--", "decoration": " - ", "end": "-->"},
}

// filterComment is comment(style='plain', **kw), as Ansible builds it.
func filterComment(args ...any) (any, error) {
	args, kw := splitKwargs(args)
	if err := arity("comment", args, 0, 1); err != nil {
		return nil, err
	}
	styleName := "plain"
	if len(args) > 1 {
		styleName = format(args[1])
	}
	style, ok := commentStyles[styleName]
	if !ok {
		return nil, fmt.Errorf("comment: unknown style %q (plain, erlang, c, cblock, xml)", styleName)
	}
	pre := style["decoration"]
	if v, ok := kw["decoration"]; ok {
		pre = format(v)
	}
	p := map[string]any{"newline": "\n", "beginning": "", "prefix": strings.TrimRight(pre, " \t\n"),
		"prefix_count": 1, "decoration": "", "postfix": strings.TrimRight(pre, " \t\n"), "postfix_count": 1, "end": ""}
	for k, v := range style {
		p[k] = v
	}
	for k, v := range kw {
		p[k] = v
	}
	nl, dec := format(p["newline"]), format(p["decoration"])
	var b strings.Builder
	if s := format(p["beginning"]); s != "" {
		b.WriteString(s + nl)
	}
	prefixCount, ok1 := toIndex(p["prefix_count"])
	postfixCount, ok2 := toIndex(p["postfix_count"])
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("comment: prefix_count and postfix_count must be integers")
	}
	if s := format(p["prefix"]); s != "" {
		if s != nl {
			s += nl
		}
		b.WriteString(strings.Repeat(s, max(prefixCount, 0)))
	}
	text := dec + strings.ReplaceAll(format(args[0]), nl, nl+dec)
	b.WriteString(strings.ReplaceAll(text, dec+nl, strings.TrimRight(dec, " \t\n")+nl))
	for i := 0; i < postfixCount; i++ {
		b.WriteString(nl + format(p["postfix"]))
	}
	if s := format(p["end"]); s != "" {
		b.WriteString(nl + s)
	}
	return b.String(), nil
}

// filterExtract is extract(container, morekeys=None): container[item]
// (then [key] for each of morekeys).
func filterExtract(args ...any) (any, error) {
	if err := arity("extract", args, 1, 2); err != nil {
		return nil, err
	}
	keys := []any{args[0]}
	if len(args) > 2 {
		if l, ok := args[2].([]any); ok {
			keys = append(keys, l...)
		} else {
			keys = append(keys, args[2])
		}
	}
	v := args[1]
	for _, k := range keys {
		next, found, err := member(v, k)
		if err != nil {
			return nil, fmt.Errorf("extract: %w", err)
		}
		if !found {
			return undefined{describeKey("extract", k)}, nil
		}
		v = next
	}
	return v, nil
}

// filterSubelements is subelements(path, skip_missing=False): a pair
// [item, sub] for each sub in each item's list at path (dotted).
func filterSubelements(args ...any) (any, error) {
	args, kw := splitKwargs(args)
	if err := arity("subelements", args, 1, 2); err != nil {
		return nil, err
	}
	skip := len(args) > 2 && truthy(args[2])
	if v, ok := kw["skip_missing"]; ok {
		skip = truthy(v)
	}
	var elems []any
	if obj, ok := args[0].([]any); ok {
		elems = obj
	} else if keys, ok := omap.Keys(args[0]); ok { // a mapping: its values, in its order
		m, _ := omap.AsMap(args[0])
		for _, k := range keys {
			elems = append(elems, m[k])
		}
	} else {
		return nil, fmt.Errorf("subelements: obj must be a list of dicts or a nested dict")
	}
	var path []any
	switch p := args[1].(type) {
	case string:
		for _, s := range strings.Split(p, ".") {
			path = append(path, s)
		}
	case []any:
		path = p
	default:
		return nil, fmt.Errorf("subelements must be a list or a string")
	}
	out := []any{}
	for _, e := range elems {
		values := e
		for _, k := range path {
			if _, ok := omap.AsMap(values); !ok {
				return nil, fmt.Errorf("subelements: the key %s should point to a dictionary, got %s", format(k), pyRepr(values))
			}
			v, found, _ := member(values, k)
			if !found {
				if skip {
					values = []any{}
					break
				}
				return nil, fmt.Errorf("subelements: could not find %s key in iterated item %s", pyRepr(k), pyRepr(values))
			}
			values = v
		}
		l, ok := values.([]any)
		if !ok {
			return nil, fmt.Errorf("subelements: the key %s should point to a list, got %s", pyRepr(args[1]), pyRepr(values))
		}
		for _, v := range l {
			out = append(out, []any{e, v})
		}
	}
	return out, nil
}

// filterProduct is itertools.product(a, *others): every combination, one
// item of each list, in order.
func filterProduct(args ...any) (any, error) {
	args, kw := splitKwargs(args)
	repeat := 1
	if v, ok := kw["repeat"]; ok {
		r, err := intArg("product", "repeat", v)
		if err != nil {
			return nil, err
		}
		repeat = r
	}
	var pools [][]any
	for range repeat {
		for _, a := range args {
			l, err := iterable("product", a)
			if err != nil {
				return nil, err
			}
			pools = append(pools, l)
		}
	}
	out := [][]any{{}}
	for _, pool := range pools {
		var next [][]any
		for _, prefix := range out {
			for _, x := range pool {
				next = append(next, append(append([]any{}, prefix...), x))
			}
		}
		out = next
		if len(out) > maxLoopItems {
			return nil, fmt.Errorf("product: more than %d items", maxLoopItems)
		}
	}
	res := make([]any, len(out))
	for i, t := range out {
		res[i] = t
	}
	return res, nil
}

// iterable reads a list, or a string's characters, as Python iterates them.
func iterable(name string, v any) ([]any, error) {
	if s, ok := v.(string); ok {
		out := []any{}
		for _, r := range s {
			out = append(out, string(r))
		}
		return out, nil
	}
	return items(name, v)
}

// arrangements is itertools.permutations(xs, r=None) (ordered) or
// combinations(xs, r) (in input order), each a list.
func arrangements(name string, args []any, combine bool) (any, error) {
	if err := arity(name, args, map[bool]int{true: 1, false: 0}[combine], 1); err != nil {
		return nil, err
	}
	pool, err := iterable(name, args[0])
	if err != nil {
		return nil, err
	}
	r := len(pool)
	if len(args) > 1 && args[1] != nil {
		if r, err = intArg(name, "r", args[1]); err != nil {
			return nil, err
		}
	}
	out := []any{}
	if r < 0 {
		return nil, fmt.Errorf("%s: r must be non-negative", name)
	}
	var rec func(start int, used []bool, cur []any) error
	rec = func(start int, used []bool, cur []any) error {
		if len(cur) == r {
			out = append(out, append([]any{}, cur...))
			if len(out) > maxLoopItems {
				return fmt.Errorf("%s: more than %d items", name, maxLoopItems)
			}
			return nil
		}
		for i := range pool {
			if combine && i < start || !combine && used[i] {
				continue
			}
			used[i] = true
			if err := rec(i+1, used, append(cur, pool[i])); err != nil {
				return err
			}
			used[i] = false
		}
		return nil
	}
	if r <= len(pool) {
		if err := rec(0, make([]bool, len(pool)), nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}
