package yamlnode

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"tend/internal/diag"
)

// Decoder reads the nodes of one file and collects every problem found,
// positioned, so one pass reports them all. The zero value is not usable;
// use NewDecoder.
type Decoder struct {
	file   string
	errs   diag.List
	opts   DecodeOptions
	budget int
	misuse error // a caller bug: unsupported field type
}

// NewDecoder returns a Decoder for file (the name used in positions).
func NewDecoder(file string) *Decoder {
	return &Decoder{file: file, budget: maxValueNodes}
}

// File is the file name d positions errors in.
func (d *Decoder) File() string { return d.file }

// Errorf records a problem at node n (1:1 when n is nil) about the field.
func (d *Decoder) Errorf(n *yaml.Node, field, format string, args ...any) {
	d.ErrorfAt(PosOf(d.file, n), field, format, args...)
}

// ErrorfAt records a problem at pos about the field; format is always a
// fmt format (write %% for a literal %).
func (d *Decoder) ErrorfAt(pos diag.Pos, field, format string, args ...any) {
	d.errs = append(d.errs, &diag.Error{Pos: pos, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Append adds err's problems to d when it is a *diag.Error or a
// diag.List, and reports whether it was (nil counts as one); see
// diag.List.Append.
func (d *Decoder) Append(err error) bool { return d.errs.Append(err) }

// Len is how many problems d has recorded.
func (d *Decoder) Len() int { return len(d.errs) }

// Err returns nil, the single *diag.Error, or all of them as a diag.List
// sorted by position.
func (d *Decoder) Err() error { return d.errs.Err() }
