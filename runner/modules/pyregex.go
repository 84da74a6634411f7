package modules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Ansible's file-content modules (lineinfile, blockinfile, replace) take
// Python `re` patterns and replacement templates. Go's regexp is RE2: the
// same syntax for most of what playbooks write, but no lookarounds and no
// backreferences inside a pattern. pyRegexp translates what means the same
// and refuses, before any host is contacted, what Go cannot do or would do
// differently; pyTemplate expands Python replacement templates (\1,
// \g<name>) itself, so Go's $-syntax never applies.

// pyRegexp is a translated Python pattern.
type pyRegexp struct {
	re *regexp.Regexp
	// multiline is true when the pattern turns on (?m) for all of itself
	// (blockinfile then searches the whole file, as Ansible does).
	multiline bool
	// unicodeClasses is true when the pattern uses \w \d \s \b (or their
	// negations): ASCII-only in Go, Unicode-aware in Python's str patterns.
	unicodeClasses bool
}

// compilePyRegexp translates and compiles a Python pattern. The error says
// what is refused and where in the pattern (a 1-based character offset).
func compilePyRegexp(pattern string) (*pyRegexp, error) {
	out, multi, classes, err := translatePy(pattern)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(out)
	if err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "error parsing regexp: ")
		if strings.Contains(msg, "invalid repeat count") {
			msg += " (Go's regexp allows at most 1000 repetitions)"
		}
		if strings.Contains(msg, "invalid nested repetition operator") {
			msg += " (possessive quantifiers are not supported)"
		}
		return nil, fmt.Errorf("regular expression %q: %s", pattern, msg)
	}
	return &pyRegexp{re: re, multiline: multi, unicodeClasses: classes}, nil
}

// translatePy rewrites Python syntax Go spells differently and refuses the
// constructs RE2 lacks.
func translatePy(p string) (string, bool, bool, error) {
	var b strings.Builder
	inClass, multiline, classes := false, false, false
	refuse := func(i int, what string) (string, bool, bool, error) {
		return "", false, false, fmt.Errorf("regular expression %q, at character %d: %s: Go's regexp (RE2) cannot do this; rewrite the pattern without it", p, i+1, what)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			n := p[i+1]
			switch {
			case n >= '1' && n <= '9':
				return refuse(i, "backreference \\"+string(n))
			case n == 'Z':
				b.WriteString(`\z`)
			case n == 'N':
				return refuse(i, `named character \N{...}`)
			case n == 'u' || n == 'U':
				width := 4
				if n == 'U' {
					width = 8
				}
				if i+2+width > len(p) {
					return refuse(i, "incomplete \\"+string(n)+" escape")
				}
				hex := p[i+2 : i+2+width]
				if _, err := strconv.ParseUint(hex, 16, 32); err != nil {
					return refuse(i, "bad \\"+string(n)+" escape")
				}
				b.WriteString(`\x{` + hex + `}`)
				i += width
			default:
				if strings.IndexByte("wWdDsSbB", n) >= 0 {
					classes = true
				}
				b.WriteByte(c)
				b.WriteByte(n)
			}
			i++
		case inClass:
			if c == '[' && i+1 < len(p) && (p[i+1] == ':' || p[i+1] == '=' || p[i+1] == '.') {
				return refuse(i, "POSIX class [:...:] (Python reads it as plain characters)")
			}
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
			// A ']' (after an optional '^') right after '[' is a literal, in both.
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteString(`\]`)
				i++
			}
		case c == '{' && i+1 < len(p) && p[i+1] == ',':
			// Python's {,n} is {0,n}; Go reads it as literal text.
			j := i + 2
			for j < len(p) && p[j] >= '0' && p[j] <= '9' {
				j++
			}
			if j > i+2 && j < len(p) && p[j] == '}' {
				b.WriteString("{0,")
				i++
			} else {
				b.WriteByte(c)
			}
		case c == '(' && i+1 < len(p) && p[i+1] == '?':
			rest := p[i+2:]
			switch {
			case strings.HasPrefix(rest, "P<") || strings.HasPrefix(rest, ":"):
				b.WriteString("(?")
				i++
			case strings.HasPrefix(rest, "P="):
				return refuse(i, "named backreference (?P=...)")
			case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"):
				return refuse(i, "lookahead "+p[i:i+3]+"...)")
			case strings.HasPrefix(rest, "<=") || strings.HasPrefix(rest, "<!"):
				return refuse(i, "lookbehind "+p[i:i+4]+"...)")
			case strings.HasPrefix(rest, "("):
				return refuse(i, "conditional group (?(...)")
			case strings.HasPrefix(rest, ">"):
				return refuse(i, "atomic group (?>...)")
			case strings.HasPrefix(rest, "#"):
				end := strings.IndexByte(rest, ')')
				if end < 0 {
					return refuse(i, "unterminated comment (?#")
				}
				i += 2 + end // a comment matches nothing: dropped
			default:
				end := strings.IndexAny(rest, ":)")
				if end < 0 {
					return refuse(i, "unterminated group flags (?")
				}
				flags := rest[:end]
				var kept strings.Builder
				for k := 0; k < len(flags); k++ {
					switch f := flags[k]; f {
					case 'a', 'u': // ASCII / Unicode classes: see unicodeClasses
					case 'i', 'm', 's', '-':
						kept.WriteByte(f)
					case 'x':
						return refuse(i, "verbose flag (?x)")
					case 'L':
						return refuse(i, "locale flag (?L)")
					default:
						return refuse(i, fmt.Sprintf("unknown flag %q", f))
					}
				}
				if rest[end] == ')' && i == 0 && strings.Contains(strings.SplitN(kept.String(), "-", 2)[0], "m") {
					multiline = true
				}
				if kept.Len() == 0 || kept.String() == "-" {
					if rest[end] == ':' {
						b.WriteString("(?:")
					}
				} else {
					b.WriteString("(?" + kept.String() + string(rest[end]))
				}
				i += 2 + end
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), multiline, classes, nil
}

