package template

import "testing"

// TestElidedLiterals: JSON literals stay, text in backticks becomes the
// JSON string Python's jmespath reads it as, quoted parts are untouched.
func TestElidedLiterals(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"[?n > `1`]", "[?n > `1`]"},
		{"[?name == `web1`]", "[?name == `\"web1\"`]"},
		{"[?shell == `/bin/sh`].name", "[?shell == `\"/bin/sh\"`].name"},
		{"[?name == `  padded`]", "[?name == `\"padded\"`]"},
		{"[?tags == `[\"a\"]`]", "[?tags == `[\"a\"]`]"},
		{"[?x == `\"quoted\"`]", "[?x == `\"quoted\"`]"},
		{"[?a == 'raw `x` text']", "[?a == 'raw `x` text']"},
		{"\"odd `key`\".v", "\"odd `key`\".v"},
		{"[?a == `x\\`y`]", "[?a == `\"x\\`y\"`]"},
		{"[?a == `unterminated", "[?a == `unterminated"},
	} {
		if got := elidedLiterals(tc.in); got != tc.want {
			t.Errorf("elidedLiterals(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestJSONQueryNumbers: integers stay integers through go-jmespath's
// float64 arithmetic; fractions stay floats.
func TestJSONQueryNumbers(t *testing.T) {
	vars := map[string]any{"d": map[string]any{"xs": []any{1, 2, 3}, "f": 2.5}}
	for tmpl, want := range map[string]string{
		"{{ d | json_query('xs') | to_json }}":           "[1, 2, 3]",
		"{{ d | json_query('sum(xs)') | to_json }}":      "6",
		"{{ d | json_query('f') | to_json }}":            "2.5",
		"{{ d | json_query('xs[?@ > `1`]') | to_json }}": "[2, 3]",
	} {
		got, err := Render(tmpl, vars)
		if err != nil || got != want {
			t.Errorf("%s = %#v, %v; want %q", tmpl, got, err, want)
		}
	}
}
