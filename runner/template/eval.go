package template

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
)

// Eval evaluates one expression over vars and returns its value; an
// expression written as a lone "{{ expr }}" is accepted as expr.
// A variable or key read but missing is an *UndefinedError; a syntax error
// or a failing filter is an error quoting the expression.
func Eval(expression string, vars map[string]any) (any, error) {
	expression = unwrapTemplate(expression)
	p := compile(expression)
	if p.err != nil {
		return nil, p.err
	}
	if vars == nil {
		vars = map[string]any{}
	}
	out, err := expr.Run(p.prog, vars)
	if err != nil {
		var ue *UndefinedError
		if errors.As(err, &ue) {
			return nil, ue
		}
		return nil, fmt.Errorf("expression %q: %s", expression, exprMessage(err))
	}
	if u, ok := out.(undefined); ok {
		return nil, &UndefinedError{Name: u.name}
	}
	return out, nil
}

// EvalBool evaluates a condition (when, changed_when, failed_when, until).
// The result must be a bool, or the string "true" or "false" (any case)
// as a rendered template yields; anything else is an error rather than
// Python truthiness, so `when: result.stdout` is caught rather than guessed.
// A condition written as a lone "{{ expr }}" is accepted as expr.
func EvalBool(expression string, vars map[string]any) (bool, error) {
	v, err := Eval(expression, vars)
	if err != nil {
		return false, err
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case int, int64:
		// 0 and 1 are Ansible's flags (an async job's finished: 1): as
		// unambiguous as true and false. Any other number stays an error.
		if n := fmt.Sprint(b); n == "0" || n == "1" {
			return n == "1", nil
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("condition %q is %s, not true or false (compare it, or use | bool or | length > 0)", expression, show(v))
}

// unwrapTemplate returns e for a string that is exactly "{{ e }}".
func unwrapTemplate(s string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	nodes, err := parseTree(s)
	if err == nil && len(nodes) == 1 {
		if out, ok := nodes[0].(outNode); ok {
			return out.expr
		}
	}
	return s
}

// Vars lists, sorted, the variables an expression reads, guarded or not
// (`x | default(1)` reads x). A string holding {{ }} is read as a template
// and the variables of all its expressions are listed. An expression that
// does not compile reads nothing; Check reports why.
func Vars(expression string) []string {
	if isTemplate(expression) {
		nodes, err := parseTree(expression)
		if err != nil {
			return nil
		}
		seen := map[string]bool{}
		var out []string
		treeVars(nodes, map[string]bool{}, seen, &out)
		return sortedCopy(out)
	}
	return sortedCopy(compile(expression).vars)
}

// treeVars adds the variables a template's expressions read, except those
// its own for loops and sets bind.
func treeVars(nodes []node, bound, seen map[string]bool, out *[]string) {
	add := func(e string) {
		for _, v := range compile(e).vars {
			if !bound[v] && !seen[v] {
				seen[v] = true
				*out = append(*out, v)
			}
		}
	}
	for _, n := range nodes {
		switch n := n.(type) {
		case outNode:
			add(n.expr)
		case *ifNode:
			for i, c := range n.conds {
				add(c)
				treeVars(n.bodies[i], bound, seen, out)
			}
			treeVars(n.els, bound, seen, out)
		case *forNode:
			add(n.iter)
			inner := map[string]bool{"loop": true}
			for k := range bound {
				inner[k] = true
			}
			for _, t := range n.targets {
				inner[t] = true
			}
			if n.cond != "" {
				treeVars([]node{outNode{expr: n.cond}}, inner, seen, out)
			}
			treeVars(n.body, inner, seen, out)
			treeVars(n.els, bound, seen, out)
		case *setNode:
			add(n.expr)
			for _, t := range n.targets {
				bound[t] = true
			}
		}
	}
}

// Check compiles an expression without evaluating it, so a playbook's
// conditions can be validated before any host is contacted.
func Check(expression string) error {
	return compile(unwrapTemplate(expression)).err
}

// CheckTemplate parses a template string and compiles every expression
// and statement in it, without evaluating anything: an unknown filter,
// test, function or lookup, a syntax error or an unsupported statement
// fails here, before any host is contacted.
func CheckTemplate(s string) error {
	if !isTemplate(s) {
		return nil
	}
	_, err := parseTree(s)
	return err
}
