package template

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// convertText is Ansible's last step of rendering a template into text
// (ansible_eval_concat, jinja2_native off as by default): text that starts
// with "[" or "{", or is exactly True or False, is read as a Python literal
// (JSON's true, false and null included) and becomes that value when it is
// one; anything else stays text. A literal tend cannot represent (a set, a
// mapping keyed by a non-string, bytes, a complex number) stays text.
func convertText(s string) any {
	if !strings.HasPrefix(s, "[") && !strings.HasPrefix(s, "{") && s != "True" && s != "False" {
		return s
	}
	p := &litParser{s: s}
	v, ok := p.value()
	if !ok {
		return s
	}
	if p.space(); p.i != len(p.s) {
		return s
	}
	return v
}

// wholeValue is the value of a template that is one expression (expr)
// and nothing else, as Ansible's ansible_eval_concat makes it of the one
// node: a number becomes its text ("2",
// "2.5") and null "" (Jinja's finalize); a string that reads as a Python
// literal list, mapping or bool becomes that value (convertText: {{ '[1]' }}
// is a list, and so is a variable or a registered stdout holding "[1, 2]"),
// unless keepsText; lists, mappings and bools stay as they are (their text
// reads back as the same value).
func wholeValue(expr string, v any) any {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if keepsText(expr) {
			return v
		}
		return convertText(x)
	case bool:
		return v
	case pyDateTime:
		return x.String()
	case pyTimeDelta:
		return x.String()
	}
	if isNumber(v) {
		return format(v)
	}
	return v
}

// singleVarRE is Templar's SINGLE_VAR: a template that is one bare
// variable name (Python's $ also matches before a final newline).
var singleVarRE = regexp.MustCompile(`^\{\{\s*(\w*)\s*\}\}\n?$`)

// nativeVariable returns the value of variable name when template s is
// "{{ name }}" and the variable's own value is a number, a bool or null:
// Ansible returns that value as it is, without rendering (a variable
// holding a template, "{{ 1 + 1 }}", is rendered, and its number becomes
// text).
func nativeVariable(s string, vars map[string]any) (any, bool) {
	m := singleVarRE.FindStringSubmatch(s)
	if m == nil {
		return nil, false
	}
	v, ok := vars[m[1]]
	if !ok {
		return nil, false
	}
	switch v.(type) {
	case nil, bool:
		return v, true
	}
	return v, isNumber(v)
}

