package template

import (
	"fmt"
	"strings"

	"tend/internal/suggest"
)

// opWords are identifiers that act as operators, never as values.
var opWords = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "matches": true,
	"contains": true, "startsWith": true, "endsWith": true,
}

// literals maps Jinja's spellings of constants to expr's.
var literals = map[string]string{
	"True": "true", "true": "true", "False": "false", "false": "false",
	"None": "nil", "none": "nil", "nil": "nil",
}

// translate rewrites a Jinja-flavoured expression into expr syntax:
// filters and tests become calls (x | int → int(x); x is defined →
// is_defined(x)), binding as tightly as in Jinja; True/False/None become
// true/false/nil; `a if c else b` becomes a ternary; strings are re-quoted.
// Expressions already written in expr syntax pass through.
func translate(src string) (string, error) {
	if strings.Contains(src, "{%") {
		return "", fmt.Errorf("Jinja statements ({%% ... %%}) are not supported")
	}
	if strings.Contains(src, "{{") {
		return "", fmt.Errorf("an expression cannot contain {{ }}; write the expression itself")
	}
	toks, err := lex(src)
	if err != nil {
		return "", err
	}
	if len(toks) == 0 {
		return "", fmt.Errorf("empty expression")
	}
	r := &rewriter{toks: toks}
	out, err := r.list()
	if err != nil {
		return "", err
	}
	if r.i < len(r.toks) {
		return "", fmt.Errorf("unexpected %q", r.toks[r.i].text)
	}
	return out, nil
}

// rewriter walks the tokens of one expression.
type rewriter struct {
	toks []token
	i    int
}

func (r *rewriter) peek() (token, bool) {
	if r.i < len(r.toks) {
		return r.toks[r.i], true
	}
	return token{}, false
}

func (r *rewriter) peekIs(kind tokKind, text string) bool {
	t, ok := r.peek()
	return ok && t.kind == kind && t.text == text
}

// list reads comma-separated expressions up to a closing bracket or the end.
func (r *rewriter) list() (string, error) {
	var parts []string
	for {
		if t, ok := r.peek(); !ok || t.kind == tClose {
			break
		}
		e, err := r.cond()
		if err != nil {
			return "", err
		}
		parts = append(parts, e)
		if !r.peekIs(tOp, ",") {
			break
		}
		r.i++
	}
	return strings.Join(parts, ", "), nil
}

// cond reads `x [if c [else y]]`, Jinja's lowest-precedence form.
func (r *rewriter) cond() (string, error) {
	x, err := r.flat()
	if err != nil {
		return "", err
	}
	if !r.peekIs(tIdent, "if") {
		return x, nil
	}
	r.i++
	c, err := r.flat()
	if err != nil {
		return "", err
	}
	y := "nil"
	if r.peekIs(tIdent, "else") {
		r.i++
		if y, err = r.cond(); err != nil {
			return "", err
		}
	}
	return "((" + c + ") ? (" + x + ") : (" + y + "))", nil
}

