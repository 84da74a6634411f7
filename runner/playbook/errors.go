package playbook

import "tend/internal/diag"

// Pos is a position in a playbook: the shared diag.Pos.
type Pos = diag.Pos

// Error is a positioned playbook error: the shared diag.Error, printed
// "file:line:col: field: message".
type Error = diag.Error

// Errors is several positioned problems: the shared diag.List. Parse
// returns it, sorted by position, when there is more than one problem; a
// single problem is returned as a plain *Error.
type Errors = diag.List
