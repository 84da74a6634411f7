// Package diag is the one positioned input error of tend: a problem in a
// playbook, an inventory or a module's arguments, at file:line:col, about
// one field. Parsers (inventory, playbook, yamlnode, modules) build these
// values; the command prints them. It is a leaf: it imports nothing of tend,
// so every input package can share it without depending on the others.
package diag

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Pos is a position in an input file. Line and Col are 1-based; Col is 0
// when only the line is known, Line is 0 when the problem concerns the
// whole file (unreadable, empty).
type Pos struct {
	File string
	Line int
	Col  int
}

// String formats p as file:line:col, leaving out the parts that are 0.
func (p Pos) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
		if p.Col > 0 {
			b.WriteString(":" + strconv.Itoa(p.Col))
		}
	}
	return b.String()
}

// Error is a positioned input error: where, which field, what is wrong.
type Error struct {
	Pos
	// Field is the key or path of the field at fault, such as
	// "tasks[2].notify" or "all.hosts.web1.ansible_port"; empty when the
	// problem is not about one field (malformed YAML).
	Field string
	// Msg says what is wrong, lowercase, without the position.
	Msg string
}

// Errorf builds an *Error at pos.
func Errorf(pos Pos, field, format string, args ...any) *Error {
	return &Error{Pos: pos, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Error formats e as "file:line:col: field: message", leaving out the
// parts that are unknown.
func (e *Error) Error() string {
	s := e.Pos.String() + ": "
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Msg
}

// List is several input errors. It keeps them all; Sort orders them by
// position, and the command prints at most a screenful (see MaxShown).
type List []*Error

// MaxShown is how many errors of a List the command prints; past it, it
// says how many more there are.
const MaxShown = 50

// Error lists the problems one per line.
func (l List) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each *Error to errors.As and errors.Is.
func (l List) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Sort orders l by file, line and column, keeping the order of errors at
// the same position.
func (l List) Sort() {
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
}

// Files lists the files l's errors are in, in order of first appearance.
func (l List) Files() []string {
	var out []string
	for _, e := range l {
		if !slices.Contains(out, e.File) {
			out = append(out, e.File)
		}
	}
	return out
}

// Err returns nil for an empty list, its *Error when it holds one, or
// the list itself, sorted.
func (l List) Err() error {
	switch len(l) {
	case 0:
		return nil
	case 1:
		return l[0]
	}
	l.Sort()
	return l
}

// Append adds err to l when it is an *Error or a List (flattened) and
// reports whether it was; any other error, wrapped ones included, is left
// to the caller, so no context is lost. Appending nil is a no-op.
func (l *List) Append(err error) (ok bool) {
	switch e := err.(type) {
	case nil:
	case *Error:
		*l = append(*l, e)
	case List:
		*l = append(*l, e...)
	default:
		return false
	}
	return true
}
