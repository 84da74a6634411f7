package template

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"tend/internal/suggest"

	"tend/internal/omap"
)

// unknownName is the parse-time error for a filter, test, function or
// lookup tend does not have, with the closest name it does have.
func unknownName(what, name string, known map[string]string) error {
	if why, ok := refusedFilters[name]; ok && what == "filter" {
		return fmt.Errorf("filter %q is not supported: %s", name, why)
	}
	names := make([]string, 0, len(known))
	for n := range known {
		names = append(names, n)
	}
	sort.Strings(names)
	if s := suggest.Closest(name, names); s != "" {
		return fmt.Errorf("unknown %s %q; did you mean %q?", what, name, s)
	}
	return fmt.Errorf("unknown %s %q", what, name)
}

// maxRange bounds range(), as Jinja's sandbox does.
const maxRange = 100_000

// globalFuncs are the functions a template may call by name besides
// expr's own builtins: range, and lookup/query (rewritten by the
// compiler to receive the variables).
var globalFuncs = map[string]func(args ...any) (any, error){
	"range":   fnRange,
	"now":     fnNow,  // datetime.go
	"dict":    fnDict, // jinja_builtins.go
	"_lookup": fnLookup,
}

// globals lists the names callable in templates, for did-you-mean.
var globals = map[string]string{"range": "range", "dict": "dict", "now": "now", "lookup": "_lookup", "query": "_lookup", "q": "_lookup"}

func fnRange(args ...any) (any, error) {
	n := make([]int, len(args))
	for i, a := range args {
		v, ok := toIndex(a)
		if !ok {
			return nil, fmt.Errorf("range: %s is not an integer", show(a))
		}
		n[i] = v
	}
	start, stop, step := 0, 0, 1
	switch len(n) {
	case 1:
		stop = n[0]
	case 2:
		start, stop = n[0], n[1]
	case 3:
		start, stop, step = n[0], n[1], n[2]
	default:
		return nil, fmt.Errorf("range takes 1 to 3 arguments, got %d", len(n))
	}
	if step == 0 {
		return nil, fmt.Errorf("range: step must not be zero")
	}
	out := []any{}
	for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
		if len(out) >= maxRange {
			return nil, fmt.Errorf("range: more than %d items", maxRange)
		}
		out = append(out, i)
	}
	return out, nil
}

// lookups are the lookup plugins tend runs; like Ansible, it runs them on
// the controller (the machine running tend), never on a host.
var lookupPlugins = map[string]string{"env": "env", "file": "file", "vars": "vars", "first_found": "first_found", "pipe": "pipe"}

// fnLookup is _lookup($env, asList, name, terms..., kwargs...): lookup()
// joins the values with commas (one value stays as it is), query() and
// q() return the list.
func fnLookup(args ...any) (any, error) {
	env := args[0].(map[string]any)
	asList := args[1].(bool)
	name := args[2].(string)
	terms, kw := splitKwargs(args[3:])
	var flat []any
	for _, t := range terms {
		if l, ok := t.([]any); ok && name != "first_found" {
			flat = append(flat, l...)
			continue
		}
		flat = append(flat, t)
	}
	var out []any
	switch name {
	case "env":
		for _, t := range flat {
			v, ok := os.LookupEnv(format(t))
			if !ok {
				if d, has := kw["default"]; has {
					out = append(out, d)
					continue
				}
			}
			out = append(out, v)
		}
	case "file":
		for _, t := range flat {
			p, looked := findLookupFile(format(t), env) // lookup_path.go
			if p == "" {
				p = looked[0]
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("lookup('file'): could not read %s on the controller (looked in %s): %w", format(t), strings.Join(looked, ", "), unwrapPath(err))
			}
			s := string(b)
			if _, set := kw["rstrip"]; !set || truthy(kw["rstrip"]) {
				s = strings.TrimRight(s, " \t\r\n")
			}
			out = append(out, s)
		}
	case "vars":
		for _, t := range flat {
			v, ok := env[format(t)]
			if !ok {
				if d, has := kw["default"]; has {
					v = d
				} else {
					return nil, &UndefinedError{Name: format(t)}
				}
			}
			out = append(out, v)
		}
	case "pipe":
		for _, t := range flat {
			v, err := lookupPipe(format(t), env)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	case "first_found":
		p, err := firstFound(flat, kw, env)
		if err != nil {
			return nil, err
		}
		if p != "" {
			out = append(out, p)
		}
	}
	if asList {
		if out == nil {
			out = []any{}
		}
		return out, nil
	}
	if len(out) == 1 {
		return out[0], nil
	}
	parts := make([]string, len(out))
	for i, v := range out {
		parts[i] = format(v)
	}
	return strings.Join(parts, ","), nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// firstFound is the first existing file among the terms (paths, lists of
// paths, or {files: [...], paths: [...]} mappings), each relative name
// looked for along the task's search path (lookupCandidates).
func firstFound(terms []any, kw map[string]any, env map[string]any) (string, error) {
	var candidates []string
	add := func(files, paths []any) {
		for _, f := range files {
			if len(paths) == 0 || filepath.IsAbs(format(f)) {
				candidates = append(candidates, format(f))
				continue
			}
			for _, d := range paths {
				candidates = append(candidates, filepath.Join(format(d), format(f)))
			}
		}
	}
	asList := func(v any) []any {
		if l, ok := v.([]any); ok {
			return l
		}
		if v == nil {
			return nil
		}
		return []any{v}
	}
	for _, t := range terms {
		if m, ok := omap.AsMap(t); ok {
			add(asList(m["files"]), asList(m["paths"]))
			continue
		}
		add(asList(t), asList(kw["paths"]))
	}
	if f, ok := kw["files"]; ok {
		add(asList(f), asList(kw["paths"]))
	}
	for _, c := range candidates {
		if p, _ := findLookupFile(c, env); p != "" {
			return p, nil
		}
	}
	if truthy(kw["skip"]) {
		return "", nil
	}
	return "", fmt.Errorf("lookup('first_found'): none of %s exists on the controller", strings.Join(candidates, ", "))
}
