package inventory

import (
	"errors"
	"fmt"
	"strings"
)

// INI inventory values are read as Ansible reads them: Python's
// ast.literal_eval, falling back to the text itself when that fails. So
// 5 is an int, "'5'" the string "5", [1, 2] a list, True a bool, and yes,
// true or 0755 stay strings (they are not Python literals).
//
// A few literals Python does accept are refused instead, because their
// reading differs from the text in a way a user rarely means (faults row
// 20: no silent coercion): exponents (1e3 is 1000.0), digit separators
// (1_000), complex numbers, bytes, sets, \N{...} escapes, integers beyond
// 64 bits, and dicts with duplicate or non-string keys.

// errNotLiteral means the text is not a Python literal: it stays a string.
var errNotLiteral = errors.New("not a literal")

// maxLiteralDepth is Python's limit on nested brackets; deeper text is a
// syntax error there, so a string here.
const maxLiteralDepth = 200

// pyValue reads an INI value as Ansible's _parse_value does. err is set
// only for a literal tend refuses.
func pyValue(s string) (any, error) {
	p := &pyParser{src: strings.TrimLeft(s, " \t")}
	v, err := p.top()
	if errors.Is(err, errNotLiteral) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("value %q: %v", s, err)
	}
	return v, nil
}

// pyParser is a recursive-descent parser for the literal subset of Python
// expressions.
type pyParser struct {
	src   string
	pos   int
	depth int
}

// pyTok is one token: kind is "num", "str", "name", "op" or "" at the end.
type pyTok struct {
	kind, text string
	val        any
}

func (p *pyParser) top() (any, error) {
	items, tuple, err := p.exprList("")
	if err != nil {
		return nil, err
	}
	if t, err := p.next(); err != nil || t.kind != "" || len(items) == 0 {
		return nil, errNotLiteral
	}
	if tuple {
		return items, nil
	}
	return items[0], nil
}

// exprList parses comma-separated expressions up to close (not consumed)
// or the end; tuple reports a comma, which makes a tuple of one item.
func (p *pyParser) exprList(close string) (items []any, tuple bool, err error) {
	items = []any{}
	for {
		t, err := p.peek()
		if err != nil {
			return nil, false, err
		}
		if t.kind == "" || t.kind == "op" && t.text == close {
			return items, tuple, nil
		}
		v, err := p.expr()
		if err != nil {
			return nil, false, err
		}
		items = append(items, v)
		if t, err = p.peek(); err != nil {
			return nil, false, err
		}
		if t.kind != "op" || t.text != "," {
			return items, tuple, nil
		}
		p.next()
		tuple = true
	}
}

// expr parses a signed number, a literal, or number ± imaginary.
func (p *pyParser) expr() (any, error) {
	v, err := p.unary()
	if err != nil {
		return nil, err
	}
	if t, err := p.peek(); err != nil {
		return nil, err
	} else if t.kind == "op" && (t.text == "+" || t.text == "-") {
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		if _, ok := r.(pyComplex); ok && isNum(v) {
			return nil, errors.New("complex numbers are not supported")
		}
		return nil, errNotLiteral
	}
	if _, ok := v.(pyComplex); ok {
		return nil, errors.New("complex numbers are not supported")
	}
	return v, nil
}

// pyComplex marks an imaginary literal while parsing; it never escapes.
type pyComplex struct{}

func isNum(v any) bool {
	switch v.(type) {
	case int, float64:
		return true
	}
	return false
}

// unary parses [+-] atom; the sign applies to a number only, once.
func (p *pyParser) unary() (any, error) {
	t, err := p.peek()
	if err != nil {
		return nil, err
	}
	if t.kind != "op" || (t.text != "+" && t.text != "-") {
		return p.atom()
	}
	p.next()
	if n, err := p.peek(); err != nil {
		return nil, err
	} else if n.kind == "op" && (n.text == "+" || n.text == "-") {
		return nil, errNotLiteral
	}
	v, err := p.atom()
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case int:
		if t.text == "-" {
			return -x, nil
		}
		return x, nil
	case float64:
		if t.text == "-" {
			return -x, nil
		}
		return x, nil
	case pyComplex:
		return x, nil
	}
	return nil, errNotLiteral
}

// atom parses a string, number, name constant, or bracketed literal.
func (p *pyParser) atom() (any, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case "num":
		return t.val, nil
	case "str":
		s := t.val.(string)
		for { // adjacent strings concatenate
			n, err := p.peek()
			if err != nil {
				return nil, err
			}
			if n.kind != "str" {
				return s, nil
			}
			p.next()
			s += n.val.(string)
		}
	case "name":
		switch t.text {
		case "True":
			return true, nil
		case "False":
			return false, nil
		case "None":
			return nil, nil
		}
		return nil, errNotLiteral
	case "op":
		switch t.text {
		case "(", "[", "{":
			p.depth++
			if p.depth >= maxLiteralDepth {
				return nil, errNotLiteral
			}
			defer func() { p.depth-- }()
			return p.bracket(t.text)
		case "...":
			return nil, errors.New("Ellipsis (...) is not a value")
		}
	}
	return nil, errNotLiteral
}

// bracket parses what follows an opening bracket: a list, a tuple (read
// as a list), a parenthesized expression or a dict.
func (p *pyParser) bracket(open string) (any, error) {
	if open == "{" {
		return p.dict()
	}
	close := map[string]string{"(": ")", "[": "]"}[open]
	items, tuple, err := p.exprList(close)
	if err != nil {
		return nil, err
	}
	if err := p.expect(close); err != nil {
		return nil, err
	}
	if open == "(" && !tuple && len(items) == 1 {
		return items[0], nil
	}
	return items, nil
}

// dict parses the body of {...}: a dict with string keys (sets refused).
func (p *pyParser) dict() (any, error) {
	m := map[string]any{}
	for {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		if t.kind == "op" && t.text == "}" {
			p.next()
			return m, nil
		}
		k, err := p.expr()
		if err != nil {
			return nil, err
		}
		if t, err = p.next(); err != nil {
			return nil, err
		}
		if t.kind == "op" && (t.text == "," || t.text == "}") {
			return nil, errors.New("sets are not supported")
		}
		if t.kind != "op" || t.text != ":" {
			return nil, errNotLiteral
		}
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		ks, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("dict key %v is not a string", k)
		}
		if _, dup := m[ks]; dup {
			return nil, fmt.Errorf("duplicate dict key %q", ks)
		}
		m[ks] = v
		if t, err = p.next(); err != nil {
			return nil, err
		}
		if t.kind == "op" && t.text == "}" {
			return m, nil
		}
		if t.kind != "op" || t.text != "," {
			return nil, errNotLiteral
		}
	}
}

func (p *pyParser) expect(op string) error {
	t, err := p.next()
	if err != nil {
		return err
	}
	if t.kind != "op" || t.text != op {
		return errNotLiteral
	}
	return nil
}
