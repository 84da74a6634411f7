package modules

import (
	"bytes"
	"fmt"
	"math/big"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The line editing of community.general.pam_limits (6.x), as a pure
// function over the file's content so it is tested without a host. The
// module's rules, kept as it has them:
//
//   - a line starting with '#' is kept; so is a line that is blank once its
//     whitespace is collapsed, and one that has not exactly four fields
//     (domain, type, item, value) before its first '#';
//   - every four-field line's value must be valid for its item, or the
//     module fails ("Invalid configuration found in ...");
//   - the lines whose domain, type and item are the task's are rewritten as
//     "DOMAIN\tTYPE\tITEM\tVALUE[\t#COMMENT]\n" when their value changes
//     (use_max/use_min compare as the module does, "unlimited", "infinity"
//     and "-1" being no limit), else kept byte for byte;
//   - with no such line one is appended;
//   - with no comment given, the comment written is the text after the '#'
//     of the first line not starting with '#' that has one (up to and with
//     its line ending, so the new line is followed by an empty one), as the
//     module's loop carries it over.
//
// One deliberate difference: a last line without a newline is ended before a
// line is appended (the module glues the two into one broken line).

// pamItems are the limit items the module accepts.
var pamItems = []string{"core", "data", "fsize", "memlock", "nofile", "rss", "stack", "cpu", "nproc", "as",
	"maxlogins", "maxsyslogins", "priority", "locks", "sigpending", "msgqueue", "nice", "rtprio", "chroot"}

// pamTypes are the limit types the module accepts.
var pamTypes = []string{"soft", "hard", "-"}

// pamLimit is one limit a task asks for.
type pamLimit struct {
	domain, typ, item, value string
	useMax, useMin           bool
	comment                  string
}

// pamEdit is the result of editing the file for one limit.
type pamEdit struct {
	after []byte
	// msg is the module's msg: the line written or found, with its newline.
	msg string
	// found reports whether a line for the domain, type and item was there;
	// old is its value (the last such line's) when found.
	found bool
	old   string
	// value is the value the file ends with for the limit.
	value string
}

// pamUnlimited reports whether v means no limit to the module.
func pamUnlimited(v string) bool { return v == "unlimited" || v == "infinity" || v == "-1" }

// pamValueError checks value for item as the module does: nice and
// priority take an integer from -20 to 19, the others a non-negative
// integer or unlimited, infinity or -1. The message is the module's.
func pamValueError(item, value string) error {
	if item == "nice" || item == "priority" {
		n, ok := pyInt(value)
		if !ok || n.Cmp(big.NewInt(-20)) < 0 || n.Cmp(big.NewInt(19)) > 0 {
			return fmt.Errorf("Value of %s for item %s is invalid. Value must be a number in the range -20 to 19 inclusive. "+
				"Refer to the limits.conf(5) manual pages for more details.", pyRepr(value), pyRepr(item))
		}
		return nil
	}
	if !pamUnlimited(value) && !isASCIIDigits(value) {
		return fmt.Errorf("Value of %s for item %s is invalid. Value must either be 'unlimited', 'infinity' or -1, all of "+
			"which indicate no limit, or a limit of 0 or larger. Refer to the limits.conf(5) manual pages for "+
			"more details.", pyRepr(value), pyRepr(item))
	}
	return nil
}

// isASCIIDigits is Python's str.isdigit for ASCII text (tend refuses
// other digits).
func isASCIIDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// pyInt parses s as Python's int(s): surrounding whitespace, a sign,
// decimal digits with single underscores between them.
func pyInt(s string) (*big.Int, bool) {
	s = strings.TrimFunc(s, pyIsSpace)
	t := strings.TrimLeft(s, "+-")
	if len(s)-len(t) > 1 || t == "" || t[0] == '_' || t[len(t)-1] == '_' || strings.Contains(t, "__") {
		return nil, false
	}
	n, ok := new(big.Int).SetString(strings.ReplaceAll(s, "_", ""), 10)
	return n, ok
}

// pyRepr is Python's repr of a str, for the module's messages.
func pyRepr(s string) string {
	q := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = `"`
	}
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	s = r.Replace(s)
	if q == "'" {
		s = strings.ReplaceAll(s, "'", `\'`)
	}
	return q + s + q
}