// isNumber reports whether v is a Go integer or floating-point number
// (not a bool).
func isNumber(v any) bool {
	switch kindOf(v) {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// textFilters are Ansible's STRING_TYPE_FILTERS that tend has: their
// result is wrapped as NativeJinjaText, which the concat keeps as text.
var textFilters = map[string]bool{"string": true, "to_json": true, "to_nice_json": true, "to_yaml": true, "to_nice_yaml": true}

// keepsText reports whether expr's value is the result of one of
// textFilters applied last, to the whole expression ({{ x | to_json }},
// {{ -n | string }}, {{ (x | to_json) }}; not {{ a ~ b | to_json }}, whose
// last step is ~). Of a conditional expression, when its branches do (an
// else branch may also be a quoted string no literal reading changes).
func keepsText(expr string) bool {
	toks, err := lex(strings.TrimSpace(expr))
	return err == nil && keepsTextToks(toks)
}

func keepsTextToks(toks []token) bool {
	for len(toks) > 1 && toks[0].kind == tOpen && toks[0].text == "(" && closes(toks) {
		toks = toks[1 : len(toks)-1]
	}
	if len(toks) == 0 {
		return false
	}
	depth, lastPipe := 0, -1
	for i, t := range toks {
		switch {
		case t.kind == tOpen:
			depth++
		case t.kind == tClose:
			depth--
		case depth > 0:
		case t.kind == tIdent && t.text == "if":
			return ternaryKeepsText(toks, i)
		case t.kind == tOp && t.text == "|":
			lastPipe = i
		case t.kind == tOp && (t.text == "." || t.text == "?."):
		case t.kind == tOp && (t.text == "-" || t.text == "+") && (i == 0 || toks[i-1].kind == tOp):
			// a unary sign: binds tighter than the filters
		case t.kind == tOp, t.kind == tIdent && (opWords[t.text] || t.text == "is" || t.text == "else"):
			return false // a lower-precedence step is the last
		}
	}
	if lastPipe < 0 || lastPipe+1 >= len(toks) || toks[lastPipe+1].kind != tIdent || !textFilters[toks[lastPipe+1].text] {
		return false
	}
	rest := toks[lastPipe+2:]
	return len(rest) == 0 || (rest[0].kind == tOpen && rest[0].text == "(" && closes(rest))
}

// ternaryKeepsText judges "A if C else B" (the if at toks[i]): text kept
// when A keeps it and B, if any, keeps it or is a quoted string that no
// literal reading changes.
func ternaryKeepsText(toks []token, i int) bool {
	if !keepsTextToks(toks[:i]) {
		return false
	}
	depth := 0
	for j := i + 1; j < len(toks); j++ {
		switch t := toks[j]; {
		case t.kind == tOpen:
			depth++
		case t.kind == tClose:
			depth--
		case depth == 0 && t.kind == tIdent && t.text == "else":
			b := toks[j+1:]
			if len(b) == 1 && b[0].kind == tString {
				s, err := strconv.Unquote(b[0].text)
				_, stays := convertText(s).(string)
				return err == nil && stays
			}
			return keepsTextToks(b)
		}
	}
	return true // no else: an undefined value, empty text
}

// closes reports whether toks[0], an opening bracket, is closed by the
// last token.
func closes(toks []token) bool {
	depth := 0
	for i, t := range toks {
		switch t.kind {
		case tOpen:
			depth++
		case tClose:
			depth--
			if depth == 0 {
				return i == len(toks)-1
			}
		}
	}
	return false
}

// litParser reads a Python literal, as ast.literal_eval accepts it.
type litParser struct {
	s string
	i int
}

func (p *litParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n\f\v", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *litParser) eat(c byte) bool {
	if p.space(); p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *litParser) value() (any, bool) {
	p.space()
	if p.i >= len(p.s) {
		return nil, false
	}
	switch c := p.s[p.i]; {
	case c == '[':
		p.i++
		return p.seq(']')
	case c == '(':
		p.i++
		return p.seq(')')
	case c == '{':
		p.i++
		return p.mapping()
	case c == '\'' || c == '"':
		return p.strings()
	case c == 'r' || c == 'u' || c == 'R' || c == 'U':
		if p.i+1 < len(p.s) && (p.s[p.i+1] == '\'' || p.s[p.i+1] == '"') {
			return p.strings()
		}
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	}
	start := p.i
	for p.i < len(p.s) && (isIdentByte(p.s[p.i])) {
		p.i++
	}
	switch p.s[start:p.i] {
	case "True", "true":
		return true, true
	case "False", "false":
		return false, true
	case "None", "null":
		return nil, true
	}
	return nil, false
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// seq reads list or tuple items up to end (a tuple becomes a list).
func (p *litParser) seq(end byte) (any, bool) {
	out := []any{}
	for {
		if p.eat(end) {
			return out, true
		}
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		if !p.eat(',') {
			return out, p.eat(end)
		}
	}
}

func (p *litParser) mapping() (any, bool) {
	out := map[string]any{}
	for {
		if p.eat('}') {
			return out, true
		}
		k, ok := p.value()
		ks, isStr := k.(string)
		if !ok || !isStr || !p.eat(':') {
			return nil, false // a set, or a key tend cannot keep
		}
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		out[ks] = v
		if !p.eat(',') {
			return out, p.eat('}')
		}
	}
}

// strings reads one or more adjacent string literals (Python joins them).
func (p *litParser) strings() (any, bool) {
	var b strings.Builder
	for n := 0; ; n++ {
		p.space()
		if p.i >= len(p.s) {
			return b.String(), n > 0
		}
		raw := false
		if c := p.s[p.i]; c == 'r' || c == 'R' || c == 'u' || c == 'U' {
			if p.i+1 >= len(p.s) || (p.s[p.i+1] != '\'' && p.s[p.i+1] != '"') {
				return b.String(), n > 0
			}
			raw = c == 'r' || c == 'R'
			p.i++
		}
		q := p.s[p.i]
		if q != '\'' && q != '"' {
			return b.String(), n > 0
		}
		if strings.HasPrefix(p.s[p.i:], strings.Repeat(string(q), 3)) {
			return nil, false // triple quotes: not read
		}
		p.i++
		for {
			if p.i >= len(p.s) || p.s[p.i] == '\n' {
				return nil, false
			}
			c := p.s[p.i]
			if c == q {
				p.i++
				break
			}
			if c != '\\' {
				r, w := utf8.DecodeRuneInString(p.s[p.i:])
				b.WriteRune(r)
				p.i += w
				continue
			}
			if p.i+1 >= len(p.s) {
				return nil, false
			}
			if raw {
				b.WriteString(p.s[p.i : p.i+2])
				p.i += 2
				continue
			}
			if !p.escape(&b) {
				return nil, false
			}
		}
	}
}

// escape reads one backslash escape of a Python string.
func (p *litParser) escape(b *strings.Builder) bool {
	c := p.s[p.i+1]
	p.i += 2
	simple := map[byte]string{'n': "\n", 't': "\t", 'r': "\r", '\\': "\\", '\'': "'", '"': "\"",
		'a': "\a", 'b': "\b", 'f': "\f", 'v': "\v", '0': "\x00", '\n': ""}
	if s, ok := simple[c]; ok {
		b.WriteString(s)
		return true
	}
	n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
	if n == 0 {
		b.WriteByte('\\') // an unknown escape is kept, as Python does
		b.WriteByte(c)
		return true
	}
	if p.i+n > len(p.s) {
		return false
	}
	r, err := strconv.ParseUint(p.s[p.i:p.i+n], 16, 32)
	if err != nil {
		return false
	}
	b.WriteRune(rune(r))
	p.i += n
	return true
}

// number reads an int (decimal, 0x, 0o, 0b, underscores) or a float, with
// an optional sign.
func (p *litParser) number() (any, bool) {
	start := p.i
	if p.s[p.i] == '-' || p.s[p.i] == '+' {
		p.i++
		p.space()
	}
	body := p.i
	for p.i < len(p.s) && (isIdentByte(p.s[p.i]) || p.s[p.i] == '.' ||
		((p.s[p.i] == '-' || p.s[p.i] == '+') && (p.s[p.i-1] == 'e' || p.s[p.i-1] == 'E'))) {
		p.i++
	}
	text := p.s[body:p.i]
	neg := p.s[start] == '-'
	if text == "" || !(text[0] == '.' || text[0] >= '0' && text[0] <= '9') || strings.HasSuffix(text, "_") || strings.Contains(text, "__") || strings.HasSuffix(strings.ToLower(text), "j") {
		return nil, false
	}
	clean := strings.ReplaceAll(text, "_", "")
	if i, err := strconv.ParseInt(clean, 0, 64); err == nil && (!strings.HasPrefix(clean, "0") || len(clean) == 1 || strings.ContainsAny(clean[1:2], "xXoObB")) {
		if neg {
			i = -i
		}
		return int(i), true
	}
	if strings.ContainsAny(clean, "xXoObB") {
		return nil, false
	}
	f, err := strconv.ParseFloat(clean, 64)
	if err != nil {
		return nil, false
	}
	if neg {
		f = -f
	}
	return f, true
}
