package template

import (
	"fmt"
	"strings"

	"tend/internal/omap"
)

// LazyKey is the reserved variable under which the runner lists the variables whose values are
// templates written by the playbook's author (play, role, task and include_vars vars, inventory,
// -e): reading one renders it with the reader's variables, as Ansible renders `a: "{{ b }}-y"`
// when `a` is used. Only names listed here are rendered: values a host produced (facts,
// registered results, set_fact of them) are never rendered again, as Ansible marks them unsafe,
// so a host cannot make the controller evaluate text it chose.
const LazyKey = "\x00lazy"

// depthKey counts nested lazy renderings, to report a variable that refers to itself.
const depthKey = "\x00depth"

// maxLazyDepth bounds a chain of variables rendering variables (Ansible's "recursive loop").
const maxLazyDepth = 32

// Lazy is the set of variable names LazyKey holds.
type Lazy map[string]struct{}

// HoldsTemplate reports whether v — a string, or a list or mapping holding one at any depth —
// has template syntax, so that a variable holding it needs rendering when read.
func HoldsTemplate(v any) bool {
	switch x := v.(type) {
	case string:
		return isTemplate(x)
	case []any:
		for _, e := range x {
			if HoldsTemplate(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if HoldsTemplate(e) {
				return true
			}
		}
	case *omap.Map:
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			if HoldsTemplate(e) {
				return true
			}
		}
	}
	return false
}

// resolveLazy renders the value of variable name when env lists it in LazyKey.
func resolveLazy(env map[string]any, name string, v any) (any, error) {
	lz, ok := env[LazyKey].(Lazy)
	if !ok {
		return v, nil
	}
	if _, ok := lz[name]; !ok {
		return v, nil
	}
	depth, _ := env[depthKey].(int)
	if depth >= maxLazyDepth {
		return nil, &recursionError{name}
	}
	inner := make(map[string]any, len(env)+1)
	for k, x := range env {
		inner[k] = x
	}
	inner[depthKey] = depth + 1
	out, err := renderDeep(v, inner)
	if err != nil && strings.Contains(err.Error(), "recursive loop detected") {
		// the chain of expressions that led here (wrapped by Eval as text) says nothing more
		return nil, &recursionError{name}
	}
	if err != nil {
		return nil, fmt.Errorf("variable %q: %w", name, err)
	}
	return out, nil
}

// renderDeep renders every template string in v, copying the lists and mappings it changes.
func renderDeep(v any, env map[string]any) (any, error) {
	switch x := v.(type) {
	case string:
		return renderText(x, env)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := renderDeep(e, env)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := renderDeep(e, env)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case *omap.Map:
		keys := x.Keys()
		out := omap.New(len(keys))
		for _, k := range keys {
			e, _ := x.Get(k)
			r, err := renderDeep(e, env)
			if err != nil {
				return nil, err
			}
			out.Set(k, r)
		}
		return out, nil
	}
	return v, nil
}

// renderText is Render, reached through a variable: Render's compiler refers to the variable
// lookups that call renderDeep, a cycle Go's package initialisation refuses.
var renderText func(string, map[string]any) (any, error)

func init() { renderText = Render }

// recursionError is a chain of lazy variables longer than maxLazyDepth: one refers to itself.
type recursionError struct{ name string }

func (e *recursionError) Error() string {
	return fmt.Sprintf("recursive loop detected in template of variable %q", e.name)
}
