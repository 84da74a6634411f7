package template

import "testing"

// TestRefusalText pins the exact text of every refusal of an expression or
// a template, so a message cannot carry a slip (a %% printed as is, a hint
// naming a filter or method tend does not have).
func TestRefusalText(t *testing.T) {
	exprs := []struct{ src, want string }{
		{"{% if x %}", `invalid expression "{% if x %}": Jinja statements ({% ... %}) are not supported`},
		{"{{ x }} == 1", `invalid expression "{{ x }} == 1": an expression cannot contain {{ }}; write the expression itself`},
		{"", `invalid expression "": empty expression`},
		{"| int", `invalid expression "| int": filter | without a value before it`},
		{"is defined", `invalid expression "is defined": test 'is' without a value before it`},
		{"(x", `invalid expression "(x": missing ")"`},
		{"x.", `invalid expression "x.": expected a name after "."`},
		{"x | ", `invalid expression "x | ": expected a filter name after "|"`},
		{"x | lenght", `invalid expression "x | lenght": unknown filter "lenght"; did you mean "length"?`},
		{"x | frobnicate", `invalid expression "x | frobnicate": unknown filter "frobnicate"`},
		{"x is definned", `invalid expression "x is definned": unknown test "definned"; did you mean "defined"?`},
		{"x.encode('a')", `invalid expression "x.encode('a')": unsupported method "encode"`},
		{"x.Lower()", `invalid expression "x.Lower()": unsupported method "Lower"; did you mean .lower()?`},
		{"x.strp()", `invalid expression "x.strp()": unsupported method "strp"; did you mean .strip()?`},
		{"x.to_json()", `invalid expression "x.to_json()": unsupported method "to_json"; use the filter | to_json`},
		{"x.reverse()", `invalid expression "x.reverse()": unsupported method "reverse"; use the filter | reverse`},
		{"'abc", `invalid expression "'abc": unterminated string starting 'abc`},
	}
	for _, tt := range exprs {
		err := Check(tt.src)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Check(%q)\n got: %v\nwant: %s", tt.src, err, tt.want)
		}
	}
	templates := []struct{ src, want string }{
		{"{% if x %}y", `{% if %} needs {% endif %}, found the end of the template`},
		{"{% macro m() %}{% endmacro %}", `{% macro %}: macros are not supported in tend templates; use {% if %}, {% for %} and {% set %}`},
		{"a {{ x", `unterminated {{ in "{{ x"`},
		{"a {{ }}", `empty {{ }} in "a {{ }}"`},
		{"{{ x | lenght }}", `invalid expression "x | lenght": unknown filter "lenght"; did you mean "length"?`},
	}
	for _, tt := range templates {
		err := CheckTemplate(tt.src)
		if err == nil || err.Error() != tt.want {
			t.Errorf("CheckTemplate(%q)\n got: %v\nwant: %s", tt.src, err, tt.want)
		}
	}
}
