package inventory

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	closest "tend/internal/suggest"
)

// Error is an inventory input error: malformed YAML, a structural mistake,
// or a value rejected for safety. Every error Load returns is an *Error (or
// wraps one), so a caller can tell bad input apart from other failures with
// errors.As and map it to its own exit code.
type Error struct {
	// File is the inventory path as given to Load.
	File string
	// Line and Col are 1-based. Col is 0 when the YAML parser reports only
	// a line (malformed YAML); Line is 0 when the error concerns the whole
	// file (unreadable, empty).
	Line, Col int
	// Field is the dotted path of the offending key, such as
	// "all.children.web.hosts.web1.ansible_port"; empty when the error
	// is not about one key. Segments containing a dot are quoted.
	Field string
	// Msg says what is wrong, lowercase, without position.
	Msg string
}

// Error formats the error as "inventory: FILE:LINE:COL: FIELD: message",
// leaving out the parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("inventory: ")
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// errorf builds an *Error positioned at node n.
func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) *Error {
	e := &Error{File: p.file, Field: field, Msg: fmt.Sprintf(format, args...)}
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