// pyTemplate is a Python replacement template (re.sub's repl,
// match.expand's template) split into literal text and group references.
type pyTemplate []pyTplPart

type pyTplPart struct {
	lit   string
	group int // -1 for a literal
}

// parsePyTemplate parses s as Python does for re.sub: \1..\99 and \g<n> or
// \g<name> refer to groups of re; \n \t \r \f \v \a \b \\ are escapes; an
// unknown escape of an ASCII letter is an error; any other \x stays as it
// is. A reference to a group re does not have is an error.
func parsePyTemplate(s string, re *regexp.Regexp) (pyTemplate, error) {
	var t pyTemplate
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t = append(t, pyTplPart{lit: lit.String(), group: -1})
			lit.Reset()
		}
	}
	group := func(g int, ref string) error {
		if g > re.NumSubexp() {
			return fmt.Errorf("replacement %q: invalid group reference %s (the pattern has %d groups)", s, ref, re.NumSubexp())
		}
		flush()
		t = append(t, pyTplPart{group: g})
		return nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			lit.WriteByte(c)
			continue
		}
		i++
		n := s[i]
		switch {
		case n == 'g':
			end := strings.IndexByte(s[i:], '>')
			if i+1 >= len(s) || s[i+1] != '<' || end < 0 {
				return nil, fmt.Errorf("replacement %q: missing < or > after \\g", s)
			}
			name := s[i+2 : i+end]
			g, err := strconv.Atoi(name)
			if err != nil {
				g = re.SubexpIndex(name)
				if g < 0 {
					return nil, fmt.Errorf("replacement %q: unknown group name %q", s, name)
				}
			}
			if err := group(g, `\g<`+name+`>`); err != nil {
				return nil, err
			}
			i += end
		case n == '0' || (n >= '1' && n <= '7' && i+2 < len(s) && isOct(s[i+1]) && isOct(s[i+2])):
			// octal escape: \0, \0N, \0NN or three octal digits
			j := i + 1
			for j < len(s) && j < i+3 && isOct(s[j]) {
				j++
			}
			v, _ := strconv.ParseUint(s[i:j], 8, 16)
			if v > 0o377 {
				return nil, fmt.Errorf("replacement %q: octal escape \\%s out of range", s, s[i:j])
			}
			lit.WriteByte(byte(v))
			i = j - 1
		case n >= '1' && n <= '9':
			j := i + 1
			if j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			g, _ := strconv.Atoi(s[i:j])
			if err := group(g, `\`+s[i:j]); err != nil {
				return nil, err
			}
			i = j - 1
		default:
			if e, ok := pyEscapes[n]; ok {
				lit.WriteByte(e)
			} else if (n >= 'a' && n <= 'z') || (n >= 'A' && n <= 'Z') {
				return nil, fmt.Errorf("replacement %q: bad escape \\%c", s, n)
			} else {
				lit.WriteByte('\\')
				lit.WriteByte(n)
			}
		}
	}
	flush()
	return t, nil
}

var pyEscapes = map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', 'f': '\f', 'v': '\v', 'a': '\a', 'b': '\b', '\\': '\\'}

func isOct(c byte) bool { return c >= '0' && c <= '7' }

// expand appends the template, filled from match m (submatch indices into
// src), to dst. A group that did not take part in the match is empty.
func (t pyTemplate) expand(dst, src []byte, m []int) []byte {
	for _, p := range t {
		if p.group < 0 {
			dst = append(dst, p.lit...)
		} else if m[2*p.group] >= 0 {
			dst = append(dst, src[m[2*p.group]:m[2*p.group+1]]...)
		}
	}
	return dst
}

// subn replaces every match of re in src with the template, as Python's
// re.subn, and returns the result and the number of replacements. (Go skips
// an empty match right after a previous match; Python 3.7+ does not: only
// a pattern that can match the empty string sees the difference.)
func (t pyTemplate) subn(re *regexp.Regexp, src []byte) ([]byte, int) {
	ms := re.FindAllSubmatchIndex(src, -1)
	if len(ms) == 0 {
		return src, 0
	}
	out := make([]byte, 0, len(src))
	last := 0
	for _, m := range ms {
		out = append(out, src[last:m[0]]...)
		out = t.expand(out, src, m)
		last = m[1]
	}
	return append(out, src[last:]...), len(ms)
}
