package template

import "fmt"

// The operator precedence of translated expressions: a climber over one
// flat sequence of operands and operators (see rewriter.emit in jinja.go).

// precedence of Jinja's binary operators (and expr's that pass through),
// loosest first; `not` sits between and and the comparisons.
var precedence = map[string]int{
	"??": 1, "or": 2, "||": 2, "and": 3, "&&": 3,
	"==": 5, "!=": 5, "<": 5, ">": 5, "<=": 5, ">=": 5, "in": 5, "not in": 5,
	"matches": 5, "not matches": 5, "contains": 5, "not contains": 5,
	"startsWith": 5, "not startsWith": 5, "endsWith": 5, "not endsWith": 5,
	"..": 6, "+": 7, "-": 7, "~": 8, "*": 9, "/": 9, "//": 9, "%": 9, "**": 11, "^": 11,
}

// precParser is a precedence climber over one flat sequence.
type precParser struct {
	items []item
	i     int
	r     *rewriter
}

func (p *precParser) binary(minPrec int) (string, error) {
	left, err := p.unary()
	if err != nil {
		return "", err
	}
	lastCmp := "" // right operand of the previous comparison, for chains
	for p.i < len(p.items) {
		it := p.items[p.i]
		prec, ok := precedence[it.text]
		if !it.op || !ok || prec < minPrec {
			break
		}
		p.i++
		right, err := p.binary(prec + 1)
		if err != nil {
			return "", err
		}
		if prec == 5 && lastCmp != "" { // a < b < c is a < b and b < c
			left = "(" + left + " && " + p.combine(it.text, lastCmp, right) + ")"
		} else {
			left = p.combine(it.text, left, right)
		}
		if prec == 5 {
			lastCmp = right
		} else {
			lastCmp = ""
		}
	}
	return left, nil
}

func (p *precParser) unary() (string, error) {
	if p.i >= len(p.items) {
		return "", fmt.Errorf("expected a value at the end")
	}
	it := p.items[p.i]
	if !it.op {
		p.i++
		return it.text, nil
	}
	p.i++
	switch it.text {
	case "not", "!":
		x, err := p.binary(5)
		if err != nil {
			return "", err
		}
		return "!_truthy(" + x + ")", nil
	case "-", "+":
		x, err := p.unary()
		if err != nil {
			return "", err
		}
		return "(" + it.text + x + ")", nil
	}
	return "", fmt.Errorf("expected a value before %q", it.text)
}

// combine applies a binary operator. and/or follow Python: they test
// truthiness and yield an operand; ~, //, **, % and + have Python's
// meaning, which expr's operators lack.
func (p *precParser) combine(op, l, r string) string {
	switch op {
	case "and", "&&", "or", "||":
		p.r.temps++
		t := fmt.Sprintf("$t%d", p.r.temps)
		if op == "and" || op == "&&" {
			return "(let " + t + " = " + l + "; _truthy(" + t + ") ? (" + r + ") : " + t + ")"
		}
		return "(let " + t + " = " + l + "; _truthy(" + t + ") ? " + t + " : (" + r + "))"
	case "~":
		return "_concat(" + l + ", " + r + ")"
	case "//":
		return "_floordiv(" + l + ", " + r + ")"
	case "**", "^":
		return "_pow(" + l + ", " + r + ")"
	case "%":
		return "_mod(" + l + ", " + r + ")"
	case "+":
		return "_add(" + l + ", " + r + ")"
	case "-":
		return "_sub(" + l + ", " + r + ")"
	}
	return "(" + l + " " + op + " " + r + ")"
}
