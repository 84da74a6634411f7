package transport

import (
	"errors"
	"fmt"
	"strings"
)

// ShellQuote returns s as one POSIX shell word: wrapped in single quotes,
// each single quote inside closed, backslash-escaped and reopened:
//
//	it's  ->  'it'\''s'
//
// Inside single quotes no character is special to a POSIX shell, so the
// result always stands for exactly s; the empty string becomes a pair of
// quotes. A NUL cannot be carried; callers check with [ValidateArgv] first.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ShellJoin quotes every element of argv with [ShellQuote] and joins them
// with spaces: the command line a remote login shell turns back into argv
// unchanged. Raw values are never concatenated into shell syntax.
func ShellJoin(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(ShellQuote(a))
	}
	return b.String()
}

// ErrEmptyArgv is returned by Run for a Command without Argv.
var ErrEmptyArgv = errors.New("transport: empty argv")

// ValidateArgv rejects argv that no transport can carry literally: an empty
// argv, an empty program name or one starting with '-' or containing '=',
// or an element containing a NUL byte (which C strings, and so every exec
// and shell, would silently truncate). Arguments after the program name may
// hold anything else.
func ValidateArgv(argv []string) error {
	if len(argv) == 0 {
		return ErrEmptyArgv
	}
	if argv[0] == "" {
		return errors.New("transport: empty program name")
	}
	if argv[0][0] == '-' || strings.ContainsRune(argv[0], '=') {
		// Either would be taken for an option or a variable assignment by
		// the wrappers a command may run under (env, timeout, sudo).
		return fmt.Errorf("transport: program name %q starts with '-' or contains '='", argv[0])
	}
	for i, a := range argv {
		if strings.IndexByte(a, 0) >= 0 {
			return fmt.Errorf("transport: argv[%d] contains a NUL byte", i)
		}
	}
	return nil
}
