package sysctlconf

import (
	"bytes"
	"strings"
)

// Kind classifies a line the way sysctl -p treats it.
type Kind int

// Line kinds.
const (
	// Blank lines, and lines shorter than two bytes, which sysctl skips.
	Blank Kind = iota
	// Comment lines start (after white space) with '#' or ';'.
	Comment
	// Assign lines are key = value (possibly with a leading '-').
	Assign
	// Exclude lines are "-key" without '=': they only exclude keys from
	// glob settings.
	Exclude
	// Invalid lines have no '=' and no leading '-': sysctl prints
	// "invalid syntax, continuing..." and skips them.
	Invalid
)

// Line is one line of a sysctl.conf file.
type Line struct {
	// Num is the 1-based line number, as sysctl reports it.
	Num int
	// Text is the line without its terminating '\n' (a '\r' before it is
	// part of Text, as it is for sysctl, which strips it as white space).
	Text []byte
	// NL is true when the line ends with '\n' (false only for a last line
	// without a final newline).
	NL   bool
	Kind Kind
	// Key is the key as written, without the leading '-' and trailing white
	// space (Assign and Exclude lines).
	Key string
	// Value is what sysctl writes: the text after the first '=', trimmed.
	Value string
	// IgnoreErrors is true for "-key = value".
	IgnoreErrors bool
	// Glob is true when the key holds glob characters (*, ?, [).
	Glob bool

	// valStart and valEnd delimit Value inside Text (Assign lines).
	valStart, valEnd int
}

// ID is the identity of an Assign line's key (its normalised /proc/sys
// path, see [Canonical]); empty for other lines.
func (l Line) ID() string {
	if l.Kind != Assign && l.Kind != Exclude {
		return ""
	}
	return Canonical(l.Key)
}

// isSpace is C isspace in the "C" locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// lstrip returns the offset of the first non-space byte of s at or after i.
func lstrip(s []byte, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// rstrip returns the end of s[start:end] without trailing white space. Like
// procps' rstrip it never removes the first byte.
func rstrip(s []byte, start, end int) int {
	for end-1 > start && isSpace(s[end-1]) {
		end--
	}
	return end
}

// Parse splits content into lines and classifies each as sysctl -p does.
// It never fails: a file sysctl can read is a file Parse can read.
func Parse(content []byte) []Line {
	var lines []Line
	for n := 1; len(content) > 0; n++ {
		raw := content
		nl := bytes.IndexByte(content, '\n')
		if nl >= 0 {
			raw = content[:nl+1]
		}
		content = content[len(raw):]
		l := Line{Num: n, NL: nl >= 0, Text: raw}
		if l.NL {
			l.Text = raw[:len(raw)-1]
		}
		parseLine(&l, raw)
		lines = append(lines, l)
	}
	return lines
}

// parseLine follows procps' Preload and parse_setting_line. raw still holds
// the '\n', as getline returns it.
func parseLine(l *Line, raw []byte) {
	if len(raw) < 2 {
		return
	}
	// C string semantics: the line ends at a NUL byte.
	s := raw
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	k := lstrip(s, 0)
	if len(s)-k < 2 {
		return
	}
	if s[k] == '#' || s[k] == ';' {
		l.Kind = Comment
		return
	}
	eq := bytes.IndexByte(s[k:], '=')
	if eq < 0 {
		if s[k] != '-' {
			l.Kind = Invalid
			return
		}
		l.Kind = Exclude
		l.Key = string(s[k+1 : rstrip(s, k+1, len(s))])
		l.Glob = strings.ContainsAny(l.Key, "*?[")
		return
	}
	eq += k
	l.Kind = Assign
	if s[k] == '-' {
		l.IgnoreErrors = true
		k++
	}
	l.Key = string(s[k:rstrip(s, k, eq)])
	vs := lstrip(s, eq+1)
	ve := len(s)
	if vs < ve {
		ve = rstrip(s, vs, ve)
	}
	l.Value = string(s[vs:ve])
	if vs == ve {
		// Empty value: Edit inserts one after "= ", before a '\r'.
		vs = eq + 1
		for vs < len(s) && (s[vs] == ' ' || s[vs] == '\t') {
			vs++
		}
		ve = vs
	}
	l.valStart, l.valEnd = min(vs, len(l.Text)), min(ve, len(l.Text))
	l.Glob = strings.ContainsAny(l.Key, "*?[")
}

// Effective returns the value sysctl -p leaves for each key the file sets
// explicitly, by [Canonical] key: the last line for a key wins. Glob lines
// are listed under their pattern; they never override an explicit key
// (procps skips glob matches that a plain line names).
func Effective(content []byte) map[string]string {
	out := map[string]string{}
	for _, l := range Parse(content) {
		if l.Kind == Assign {
			out[l.ID()] = l.Value
		}
	}
	return out
}

// BadLine is a line sysctl -p complains about whatever the kernel has.
type BadLine struct {
	Line   int
	Text   string
	Reason string
}

// BadLines lists the lines sysctl -p would reject on any kernel: invalid
// syntax, an empty key, a key that is not a path below /proc/sys. Keys the
// running kernel lacks are found by asking the host, not here.
func BadLines(content []byte) []BadLine {
	var out []BadLine
	for _, l := range Parse(content) {
		var reason string
		switch {
		case l.Kind == Invalid:
			reason = "invalid syntax (no '=')"
		case l.Kind == Assign && l.Key == "":
			reason = "empty key"
		case l.Kind == Assign && !l.Glob:
			if err := ValidateKey(l.Key); err != nil {
				reason = err.Error()
			}
		}
		if reason != "" {
			out = append(out, BadLine{Line: l.Num, Text: strings.TrimRight(string(l.Text), "\r"), Reason: reason})
		}
	}
	return out
}
