package template

import (
	"fmt"
	"reflect"
	"strings"
)

// executor runs a parsed template over a variable scope.
type executor struct {
	scope   map[string]any
	owned   bool // scope is the executor's own copy, safe to assign to
	b       strings.Builder
	outputs int  // {{ }} outputs written
	text    bool // literal text written
	last    any  // the value of the last output
	// lastExpr is the expression of the last output, for keepsText.
	lastExpr string
	// emit, when set, receives the output in order instead of b: literal
	// text (value false) and each output's text (value true).
	emit func(text string, value bool)
}

// maxLoopItems bounds the iterations of one template run.
const maxLoopItems = 1_000_000

func (x *executor) run(nodes []node) error {
	for _, n := range nodes {
		switch n := n.(type) {
		case textNode:
			x.write(string(n), false)
			x.text = true
		case outNode:
			v, err := Eval(n.expr, x.scope)
			if err != nil {
				return atLine(n.line, err)
			}
			x.write(format(v), true)
			x.outputs++
			x.last, x.lastExpr = v, n.expr
		case *ifNode:
			if err := x.runIf(n); err != nil {
				return err
			}
		case *forNode:
			if err := x.runFor(n); err != nil {
				return err
			}
		case *setNode:
			v, err := Eval(n.expr, x.scope)
			if err != nil {
				return atLine(n.line, err)
			}
			if err := x.assign(n.targets, v); err != nil {
				return atLine(n.line, fmt.Errorf("{%% set %%}: %w", err))
			}
		}
	}
	return nil
}

// write adds output: to emit when set, else to b.
func (x *executor) write(s string, value bool) {
	if x.emit != nil {
		x.emit(s, value)
		return
	}
	x.b.WriteString(s)
}

func (x *executor) runIf(n *ifNode) error {
	for i, c := range n.conds {
		v, err := Eval(c, x.scope)
		if err != nil {
			return atLine(n.lines[i], err)
		}
		if truthy(v) {
			return x.run(n.bodies[i])
		}
	}
	return x.run(n.els)
}

// assign binds names in the executor's own scope (copied on first write,
// so the caller's variables are never changed); several names unpack a
// list.
func (x *executor) assign(names []string, v any) error {
	if !x.owned {
		own := make(map[string]any, len(x.scope)+4)
		for k, val := range x.scope {
			own[k] = val
		}
		x.scope, x.owned = own, true
	}
	if len(names) == 1 {
		x.scope[names[0]] = v
		return nil
	}
	l, err := items("unpack", v)
	if err != nil || len(l) != len(names) {
		return fmt.Errorf("cannot unpack %s into %d names", show(v), len(names))
	}
	for i, name := range names {
		x.scope[name] = l[i]
	}
	return nil
}

func (x *executor) runFor(n *forNode) error {
	err := x.loop(n)
	return atLine(n.line, err)
}

func (x *executor) loop(n *forNode) error {
	seq, err := Eval(n.iter, x.scope)
	if err != nil {
		return err
	}
	var list []any
	if isOneOf(seq, reflect.Map) {
		list, err = mapParts("for", seq, 0)
	} else {
		list, err = items("for", seq)
	}
	if err != nil {
		return fmt.Errorf("{%% for %%} over %s: not a list or mapping", show(seq))
	}
	// The loop runs in a child scope: its names and sets do not leak.
	child := &executor{scope: x.scope, emit: x.emit}
	if n.cond != "" {
		kept := []any{}
		for _, item := range list {
			if err := child.assign(n.targets, item); err != nil {
				return fmt.Errorf("{%% for %%}: %w", err)
			}
			ok, err := Eval(n.cond, child.scope)
			if err != nil {
				return err
			}
			if truthy(ok) {
				kept = append(kept, item)
			}
		}
		list = kept
	}
	if len(list) > maxLoopItems {
		return fmt.Errorf("{%% for %%}: more than %d items", maxLoopItems)
	}
	if len(list) == 0 {
		return x.run(n.els)
	}
	for i, item := range list {
		if err := child.assign(n.targets, item); err != nil {
			return fmt.Errorf("{%% for %%}: %w", err)
		}
		loop := map[string]any{
			"index": i + 1, "index0": i, "revindex": len(list) - i, "revindex0": len(list) - i - 1,
			"first": i == 0, "last": i == len(list)-1, "length": len(list),
		}
		if i > 0 {
			loop["previtem"] = list[i-1]
		}
		if i+1 < len(list) {
			loop["nextitem"] = list[i+1]
		}
		child.scope["loop"] = loop
		if err := child.run(n.body); err != nil {
			return err
		}
	}
	x.b.WriteString(child.b.String())
	x.outputs += child.outputs
	x.text = x.text || child.text
	if child.outputs > 0 {
		x.last = child.last
	}
	return nil
}
