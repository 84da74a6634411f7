package sysctlconf

import (
	"bytes"
	"strings"
)

// AddedComment heads the lines Edit appends to a file, once per file.
const AddedComment = "# added by tend"

// Setting is one wanted key and its value.
type Setting struct {
	Key   string
	Value string
}

// EditKind says what Edit did to a line.
type EditKind string

// Edit kinds.
const (
	Changed  EditKind = "changed"  // the key's effective line got the new value
	Appended EditKind = "appended" // the key was not set; a line was added
	Removed  EditKind = "removed"  // a line setting an absent key was deleted
)

// LineEdit is one line Edit changed, added or removed.
type LineEdit struct {
	// Key is the [Canonical] key.
	Key  string
	Kind EditKind
	// Line is the line number in the original content (0 when Appended).
	Line int
	// Before and After are the line's text without the line ending
	// (Before empty when Appended, After empty when Removed).
	Before, After string
}

// Edit returns content changed so that sysctl -p leaves every key of want at
// its value and sets no key of absent, touching as little as it can:
//
//   - lines it does not change stay byte-identical (comments, spacing,
//     order, CRLF endings, a missing final newline unless lines are added);
//   - a key already set is changed on its LAST line, the one sysctl applies,
//     keeping that line's spacing and its '-' marker; earlier lines are left
//     as they are, since they no longer decide the value;
//   - a key not set is appended at the end, below one AddedComment line,
//     spaced like most of the file's settings ("k = v" or "k=v");
//   - every explicit line setting an absent key is removed (glob lines are
//     not: they name no single key).
//
// Values are compared after [NormalizeValue]: a line already holding the
// value with other white space is left alone. want holds valid keys and
// values ([ValidateKey], [ValidateValue]); a key given twice takes its last
// value; a key both wanted and absent is wanted. The edits are listed in
// file order, appended lines last.
func Edit(content []byte, want []Setting, absent []string) ([]byte, []LineEdit) {
	lines := Parse(content)

	wantIdx := map[string]int{} // canonical key → index in wanted
	var wanted []Setting
	for _, w := range want {
		id := Canonical(w.Key)
		if i, ok := wantIdx[id]; ok {
			wanted[i].Value = w.Value
			continue
		}
		wantIdx[id] = len(wanted)
		wanted = append(wanted, w)
	}
	drop := map[string]bool{}
	for _, k := range absent {
		if id := Canonical(k); id != "" {
			if _, ok := wantIdx[id]; !ok {
				drop[id] = true
			}
		}
	}

	last := map[string]int{} // canonical key → index of its last explicit line
	for i, l := range lines {
		if l.Kind == Assign && !l.Glob {
			if _, ok := wantIdx[l.ID()]; ok {
				last[l.ID()] = i
			}
		}
	}

	var edits []LineEdit
	for i := range lines {
		l := &lines[i]
		if l.Kind != Assign || l.Glob {
			continue
		}
		id := l.ID()
		if drop[id] {
			edits = append(edits, LineEdit{Key: id, Kind: Removed, Line: l.Num, Before: string(l.Text)})
			continue
		}
		wi, ok := wantIdx[id]
		if !ok || last[id] != i || ValuesEqual(l.Value, wanted[wi].Value) {
			continue
		}
		val := trimValue(wanted[wi].Value)
		text := make([]byte, 0, len(l.Text)+len(val))
		text = append(text, l.Text[:l.valStart]...)
		text = append(text, val...)
		text = append(text, l.Text[l.valEnd:]...)
		edits = append(edits, LineEdit{Key: id, Kind: Changed, Line: l.Num, Before: string(l.Text), After: string(text)})
		l.Text = text
	}

	var out bytes.Buffer
	out.Grow(len(content) + 64)
	lastNL := true
	for _, l := range lines {
		if l.Kind == Assign && !l.Glob && drop[l.ID()] {
			continue
		}
		out.Write(l.Text)
		if l.NL {
			out.WriteByte('\n')
		}
		lastNL = l.NL
	}

	var appended []LineEdit
	for _, w := range wanted {
		if _, ok := last[Canonical(w.Key)]; !ok {
			after := w.Key + assignStyle(lines) + trimValue(w.Value)
			appended = append(appended, LineEdit{Key: Canonical(w.Key), Kind: Appended, After: after})
		}
	}
	if len(appended) == 0 {
		return out.Bytes(), edits
	}
	eol := lineEnding(lines)
	if out.Len() > 0 && !lastNL {
		out.WriteString(eol)
	}
	if !hasAddedComment(lines) {
		out.WriteString(AddedComment + eol)
	}
	for _, e := range appended {
		out.WriteString(e.After + eol)
	}
	return out.Bytes(), append(edits, appended...)
}

// assignStyle returns " = " or "=", whichever most settings of the file use.
func assignStyle(lines []Line) string {
	spaced, tight := 0, 0
	for _, l := range lines {
		if l.Kind != Assign {
			continue
		}
		s := l.Text
		if i := bytes.IndexByte(s, '='); i > 0 && (s[i-1] == ' ' || s[i-1] == '\t') {
			spaced++
		} else {
			tight++
		}
	}
	if tight > spaced {
		return "="
	}
	return " = "
}

// lineEnding returns "\r\n" when most terminated lines use it, else "\n".
func lineEnding(lines []Line) string {
	crlf, lf := 0, 0
	for _, l := range lines {
		if !l.NL {
			continue
		}
		if bytes.HasSuffix(l.Text, []byte{'\r'}) {
			crlf++
		} else {
			lf++
		}
	}
	if crlf > lf {
		return "\r\n"
	}
	return "\n"
}

// hasAddedComment reports whether an earlier run already left the heading.
func hasAddedComment(lines []Line) bool {
	for _, l := range lines {
		if l.Kind == Comment && strings.TrimSpace(string(l.Text)) == AddedComment {
			return true
		}
	}
	return false
}
