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
	segs, err := parseTemplate(s)
	if err == nil && len(segs) == 1 && segs[0].expr {
		return segs[0].text
	}
	return s
}

// Vars lists, sorted, the variables an expression reads, guarded or not
// (`x | default(1)` reads x). A string holding {{ }} is read as a template
// and the variables of all its expressions are listed. An expression that
// does not compile reads nothing; Check reports why.
func Vars(expression string) []string {
	if strings.Contains(expression, "{{") {
		segs, err := parseTemplate(expression)
		if err != nil {
			return nil
		}
		seen := map[string]bool{}
		var out []string
		for _, s := range segs {
			if !s.expr {
				continue
			}
			for _, v := range compile(s.text).vars {
				if !seen[v] {
					seen[v] = true
					out = append(out, v)
				}
			}
		}
		return sortedCopy(out)
	}
	return sortedCopy(compile(expression).vars)
}

// Check compiles an expression without evaluating it, so a playbook's
// conditions can be validated before any host is contacted.
func Check(expression string) error {
	return compile(unwrapTemplate(expression)).err
}

// CheckTemplate validates every expression of a template string and
// rejects Jinja statements, without evaluating anything.
func CheckTemplate(s string) error {
	segs, err := parseTemplate(s)
	if err != nil {
		return err
	}
	for _, seg := range segs {
		if seg.expr {
			if err := compile(seg.text).err; err != nil {
				return err
			}
		}
	}
	return nil
}
