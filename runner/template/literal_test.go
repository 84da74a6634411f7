package template

import (
	"reflect"
	"testing"
)

// TestConvertText pins Ansible's reading of rendered text as a Python
// literal (ansible_eval_concat): only text starting with [ or {, or exactly
// True/False, and only a whole, valid literal.
func TestConvertText(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"[1, 2]", []any{1, 2}},
		{"[1, 2,]", []any{1, 2}},
		{"[1, 2] ", []any{1, 2}},
		{" [1, 2]", " [1, 2]"},
		{"True", true},
		{"False", false},
		{"true", "true"},
		{"[true, null, None]", []any{true, nil, nil}},
		{"{'a': [1.5, -2], \"b\": 'x'}", map[string]any{"a": []any{1.5, -2}, "b": "x"}},
		{"['a' 'b']", []any{"ab"}},
		{`['it\'s', "\x41\u00e9", r'\d']`, []any{"it's", "Aé", `\d`}},
		{"[0x1F, 0o17, 0b11, 1_000, 1e3, .5]", []any{31, 15, 3, 1000, 1000.0, 0.5}},
		{"[(1, 2), ()]", []any{[]any{1, 2}, []any{}}},
		{"[a]", "[a]"},
		{"[1, 2", "[1, 2"},
		{"[1] x", "[1] x"},
		{"{1, 2}", "{1, 2}"},
		{"{1: 2}", "{1: 2}"},
		{"[-inf]", "[-inf]"},
		{"[1j]", "[1j]"},
		{"[1__0]", "[1__0]"},
		{"['''a''']", "['''a''']"},
		{"[b'x']", "[b'x']"},
		{"[1 + 2]", "[1 + 2]"},
	}
	for _, tt := range tests {
		if got := convertText(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("convertText(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

// TestRenderPieces: text and values come apart, in order, through loops
// and conditions.
func TestRenderPieces(t *testing.T) {
	type piece struct {
		text  string
		value bool
	}
	var got []piece
	err := RenderPieces("a{% for p in ports %}{% if p > 22 %}<{{ p }}>{% endif %}{% endfor %}{{ name }}", testVars(),
		func(text string, value bool) { got = append(got, piece{text, value}) })
	if err != nil {
		t.Fatal(err)
	}
	want := []piece{{"a", false}, {"<", false}, {"80", true}, {">", false}, {"<", false}, {"443", true}, {">", false}, {"web1", true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pieces = %v, want %v", got, want)
	}
	if err := RenderPieces("{{ missing }}", testVars(), func(string, bool) {}); err == nil {
		t.Error("an undefined variable rendered")
	}
}
