package template

import (
	"fmt"
	"strconv"
	"strings"
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
	code := outsideStrings(src)
	if strings.Contains(code, "{%") {
		return "", fmt.Errorf("Jinja statements ({%% ... %%}) are not supported")
	}
	if strings.Contains(code, "{{") {
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
	toks  []token
	i     int
	temps int  // let-bound temporaries used by and/or
	tuple bool // the last group read held a comma
	colon bool // a ":" ends the current operand (a mapping key is being read)
}

// outsideStrings returns src with the contents of its string literals
// blanked, so a "{{" inside a quoted string (a literal Go or Jinja
// template passed as a value) is not taken for template syntax.
func outsideStrings(src string) string {
	b := []byte(src)
	for i := 0; i < len(b); i++ {
		q := b[i]
		if q != '\'' && q != '"' && q != '`' {
			continue
		}
		for i++; i < len(b) && b[i] != q; i++ {
			if b[i] == '\\' && q != '`' && i+1 < len(b) {
				b[i] = ' '
				i++
			}
			b[i] = ' '
		}
	}
	return string(b)
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
		kw := ""
		if t, _ := r.peek(); t.kind == tIdent && r.i+1 < len(r.toks) && r.toks[r.i+1].kind == tOp && r.toks[r.i+1].text == "=" {
			kw = t.text
			r.i += 2
		}
		e, err := r.cond()
		if kw != "" {
			e = "_kw(" + strconv.Quote(kw) + ", " + e + ")"
		}
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
	return "(_truthy(" + c + ") ? (" + x + ") : (" + y + "))", nil
}

// item is an operand (already translated) or an operator of a flat
// operator sequence.
type item struct {
	text string
	op   bool
}

// flat reads operands and operators up to a comma, a closing bracket,
// if/else, or the end, and arranges them by Jinja's precedence.
func (r *rewriter) flat() (string, error) {
	var items []item
	for {
		t, ok := r.peek()
		if !ok || t.kind == tClose || (t.kind == tOp && (t.text == "," || (r.colon && t.text == ":"))) ||
			(t.kind == tIdent && (t.text == "if" || t.text == "else")) {
			break
		}
		operandBefore := len(items) > 0 && !items[len(items)-1].op
		switch {
		case t.kind == tOp && t.text == "|":
			return "", fmt.Errorf("filter | without a value before it")
		case t.kind == tIdent && t.text == "is":
			return "", fmt.Errorf("test 'is' without a value before it")
		case t.kind == tIdent && t.text == "not" && operandBefore && r.i+1 < len(r.toks) &&
			r.toks[r.i+1].kind == tIdent && opWords[r.toks[r.i+1].text]:
			items = append(items, item{"not " + r.toks[r.i+1].text, true})
			r.i += 2
		case t.kind == tIdent && opWords[t.text], t.kind == tOp && t.text != ".":
			items = append(items, item{t.text, true})
			r.i++
		default:
			if operandBefore {
				return "", fmt.Errorf("unexpected %q after a value", t.text)
			}
			var a string
			var err error
			if signs := unarySigns(items); signs > 0 {
				// Jinja's unary - and + bind tighter than filters and tests
				// (-5 | abs is 5), looser than . [] and calls (-x.y is -(x.y)).
				a, err = r.signed(items[len(items)-signs:])
				items = items[:len(items)-signs]
			} else {
				a, err = r.atom()
			}
			if err != nil {
				return "", err
			}
			items = append(items, item{a, false})
		}
	}
	if len(items) == 0 {
		if t, ok := r.peek(); ok {
			return "", fmt.Errorf("expected a value before %q", t.text)
		}
		return "", fmt.Errorf("expected a value at the end")
	}
	return r.emit(items)
}

// emit arranges a flat sequence by precedence. expr's own ternary and the
// colons of slices and mapping literals (? :) split it first.
func (r *rewriter) emit(items []item) (string, error) {
	var parts []string
	start := 0
	for i, it := range items {
		if it.op && (it.text == "?" || it.text == ":") {
			part, err := r.emitPart(items[start:i])
			if err != nil {
				return "", err
			}
			parts = append(parts, part, it.text)
			start = i + 1
		}
	}
	last, err := r.emitPart(items[start:])
	if err != nil {
		return "", err
	}
	return strings.Join(append(parts, last), " "), nil
}

func (r *rewriter) emitPart(items []item) (string, error) {
	if len(items) == 0 {
		return "", nil
	}
	p := &precParser{items: items, r: r}
	out, err := p.binary(1)
	if err != nil {
		return "", err
	}
	if p.i < len(items) {
		return "", fmt.Errorf("unexpected %q", items[p.i].text)
	}
	return out, nil
}

// topLevelComma reports whether a comma separates the tokens outside
// any nested bracket.
func topLevelComma(toks []token) bool {
	depth := 0
	for _, t := range toks {
		switch {
		case t.kind == tOpen:
			depth++
		case t.kind == tClose:
			depth--
		case depth == 0 && t.kind == tOp && t.text == ",":
			return true
		}
	}
	return false
}

// closers pairs each opening bracket with its closing one.
var closers = map[string]string{"(": ")", "[": "]", "{": "}"}

// group reads a bracketed list whose opening bracket is current.
func (r *rewriter) group() (string, error) {
	open := r.toks[r.i].text
	if open == "{" && mappingColon(r.toks[r.i+1:]) {
		return r.mapping()
	}
	r.i++
	start := r.i
	colon := r.colon
	r.colon = false
	inner, err := r.list()
	r.colon = colon
	r.tuple = topLevelComma(r.toks[start:r.i])
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
func (r *rewriter) atom() (string, error) { return r.operand(true) }

// unarySigns counts the - and + operators ending items that stand as
// unary signs (each at the start, or after another operator), not as a
// binary minus or plus.
func unarySigns(items []item) int {
	n := 0
	for j := len(items) - 1; j >= 0; j-- {
		it := items[j]
		if !it.op || (it.text != "-" && it.text != "+") || (j > 0 && !items[j-1].op) {
			break
		}
		n++
	}
	return n
}

// signed reads the operand the unary signs apply to, as Jinja's
// parse_unary: its primary value and postfix accessors, then the signs,
// then the filters and tests that follow, applied to the signed value.
func (r *rewriter) signed(signs []item) (string, error) {
	s, err := r.operand(false)
	if err != nil {
		return "", err
	}
	for i := len(signs) - 1; i >= 0; i-- {
		s = "(" + signs[i].text + s + ")"
	}
	return r.postfix(s, true)
}

// operand reads a primary value with its postfix accessors and, when
// piped is set, the filters and tests applied to it.
func (r *rewriter) operand(piped bool) (string, error) {
	t := r.toks[r.i]
	var s string
	switch t.kind {
	case tOpen:
		g, err := r.group()
		if err != nil {
			return "", err
		}
		s = g
		if t.text == "(" && r.tuple { // Python's (a, b) is a list here
			s = "[" + g[1:len(g)-1] + "]"
		}
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
	return r.postfix(s, piped)
}

// postfix reads what follows the value s: accessors (.name, [i], calls)
// and, when piped is set, filters and tests applied to it.
func (r *rewriter) postfix(s string, piped bool) (string, error) {
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
		case piped && r.peekIs(tOp, "|"):
			r.i++
			f, err := r.call(filters, "filter", s, false)
			if err != nil {
				return "", err
			}
			s = f
		case piped && r.peekIs(tIdent, "is"):
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

// bareArgument reports whether a test name is followed by its one
// argument without parentheses.
func (r *rewriter) bareArgument() bool {
	t, ok := r.peek()
	if !ok {
		return false
	}
	switch t.kind {
	case tNumber, tString:
		return true
	case tOpen:
		return t.text != "("
	case tIdent:
		return !opWords[t.text] && t.text != "if" && t.text != "else" && t.text != "is"
	}
	return false
}

// call reads a filter or test name and its optional arguments and applies
// the function it maps to to operand.
func (r *rewriter) call(table map[string]string, what, operand string, test bool) (string, error) {
	n, ok := r.peek()
	if !ok || n.kind != tIdent {
		return "", fmt.Errorf("expected a %s name after %q", what, map[bool]string{true: "is", false: "|"}[test])
	}
	r.i++
	name := n.text
	for r.peekIs(tOp, ".") && r.i+1 < len(r.toks) && r.toks[r.i+1].kind == tIdent {
		name += "." + r.toks[r.i+1].text // ansible.builtin.to_json
		r.i += 2
	}
	if name != n.text {
		short, err := qualifiedName(what, name, table)
		if err != nil {
			return "", err
		}
		name = short
	}
	fn, known := table[name]
	if !known {
		return "", unknownName(what, name, table)
	}
	args := ""
	if test && r.bareArgument() { // x is divisibleby 3, x is in list
		a, err := r.operand(false)
		if err != nil {
			return "", err
		}
		return fn + "(" + operand + ", " + a + ")", nil
	}
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
