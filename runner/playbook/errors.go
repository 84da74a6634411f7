package playbook

import (
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxErrors bounds how many problems one file reports; past it the rest are
// dropped, because they are usually consequences of the first ones.
const maxErrors = 50

// Errors is every positioned problem found in one input, in file order.
// Parse and DecodeStrict return it when there is more than one problem; a
// single problem is returned as a plain *Error.
type Errors []*Error

// Error lists the problems one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each *Error to errors.As and errors.Is.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// collector gathers positioned errors for one file.
type collector struct {
	file string
	errs Errors
}

// posOf returns the position of n in the collector's file (1:1 for nil).
func posOf(file string, n *yaml.Node) Pos {
	if n == nil || n.Line == 0 {
		return Pos{File: file, Line: 1, Col: 1}
	}
	return Pos{File: file, Line: n.Line, Col: n.Column}
}

func (c *collector) add(n *yaml.Node, field, format string, args ...any) {
	c.addAt(posOf(c.file, n), field, format, args...)
}

func (c *collector) addAt(pos Pos, field, format string, args ...any) {
	if len(c.errs) >= maxErrors {
		return
	}
	msg := format
	if len(args) > 0 {
		msg = sprintf(format, args...)
	}
	c.errs = append(c.errs, &Error{Pos: pos, Field: field, Msg: msg})
}

// err returns nil, the single *Error, or all of them as Errors.
func (c *collector) err() error {
	switch len(c.errs) {
	case 0:
		return nil
	case 1:
		return c.errs[0]
	}
	return c.errs
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a yaml.v3 syntax error into a positioned *Error. yaml.v3
// reports only a line ("yaml: line 3: ..."), so the column is 1.
func yamlError(file string, err error) *Error {
	msg := err.Error()
	line := 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil && n > 0 {
			line = n
		}
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return &Error{Pos: Pos{File: file, Line: line, Col: 1}, Msg: "malformed YAML: " + msg}
}

// joinPath appends a key to a field path: "tasks[2]" + "notify".
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// indexPath appends a list index to a field path: "tasks" + 2.
func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