// pyIsSpace is Python's str.isspace for one character (what `\s` and
// strip() take in a str): Unicode white space plus the separators
// U+001C..U+001F.
func pyIsSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

// pamFields collapses the line's whitespace as the module does and returns
// the fields before its first '#', and whether the line is blank.
func pamFields(line []byte) (fields []string, blank bool) {
	var b strings.Builder
	inSpace := false
	for len(line) > 0 {
		r, n := utf8.DecodeRune(line)
		if r == utf8.RuneError && n == 1 {
			b.WriteByte(line[0]) // a byte that is not UTF-8: never a space
			inSpace = false
			line = line[1:]
			continue
		}
		line = line[n:]
		if pyIsSpace(r) {
			if !inSpace {
				b.WriteByte(' ')
			}
			inSpace = true
			continue
		}
		inSpace = false
		b.WriteRune(r)
	}
	s := strings.TrimFunc(b.String(), pyIsSpace)
	if s == "" {
		return nil, true
	}
	s, _, _ = strings.Cut(s, "#")
	return strings.Split(strings.TrimRightFunc(s, pyIsSpace), " "), false
}

// newValue is the value the module writes over a line holding old:
// value itself, or with use_max/use_min the larger/smaller (no limit being
// the largest).
func (l pamLimit) newValue(old string) string {
	oldU, newU := pamUnlimited(old), pamUnlimited(l.value)
	switch {
	case l.useMax && oldU:
		return old
	case l.useMax && newU:
		return l.value
	case l.useMax:
		a, _ := pyInt(l.value)
		b, _ := pyInt(old)
		if a.Cmp(b) >= 0 {
			return a.String()
		}
		return b.String()
	case l.useMin && oldU:
		if newU {
			return old
		}
		return l.value
	case l.useMin && newU:
		return old
	case l.useMin:
		a, _ := pyInt(l.value)
		b, _ := pyInt(old)
		if a.Cmp(b) <= 0 {
			return a.String()
		}
		return b.String()
	}
	return l.value
}

// editPamLimits applies l to content (the file's bytes; nil for a missing
// file) as the module does. file names the file in its error messages.
func editPamLimits(file string, content []byte, l pamLimit) (pamEdit, error) {
	var e pamEdit
	var out bytes.Buffer
	comment := l.comment
	write := func(value string) {
		if comment != "" {
			comment = "\t#" + comment
		}
		line := l.domain + "\t" + l.typ + "\t" + l.item + "\t" + value + comment + "\n"
		e.msg, e.value = line, value
		out.WriteString(line)
	}
	for _, line := range fileLines(content) {
		if line[0] == '#' {
			out.Write(line)
			continue
		}
		fields, blank := pamFields(line)
		if blank {
			out.Write(line)
			continue
		}
		if _, old, ok := bytes.Cut(line, []byte("#")); ok && comment == "" {
			comment = string(old)
		}
		if len(fields) != 4 {
			out.Write(line)
			continue
		}
		if err := pamValueError(fields[2], fields[3]); err != nil {
			return e, fmt.Errorf("Invalid configuration found in '%s'. %w", file, err)
		}
		if fields[0] != l.domain || fields[1] != l.typ || fields[2] != l.item {
			out.Write(line)
			continue
		}
		e.found, e.old = true, fields[3]
		if nv := l.newValue(fields[3]); fields[3] != l.value && nv != fields[3] {
			write(nv)
			continue
		}
		e.msg, e.value = string(line), fields[3]
		out.Write(line)
	}
	if !e.found {
		if b := out.Bytes(); len(b) > 0 && b[len(b)-1] != '\n' {
			out.WriteByte('\n')
		}
		write(l.value)
	}
	e.after = out.Bytes()
	return e, nil
}
