package inventory

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/diag"
	closest "tend/internal/suggest"
)

// Error is an inventory input error: malformed YAML, a structural mistake,
// or a value rejected for safety; the shared diag.Error, printed
// "FILE:LINE:COL: FIELD: message" (the parts unknown left out: Col is 0
// when only a line is known, Line is 0 when the error concerns the whole
// file). Field is the dotted path of the offending key, such as
// "all.children.web.hosts.web1.ansible_port"; segments containing a dot
// are quoted. Every error Load returns is an *Error (or wraps one), so a
// caller can tell bad input apart from other failures with errors.As.
type Error = diag.Error

// errorf builds an *Error positioned at node n.
func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) *Error {
	e := &Error{Pos: diag.Pos{File: p.file}, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	return e
}

// join appends a key to a dotted field path, quoting keys that contain a
// dot (host names usually do) so the path stays readable.
func join(path, key string) string {
	if strings.ContainsAny(key, ". \t\"") || key == "" {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// suggest returns ` (did you mean "x"?)` for the likely intended
// candidate (see suggest.Closest), or "".
func suggest(got string, candidates ...string) string {
	if best := closest.Closest(got, candidates); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// errStop ends a parse whose errors are already collected: past the
// node limit (an alias bomb) going on would only repeat it.
var errStop = errors.New("inventory: parse stopped")

// addErrors appends err's input errors (an *Error or a diag.List) to l; any
// other error is kept as an *Error about file.
func addErrors(l *diag.List, file string, err error) {
	var list diag.List
	var one *Error
	switch {
	case err == nil || err == errStop:
	case errors.As(err, &list):
		*l = append(*l, list...)
	case errors.As(err, &one):
		*l = append(*l, one)
	default:
		*l = append(*l, &Error{Pos: diag.Pos{File: file}, Msg: err.Error()})
	}
}

// collect records err, a problem the parse goes on after (the next key,
// host or group is read), and returns errStop when it must end instead:
// err is errStop, or the document is past the node limit.
func (p *parser) collect(err error) error {
	if err == errStop {
		return errStop
	}
	addErrors(&p.errs, p.file, err)
	if p.nodes > maxNodes {
		return errStop
	}
	return nil
}
