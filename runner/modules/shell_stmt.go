package modules

import (
	"fmt"
	"strings"

	"github.com/kballard/go-shellquote"
)

// hasStatements reports whether a script or command line holds Jinja
// statements ({% if %}, {% for %}, {% set %}, {% raw %}): its text then
// depends on the host's variables, so it is rendered whole per host,
// values still kept apart from the text (see shellBuilder).
func hasStatements(s string) bool { return strings.Contains(s, "{%") }

// errValueInSingleQuotes refuses a value that would land inside single
// quotes, where no parameter can expand.
var errValueInSingleQuotes = fmt.Errorf("{{ ... }} inside single quotes cannot be substituted safely; use double quotes")

// shellBuilder assembles a shell script from a template's output, as
// parameterizeShell does for a script without statements: literal text
// (what the playbook wrote, chosen by its statements) is the script's code;
// each {{ }} value becomes a positional parameter reference — "${N}"
// outside quotes, ${N} inside double quotes and in a here-document body —
// and its text is passed as a separate argument, so no value is ever parsed
// as shell syntax. A here-document whose delimiter is quoted (<<'EOF')
// expands nothing: a value is written into its body as it is, unless it
// would end the body early (a line equal to the delimiter).
type shellBuilder struct {
	out                        strings.Builder
	vals                       []string
	inSingle, inDouble, escape bool
	pending                    []heredoc // opened on this line, bodies start at its end
	body                       *heredoc  // the here-document being written
	line                       strings.Builder
	lineValue                  bool // the body line holds a value
	delimFrom                  int  // > 0: the next text must still name a delimiter
	err                        error
}

// heredoc is one here-document: its delimiter, whether it was quoted
// (nothing expands), and whether <<- strips leading tabs.
type heredoc struct {
	delim        string
	quoted, tabs bool
}

// add takes one piece of the rendered template (RenderPieces' emit).
func (b *shellBuilder) add(text string, value bool) {
	if b.err != nil {
		return
	}
	if value {
		b.value(text)
		return
	}
	for i := 0; i < len(text) && b.err == nil; i++ {
		c := text[i]
		if b.body != nil {
			b.bodyByte(c, false)
			continue
		}
		switch {
		case b.escape:
			b.escape = false
		case c == '\\' && !b.inSingle:
			b.escape = true
		case c == '\'' && !b.inDouble:
			b.inSingle = !b.inSingle
		case c == '"' && !b.inSingle:
			b.inDouble = !b.inDouble
		case b.inSingle || b.inDouble:
		case c == '<' && strings.HasPrefix(text[i:], "<<") && !strings.HasPrefix(text[i:], "<<<"):
			n := b.openHeredoc(text[i+2:])
			b.out.WriteString(text[i : i+2+n])
			i += 1 + n
			continue
		case c == '\n' && len(b.pending) > 0:
			b.out.WriteByte(c)
			b.body, b.pending = &b.pending[0], b.pending[1:]
			continue
		}
		b.out.WriteByte(c)
	}
}

// value places one {{ }} value.
func (b *shellBuilder) value(text string) {
	switch {
	case b.body != nil && b.body.quoted:
		b.lineValue = true
		for i := 0; i < len(text) && b.err == nil; i++ {
			b.bodyByte(text[i], true)
		}
		return
	case b.inSingle:
		b.err = errValueInSingleQuotes
	case b.escape:
		b.err = fmt.Errorf("{{ ... }} right after a backslash cannot be substituted safely")
	case len(b.pending) > 0 && b.delimFrom > 0:
		b.err = fmt.Errorf("a here-document's delimiter cannot come from {{ ... }}")
	}
	if b.err != nil {
		return
	}
	b.vals = append(b.vals, text)
	ref := fmt.Sprintf("${%d}", len(b.vals))
	if b.body != nil {
		b.lineValue = true
		b.line.WriteString(ref)
	} else if !b.inDouble {
		ref = `"` + ref + `"`
	}
	b.out.WriteString(ref)
}

// openHeredoc reads the delimiter after "<<" at the start of rest and
// returns how many bytes of rest it took.
func (b *shellBuilder) openHeredoc(rest string) int {
	h := heredoc{}
	i := 0
	if strings.HasPrefix(rest, "-") {
		h.tabs = true
		i++
	}
	for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t') {
		i++
	}
	var word strings.Builder
	for i < len(rest) && !strings.ContainsRune(" \t\n;|&<>()", rune(rest[i])) {
		switch c := rest[i]; c {
		case '\'', '"':
			h.quoted = true
			end := strings.IndexByte(rest[i+1:], c)
			if end < 0 {
				end = len(rest) - i - 1
			}
			word.WriteString(rest[i+1 : i+1+end])
			i += end + 2
		case '\\':
			h.quoted = true
			if i+1 < len(rest) {
				word.WriteByte(rest[i+1])
			}
			i += 2
		default:
			word.WriteByte(c)
			i++
		}
	}
	i = min(i, len(rest))
	h.delim = word.String()
	b.delimFrom = 0
	if h.delim == "" {
		b.delimFrom = 1 // a value would name it: refused in value
	}
	b.pending = append(b.pending, h)
	return i
}

// bodyByte writes one byte of a here-document body, ending the body at a
// line equal to its delimiter; a value that would form such a line in a
// quoted body is refused.
func (b *shellBuilder) bodyByte(c byte, fromValue bool) {
	b.out.WriteByte(c)
	if c != '\n' {
		b.line.WriteByte(c)
		return
	}
	line := b.line.String()
	if b.body.tabs {
		line = strings.TrimLeft(line, "\t")
	}
	hadValue := b.lineValue || fromValue
	b.line.Reset()
	b.lineValue = false
	if line != b.body.delim {
		return
	}
	if hadValue {
		b.err = fmt.Errorf("a {{ ... }} value would end the here-document (a line %q)", b.body.delim)
		return
	}
	b.body = nil
	if len(b.pending) > 0 {
		b.body, b.pending = &b.pending[0], b.pending[1:]
	}
}

// renderShellStatements renders a shell script holding statements into
// the script and its positional values. Without a renderer (validation
// before any host) the script is returned as it is: the template itself
// is compiled by the runner's validation.
func renderShellStatements(a Args, script string) (string, []string, error) {
	if a.RenderPieces == nil {
		return script, nil, nil
	}
	var b shellBuilder
	if err := a.RenderPieces(script, b.add); err != nil {
		return "", nil, err
	}
	if b.err != nil {
		return "", nil, b.err
	}
	return b.out.String(), b.vals, nil
}

// splitStatements splits a command line holding statements into words:
// the line is rendered per host, its literal text split like a shell
// would (quotes respected), and each {{ }} value stays inside the word it
// stands in, never split — as splitTemplated does without statements.
func splitStatements(a Args, line string) ([]string, error) {
	if a.RenderPieces == nil {
		return []string{line}, nil // validation: the words are not known yet
	}
	var masked strings.Builder
	var vals []string
	err := a.RenderPieces(line, func(text string, value bool) {
		if !value {
			masked.WriteString(text)
			return
		}
		vals = append(vals, text)
		fmt.Fprintf(&masked, "\x00%d\x00", len(vals)-1)
	})
	if err != nil {
		return nil, err
	}
	words, err := shellquote.Split(masked.String())
	if err != nil {
		return nil, fmt.Errorf("cannot split command line: %v", err)
	}
	for i, w := range words {
		words[i] = placeholder.ReplaceAllStringFunc(w, func(m string) string {
			var n int
			fmt.Sscanf(strings.Trim(m, "\x00"), "%d", &n)
			return vals[n]
		})
	}
	return words, nil
}
