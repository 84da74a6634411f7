package yamlnode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"tend/internal/diag"
)

// Parse decodes data as exactly one YAML document and returns its root
// node: nil for an empty or null document, its merge keys (<<) expanded
// as Ansible's YAML loader does (expandMerges). A syntax error is a *diag.Error at the
// line and column of the problem (see SyntaxError); a second document is
// refused, positioned at its start.
func Parse(file string, data []byte) (root *yaml.Node, err error) {
	defer func() {
		// yaml.v3 has panicked on hostile input before; a bad file must
		// never crash the runner.
		if r := recover(); r != nil {
			root, err = nil, diag.Errorf(diag.Pos{File: file, Line: 1, Col: 1}, "", "malformed YAML: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, SyntaxError(file, data, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, diag.Errorf(PosOf(file, &next), "", "found a second YAML document (---); the file must hold one")
	} else if !errors.Is(err, io.EOF) {
		return nil, SyntaxError(file, data, err)
	}
	if len(doc.Content) == 0 || IsNull(doc.Content[0]) {
		return nil, nil
	}
	if err := expandMerges(file, doc.Content[0]); err != nil {
		return nil, err
	}
	return doc.Content[0], nil
}

// yamlMsgRE splits yaml.v3's "yaml: line 7: message".
var yamlMsgRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// maxLocate bounds the input SyntaxError re-parses to find a position;
// past linearScan bytes it bisects the problem's line instead of trying
// every prefix of it.
const maxLocate = 4 << 20

var linearScan = 256 << 10 // a variable for tests

// SyntaxError turns err, returned by yaml.v3 for data, into a *diag.Error
// "file:line:col: malformed YAML: message" at the problem.
//
// yaml.v3 keeps its marks to itself: its message names a line that is
// 0-based for some errors and 1-based for others, and is the line where
// the enclosing block starts rather than the problem's. So the position is
// found by asking the parser again: the problem is the last character of
// the shortest prefix of data that fails with the same message. A flow
// collection left open is reported at its opening bracket, an unknown
// alias at its *. When that search fails, the line yaml.v3 named is used,
// with no column.
func SyntaxError(file string, data []byte, err error) *diag.Error {
	raw := err.Error()
	msg := raw
	line := 0
	if m := yamlMsgRE.FindStringSubmatch(raw); m != nil {
		fmt.Sscan(m[1], &line)
		msg = m[2]
	}
	pos := diag.Pos{File: file, Line: max(line, 1)}
	text := explain(msg)
	if off, ok := locate(data, msg); ok {
		pos.Line, pos.Col = lineCol(data, off)
		if off < len(data) && data[off] == '\t' && !strings.Contains(msg, "tab") {
			text += " (a tab: indent with spaces)"
		}
	}
	return &diag.Error{Pos: pos, Msg: "malformed YAML: " + text}
}

// explain rewords the messages whose position needs a word of context.
func explain(msg string) string {
	switch {
	case strings.HasPrefix(msg, "did not find expected ',' or '}'"):
		return msg + " in the flow mapping opened here"
	case strings.HasPrefix(msg, "did not find expected ',' or ']'"):
		return msg + " in the flow sequence opened here"
	case msg == "found unexpected end of stream":
		return "quoted string opened here is not closed (found unexpected end of stream)"
	case strings.Contains(msg, "tab character"):
		return msg + " (indent with spaces)"
	}
	return msg
}

// locate returns the byte offset in data of the problem yaml.v3 reports as
// msg, or false. See SyntaxError.
func locate(data []byte, msg string) (int, bool) {
	if len(data) > maxLocate {
		return 0, false
	}
	// A leading newline makes yaml.v3 name a line in every message (it
	// leaves it out for line 1) without changing what the text means.
	text := append([]byte("\n"), data...)
	want := parseError(text)
	if want == "" || !strings.HasSuffix(want, msg) {
		return 0, false
	}
	same := func(n int) bool { return parseError(text[:n]) == want }
	ends := lineEnds(text)
	// The first line whose end fails the same way, by bisection: a
	// prefix past the problem fails the same way.
	lo, hi := 0, len(ends)-1
	if !same(ends[hi]) {
		return 0, false
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if same(ends[mid]) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	start := 0
	if lo > 0 {
		start = ends[lo-1]
	}
	k := ends[lo]
	if len(text) <= linearScan {
		for n := start + 1; n < ends[lo]; n++ {
			if same(n) {
				k = n
				break
			}
		}
	} else {
		// A large file: bisect within the line too.
		lo, hi := start+1, ends[lo]
		for lo < hi {
			mid := (lo + hi) / 2
			if same(mid) {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		k = hi
	}
	off := k - 2 // the last byte of the prefix, less the added newline
	if off < 0 {
		return 0, false
	}
	switch {
	case strings.HasPrefix(msg, "did not find expected ',' or '}'"):
		off = opener(data, off, '{', '}')
	case strings.HasPrefix(msg, "did not find expected ',' or ']'"):
		off = opener(data, off, '[', ']')
	case strings.HasPrefix(msg, "unknown anchor"):
		if i := bytes.LastIndexByte(data[:off+1], '*'); i >= 0 {
			off = i
		}
	case strings.HasPrefix(msg, "did not find expected key"),
		strings.HasPrefix(msg, "did not find expected '-' indicator"),
		strings.HasPrefix(msg, "did not find expected node content"),
		strings.HasPrefix(msg, "found undefined tag handle"),
		strings.HasPrefix(msg, "did not find the expected '>'"):
		off = tokenStart(data, off)
	}
	return off, true
}

// tokenStart walks back from off to the start of the word it is in: the
// parser names a token by its first character, but only recognises it
// (a key, a tag) once it has read further.
func tokenStart(data []byte, off int) int {
	for off > 0 && off < len(data) && !strings.ContainsRune(" \t\r\n[]{},", rune(data[off-1])) {
		off--
	}
	return off
}

// parseError parses every document of text and returns yaml.v3's error
// message, or "" when text is well formed.
func parseError(text []byte) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(text))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return ""
		}
		if err != nil {
			return err.Error()
		}
	}
}

// lineEnds lists the offset just past each line of text (its newline
// included), the last one being len(text).
func lineEnds(text []byte) []int {
	var ends []int
	for i, c := range text {
		if c == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(text) {
		ends = append(ends, len(text))
	}
	return ends
}

// opener walks back from off to the innermost bracket open that is not
// closed before off; off when there is none.
func opener(data []byte, off int, open, close byte) int {
	depth := 0
	for i := min(off, len(data)-1); i >= 0; i-- {
		switch data[i] {
		case close:
			depth++
		case open:
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return off
}

// lineCol converts a byte offset of data to a 1-based line and column; the
// column counts characters, as yaml.v3 does.
func lineCol(data []byte, off int) (line, col int) {
	off = min(off, len(data))
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return line, 1 + utf8.RuneCount(data[start:off])
}
