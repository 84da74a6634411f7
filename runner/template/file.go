package template

import (
	"errors"
	"fmt"
)

// lineError is an error at a line of a template. Its text is the inner
// error's, so a one-line template in a playbook's arguments reads as it
// always did; a template file's errors (FileError) put the line in front.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return e.err.Error() }
func (e *lineError) Unwrap() error { return e.err }

// atLine places err at a line of the template, unless it already has one
// (an error inside a {% for %} body keeps its own line).
func atLine(line int, err error) error {
	var le *lineError
	if err == nil || line <= 0 || errors.As(err, &le) {
		return err
	}
	return &lineError{line: line, err: err}
}

// FileError is an error in a template file: the file, the line of the
// tag at fault (0 if unknown), and what went wrong; an *UndefinedError
// found with errors.As names an undefined variable.
type FileError struct {
	// Name is the template file, as it was given to CheckFile or RenderFile.
	Name string
	// Line is the line of the tag at fault, from 1.
	Line int
	// Err is the error itself.
	Err error
}

// Error is "name:line: error".
func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Name, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Name, e.Err)
}

// Unwrap returns the error itself.
func (e *FileError) Unwrap() error { return e.Err }

func fileError(name string, err error) error {
	fe := &FileError{Name: name, Err: err}
	var le *lineError
	if errors.As(err, &le) {
		fe.Line = le.line
	}
	return fe
}

// CheckFile parses the text of the template file name and compiles every
// expression and statement in it, evaluating nothing: a syntax error, an
// unknown filter or an unsupported statement is a *FileError with its line,
// found before any host is contacted.
func CheckFile(name, text string) error {
	if err := CheckTemplate(text); err != nil {
		return fileError(name, err)
	}
	return nil
}

// RenderFile renders the text of the template file name over vars into
// text, as Ansible's template module does: trim_blocks on, the final
// newline kept, every output formatted as text (never a native value).
// An error is a *FileError naming the file and the line of the tag; an
// undefined variable is an *UndefinedError inside it.
func RenderFile(name, text string, vars map[string]any) (string, error) {
	if !isTemplate(text) {
		return text, nil
	}
	nodes, err := parseTree(text)
	if err != nil {
		return "", fileError(name, err)
	}
	if vars == nil {
		vars = map[string]any{}
	}
	x := &executor{scope: vars}
	if err := x.run(nodes); err != nil {
		return "", fileError(name, err)
	}
	return x.b.String(), nil
}

// ErrorLine is the line, from 1, of the tag at fault in a template that
// failed to check or render (CheckTemplate, Render), or 0 when unknown.
func ErrorLine(err error) int {
	var le *lineError
	if errors.As(err, &le) {
		return le.line
	}
	return 0
}
