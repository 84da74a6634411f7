package template

import (
	"fmt"
	"strings"
)

// mappingColon reports whether the tokens after a "{" hold a ":" outside
// any nested bracket before the matching "}", i.e. whether the braces are
// a mapping literal rather than an expr predicate ({# > 1}).
func mappingColon(toks []token) bool {
	depth := 0
	for _, t := range toks {
		switch {
		case t.kind == tOpen:
			depth++
		case t.kind == tClose:
			if depth == 0 {
				return false
			}
			depth--
		case depth == 0 && t.kind == tOp && t.text == ":":
			return true
		}
	}
	return false
}

// mapping reads a mapping literal whose "{" is current. As in Jinja a key
// may be any expression ({ item.key: 1 }); one that is more than a single
// name, string or number becomes an expr key in parentheses, converted to
// a string, since tend's mappings are keyed by strings.
func (r *rewriter) mapping() (string, error) {
	r.i++
	colon := r.colon
	defer func() { r.colon = colon }()
	var parts []string
	for {
		if t, ok := r.peek(); !ok || t.kind == tClose {
			break
		}
		start := r.i
		r.colon = true
		k, err := r.cond()
		if err != nil {
			return "", err
		}
		if r.i-start > 1 {
			k = "(string(" + k + "))"
		}
		if !r.peekIs(tOp, ":") {
			return "", fmt.Errorf("expected \":\" after the mapping key %s", k)
		}
		r.i++
		r.colon = false
		v, err := r.cond()
		if err != nil {
			return "", err
		}
		parts = append(parts, k+": "+v)
		if !r.peekIs(tOp, ",") {
			break
		}
		r.i++
	}
	if !r.peekIs(tClose, "}") {
		return "", fmt.Errorf("missing %q", "}")
	}
	r.i++
	r.tuple = false
	return "{" + strings.Join(parts, ", ") + "}", nil
}