// flat reads operands and operators up to a comma, a closing bracket,
// if/else, or the end.
func (r *rewriter) flat() (string, error) {
	var out []string
	for {
		t, ok := r.peek()
		if !ok || t.kind == tClose || (t.kind == tOp && t.text == ",") ||
			(t.kind == tIdent && (t.text == "if" || t.text == "else")) {
			break
		}
		switch {
		case t.kind == tOp && t.text == "~":
			return "", fmt.Errorf("the ~ operator is not supported; join strings with +")
		case t.kind == tOp && t.text == "//":
			return "", fmt.Errorf("the // operator is not supported; use int(a / b)")
		case t.kind == tOp && t.text == "|":
			return "", fmt.Errorf("filter | without a value before it")
		case t.kind == tIdent && t.text == "is":
			return "", fmt.Errorf("test 'is' without a value before it")
		case t.kind == tIdent && opWords[t.text], t.kind == tOp && t.text != ".":
			out = append(out, t.text)
			r.i++
		default:
			a, err := r.atom()
			if err != nil {
				return "", err
			}
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		if t, ok := r.peek(); ok {
			return "", fmt.Errorf("expected a value before %q", t.text)
		}
		return "", fmt.Errorf("expected a value at the end")
	}
	return strings.Join(out, " "), nil
}

// closers pairs each opening bracket with its closing one.
var closers = map[string]string{"(": ")", "[": "]", "{": "}"}

// group reads a bracketed list whose opening bracket is current.
func (r *rewriter) group() (string, error) {
	open := r.toks[r.i].text
	r.i++
	inner, err := r.list()
	if err != nil {
		return "", err
	}
	if !r.peekIs(tClose, closers[open]) {
		return "", fmt.Errorf("missing %q", closers[open])
	}
	r.i++
	return open + inner + closers[open], nil
}

// atom reads a primary value with its postfix accessors, then any filters
// and tests applied to it.
func (r *rewriter) atom() (string, error) {
	t := r.toks[r.i]
	var s string
	switch t.kind {
	case tOpen:
		g, err := r.group()
		if err != nil {
			return "", err
		}
		s = g
	case tOp: // "." starting a predicate member (.field)
		r.i++
		if n, ok := r.peek(); !ok || n.kind != tIdent {
			return "", fmt.Errorf("expected a name after %q", ".")
		}
		s = "." + r.toks[r.i].text
		r.i++
	case tClose:
		return "", fmt.Errorf("unexpected %q", t.text)
	default:
		r.i++
		s = t.text
		if lit, ok := literals[t.text]; ok && t.kind == tIdent && !r.peekIs(tOpen, "(") {
			s = lit
		}
	}
	for {
		switch {
		case r.peekIs(tOp, ".") || r.peekIs(tOp, "?."):
			op := r.toks[r.i].text
			r.i++
			if r.peekIs(tOpen, "[") && op == "?." {
				g, err := r.group()
				if err != nil {
					return "", err
				}
				s += op + g
				continue
			}
			n, ok := r.peek()
			if !ok || (n.kind != tIdent && n.kind != tNumber) {
				return "", fmt.Errorf("expected a name after %q", op)
			}
			r.i++
			if n.kind == tNumber { // Jinja's x.0 is x[0]
				s += "[" + n.text + "]"
				continue
			}
			s += op + n.text
		case r.peekIs(tOpen, "[") || r.peekIs(tOpen, "("):
			g, err := r.group()
			if err != nil {
				return "", err
			}
			s += g
		case r.peekIs(tOp, "|"):
			r.i++
			f, err := r.call(filters, "filter", s, false)
			if err != nil {
				return "", err
			}
			s = f
		case r.peekIs(tIdent, "is"):
			r.i++
			negate := r.peekIs(tIdent, "not")
			if negate {
				r.i++
			}
			f, err := r.call(tests, "test", s, true)
			if err != nil {
				return "", err
			}
			if negate {
				f = "(not " + f + ")"
			}
			s = f
		default:
			return s, nil
		}
	}
}

// call reads a filter or test name and its optional arguments and applies
// the function it maps to to operand.
func (r *rewriter) call(table map[string]string, what, operand string, test bool) (string, error) {
	n, ok := r.peek()
	if !ok || n.kind != tIdent {
		return "", fmt.Errorf("expected a %s name after %q", what, map[bool]string{true: "is", false: "|"}[test])
	}
	r.i++
	fn, known := table[n.text]
	if !known {
		if best := suggest.Closest(n.text, mapKeys(table)); best != "" {
			return "", fmt.Errorf("unknown %s %q; did you mean %q?", what, n.text, best)
		}
		return "", fmt.Errorf("unknown %s %q", what, n.text)
	}
	args := ""
	if r.peekIs(tOpen, "(") {
		g, err := r.group()
		if err != nil {
			return "", err
		}
		if inner := g[1 : len(g)-1]; inner != "" {
			args = ", " + inner
		}
	}
	return fn + "(" + operand + args + ")", nil
}
