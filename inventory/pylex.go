package inventory

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The tokenizer of pyParser: Python's numbers, strings, names and the few
// operators a literal uses.

func (p *pyParser) peek() (pyTok, error) {
	save := p.pos
	t, err := p.next()
	p.pos = save
	return t, err
}

// next scans one token. Anything outside the literal subset is
// errNotLiteral, as Python's SyntaxError or ValueError would be.
func (p *pyParser) next() (pyTok, error) {
	for p.pos < len(p.src) && strings.IndexByte(" \t\f", p.src[p.pos]) >= 0 {
		p.pos++
	}
	if p.pos >= len(p.src) || p.src[p.pos] == '#' {
		p.pos = len(p.src)
		return pyTok{}, nil
	}
	rest := p.src[p.pos:]
	c := rest[0]
	switch {
	case strings.HasPrefix(rest, "..."):
		p.pos += 3
		return pyTok{kind: "op", text: "..."}, nil
	case c >= '0' && c <= '9' || c == '.' && len(rest) > 1 && rest[1] >= '0' && rest[1] <= '9':
		return p.number()
	case c == '\'' || c == '"':
		return p.str("")
	case strings.IndexByte("()[]{},:+-", c) >= 0:
		p.pos++
		return pyTok{kind: "op", text: string(c)}, nil
	}
	r, _ := utf8.DecodeRuneInString(rest)
	if r == '_' || unicode.IsLetter(r) {
		end := strings.IndexFunc(rest, func(r rune) bool { return r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if end < 0 {
			end = len(rest)
		}
		name := rest[:end]
		if end < len(rest) && (rest[end] == '\'' || rest[end] == '"') {
			switch strings.ToLower(name) {
			case "r", "u", "b", "br", "rb", "f", "fr", "rf":
				p.pos += end
				return p.str(strings.ToLower(name))
			}
		}
		p.pos += end
		return pyTok{kind: "name", text: name}, nil
	}
	return pyTok{}, errNotLiteral
}

var (
	pyDigits   = `[0-9](?:_?[0-9])*`
	pyExponent = `[eE][+-]?` + pyDigits
	pyPoint    = `(?:(?:` + pyDigits + `)?\.` + pyDigits + `|` + pyDigits + `\.)`
	pyFloat    = `(?:` + pyPoint + `(?:` + pyExponent + `)?|` + pyDigits + pyExponent + `)`
	pyIntRE    = regexp.MustCompile(`^(?:[1-9](?:_?[0-9])*|0+(?:_?0)*|0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+)$`)
	pyFloatRE  = regexp.MustCompile(`^` + pyFloat + `$`)
	pyImagRE   = regexp.MustCompile(`^(?:` + pyFloat + `|` + pyDigits + `)[jJ]$`)
	pyNumRunRE = regexp.MustCompile(`^(?:[eE][+-]|[0-9a-zA-Z_.])+`)
)

// number scans a numeric literal.
func (p *pyParser) number() (pyTok, error) {
	run := pyNumRunRE.FindString(p.src[p.pos:])
	p.pos += len(run)
	tok := pyTok{kind: "num", text: run}
	switch {
	case pyIntRE.MatchString(run):
		if strings.Contains(run, "_") {
			return tok, fmt.Errorf("digit separators (%s) are not supported; write %q for the string or the plain number", run, "'"+run+"'")
		}
		base, digits := 10, run
		if len(run) > 1 && run[0] == '0' && strings.ContainsRune("xXoObB", rune(run[1])) {
			base, digits = map[byte]int{'x': 16, 'o': 8, 'b': 2}[run[1]|0x20], run[2:]
		}
		n, err := strconv.ParseInt(digits, base, 64)
		if err != nil {
			return tok, fmt.Errorf("integer %s does not fit in 64 bits", run)
		}
		tok.val = int(n)
	case pyFloatRE.MatchString(run):
		if strings.Contains(run, "_") || strings.ContainsAny(run, "eE") {
			return tok, fmt.Errorf("%s reads as the float %v; write %q for the string, or the number without an exponent or _", run, mustFloat(run), "'"+run+"'")
		}
		f, err := strconv.ParseFloat(run, 64)
		if err != nil || math.IsInf(f, 0) {
			return tok, fmt.Errorf("float %s is out of range", run)
		}
		tok.val = f
	case pyImagRE.MatchString(run):
		tok.val = pyComplex{}
	default:
		return tok, errNotLiteral
	}
	return tok, nil
}

func mustFloat(s string) float64 {
	f, _ := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	return f
}

// str scans a quoted string with the given (lowercased) prefix.
func (p *pyParser) str(prefix string) (pyTok, error) {
	rest := p.src[p.pos:]
	q := rest[:1]
	if strings.HasPrefix(rest, q+q+q) {
		q = q + q + q
	}
	raw := strings.Contains(prefix, "r")
	var b strings.Builder
	i := len(q)
	for {
		if i >= len(rest) {
			return pyTok{}, errNotLiteral // unterminated
		}
		if strings.HasPrefix(rest[i:], q) {
			i += len(q)
			break
		}
		c := rest[i]
		if c == '\n' && len(q) == 1 {
			return pyTok{}, errNotLiteral
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(rest) {
			return pyTok{}, errNotLiteral
		}
		if raw {
			b.WriteString(rest[i : i+2])
			i += 2
			continue
		}
		n, err := unescape(&b, rest[i+1:])
		if err != nil {
			return pyTok{}, err
		}
		i += 1 + n
	}
	p.pos += i
	switch {
	case strings.Contains(prefix, "f"):
		return pyTok{}, errNotLiteral // an f-string is not a literal
	case strings.Contains(prefix, "b"):
		return pyTok{}, errors.New("bytes literals are not supported")
	}
	return pyTok{kind: "str", val: b.String()}, nil
}

// unescape decodes one backslash escape (s follows the backslash) into b
// and returns how many bytes of s it used.
func unescape(b *strings.Builder, s string) (int, error) {
	simple := map[byte]string{'\\': `\`, '\'': "'", '"': `"`, 'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v", '\n': ""}
	c := s[0]
	if r, ok := simple[c]; ok {
		b.WriteString(r)
		return 1, nil
	}
	hexN := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
	switch {
	case c >= '0' && c <= '7':
		n := 1
		for n < 3 && n < len(s) && s[n] >= '0' && s[n] <= '7' {
			n++
		}
		v, _ := strconv.ParseUint(s[:n], 8, 32)
		b.WriteRune(rune(v))
		return n, nil
	case hexN > 0:
		if len(s) < 1+hexN {
			return 0, errNotLiteral
		}
		v, err := strconv.ParseUint(s[1:1+hexN], 16, 32)
		if err != nil || strings.ContainsAny(s[1:1+hexN], "+-_") || v > unicode.MaxRune {
			return 0, errNotLiteral
		}
		if v >= 0xd800 && v < 0xe000 {
			return 0, errors.New("lone surrogate escapes are not supported")
		}
		b.WriteRune(rune(v))
		return 1 + hexN, nil
	case c == 'N':
		return 0, errors.New(`\N{...} escapes are not supported`)
	}
	b.WriteByte('\\') // unknown escapes keep their backslash
	return 0, nil
}
