package template

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind classifies a lexical token of an expression.
type tokKind int

const (
	tIdent tokKind = iota
	tNumber
	tString
	tOp
	tOpen
	tClose
)

// token is one lexical unit; text is the source spelling, except for
// strings, whose text is already re-quoted for expr.
type token struct {
	kind tokKind
	text string
}

// multiOps are the operators longer than one character, longest first.
var multiOps = []string{"==", "!=", "<=", ">=", "&&", "||", "??", "?.", "..", "**", "//"}

// lex splits a Jinja-flavoured expression into tokens.
func lex(src string) ([]token, error) {
	var toks []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isIdentStart(c) || c == '#':
			j := i + 1
			for j < len(src) && isIdentChar(src[j]) {
				j++
			}
			toks = append(toks, token{tIdent, src[i:j]})
			i = j
		case c >= '0' && c <= '9':
			j := lexNumber(src, i)
			toks = append(toks, token{tNumber, src[i:j]})
			i = j
		case c == '\'' || c == '"' || c == '`':
			text, j, err := lexString(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tString, text})
			i = j
		case c == '(' || c == '[' || c == '{':
			toks = append(toks, token{tOpen, string(c)})
			i++
		case c == ')' || c == ']' || c == '}':
			toks = append(toks, token{tClose, string(c)})
			i++
		default:
			op := ""
			for _, m := range multiOps {
				if strings.HasPrefix(src[i:], m) {
					op = m
					break
				}
			}
			if op == "" && strings.ContainsRune("+-*/%^<>=!?:,.|~&", rune(c)) {
				op = string(c)
			}
			if op == "" {
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, fmt.Errorf("unexpected character %q", r)
			}
			toks = append(toks, token{tOp, op})
			i += len(op)
		}
	}
	return toks, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// lexNumber returns the end of the number starting at i: digits, letters
// and underscores (hex, 1_000), a fraction, an exponent with its sign.
func lexNumber(src string, i int) int {
	j := i
	for j < len(src) && (isIdentChar(src[j]) && src[j] != '$') {
		if (src[j] == 'e' || src[j] == 'E') && j+1 < len(src) && (src[j+1] == '+' || src[j+1] == '-') &&
			!strings.HasPrefix(src[i:], "0x") {
			j += 2
			continue
		}
		j++
	}
	if j+1 < len(src) && src[j] == '.' && src[j+1] >= '0' && src[j+1] <= '9' {
		return lexNumber(src, j+1)
	}
	return j
}

// lexString reads a quoted string with Python escapes and returns it
// re-quoted in Go syntax, which expr reads; a backtick string is raw.
func lexString(src string, i int) (string, int, error) {
	q := src[i]
	var b strings.Builder
	for j := i + 1; j < len(src); j++ {
		c := src[j]
		switch {
		case c == q:
			if q == '`' {
				return src[i : j+1], j + 1, nil
			}
			return strconv.Quote(b.String()), j + 1, nil
		case c == '\\' && q != '`' && j+1 < len(src):
			n, err := pyEscape(src[j+1:], &b)
			if err != nil {
				return "", 0, err
			}
			j += n
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated string starting %s", src[i:])
}

// pyEscape decodes one escape (after the backslash) the way Python string
// literals do, returning how many bytes it used; unknown escapes such as
// \d keep the backslash, which regular expressions rely on, and so do
// digits: '\1' is a backreference for regex_replace, as in Ansible (which
// keeps every backslash), not Python's octal escape.
func pyEscape(s string, b *strings.Builder) (int, error) {
	simple := map[byte]string{'\\': "\\", '\'': "'", '"': "\"", 'n': "\n", 't': "\t",
		'r': "\r", 'a': "\a", 'b': "\b", 'f': "\f", 'v': "\v", '\n': ""}
	if r, ok := simple[s[0]]; ok {
		b.WriteString(r)
		return 1, nil
	}
	width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[0]]
	if width == 0 {
		b.WriteByte('\\')
		b.WriteByte(s[0])
		return 1, nil
	}
	if len(s) < 1+width {
		return 0, fmt.Errorf("truncated \\%c escape", s[0])
	}
	v, err := strconv.ParseUint(s[1:1+width], 16, 32)
	if err != nil || v > utf8.MaxRune {
		return 0, fmt.Errorf("invalid \\%c escape %q", s[0], s[:1+width])
	}
	b.WriteRune(rune(v))
	return 1 + width, nil
}
