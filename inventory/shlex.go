package inventory

import (
	"errors"
	"strings"
)

// shTok is one word of a host line and its 0-based column in runes.
type shTok struct {
	text string
	col  int
}

// shlexSplit splits a line as Python's shlex.split(line, comments=True)
// does, which is how Ansible splits INI host lines: words are separated by
// spaces, tabs, CR or LF; '...' quotes literally; "..." quotes with \" and
// \\ as the only escapes; a backslash outside quotes escapes any
// character; and an unquoted # starts a comment, even inside a word
// ("a=x#y" is "a=x").
func shlexSplit(line string) ([]shTok, error) {
	var (
		toks   []shTok
		word   strings.Builder
		in     bool // inside a word (possibly an empty quoted one)
		start  int
		quote  rune // 0, '\'' or '"'
		escape bool
	)
	col := -1
	emit := func() {
		if in {
			toks = append(toks, shTok{text: word.String(), col: start})
		}
		word.Reset()
		in = false
	}
	for _, r := range line {
		col++
		switch {
		case escape:
			if quote == '"' && r != '"' && r != '\\' {
				word.WriteRune('\\')
			}
			word.WriteRune(r)
			escape = false
		case quote != 0:
			switch {
			case r == quote:
				quote = 0
			case r == '\\' && quote == '"':
				escape = true
			default:
				word.WriteRune(r)
			}
		case strings.ContainsRune(" \t\r\n", r):
			emit()
		case r == '#':
			emit()
			return toks, nil
		default:
			if !in {
				in, start = true, col
			}
			switch r {
			case '\'', '"':
				quote = r
			case '\\':
				escape = true
			default:
				word.WriteRune(r)
			}
		}
	}
	switch {
	case quote != 0:
		return nil, errors.New("no closing quotation")
	case escape:
		return nil, errors.New("no escaped character after \\")
	}
	emit()
	return toks, nil
}
