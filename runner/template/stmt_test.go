package template

import (
	"reflect"
	"strings"
	"testing"
)

// TestCheckTemplateRefuses: unknown names and unsupported statements fail
// when the template is parsed, wherever they sit, naming only filters,
// tests and lookups that exist.
func TestCheckTemplateRefuses(t *testing.T) {
	tests := []struct{ in, want string }{
		{"{% for x in xs %}{{ x | lenght }}{% endfor %}", `unknown filter "lenght"; did you mean "length"?`},
		{"{% if x is definned %}y{% endif %}", `unknown test "definned"; did you mean "defined"?`},
		{"{{ lookup('envv', 'x') }}", `unknown lookup plugin "envv"; did you mean "env"?`},
		{"{{ lookup('password', '/tmp/p') }}", `unknown lookup plugin "password"`},
		{"{{ lookup(name, 'x') }}", "must be a quoted string"},
		{"{{ rnage(3) }}", `unknown function "rnage"; did you mean "range"?`},
		{"{{ x | frobnicate }}", `unknown filter "frobnicate"`},
		{"{% include 'x.j2' %}", "template includes are not supported"},
		{"{% for x in xs %}", "{% for %} needs {% endfor %}"},
		{"{% set x %}", "expected `name = value`"},
		{"{% while x %}", "unknown statement {% while %}"},
		{"{{ x.__class__() }}", `unsupported method "__class__"`},
	}
	for _, tt := range tests {
		err := CheckTemplate(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckTemplate(%q) = %v, want %q", tt.in, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "did you mean") && strings.Contains(err.Error(), `"find"`) {
			t.Errorf("CheckTemplate(%q) suggests a filter that does not exist: %v", tt.in, err)
		}
	}
}

// TestTemplateVars lists what a template reads, without the names its own
// loops and sets bind.
func TestTemplateVars(t *testing.T) {
	got := Vars("{% set n = count %}{% for u in users if u.admin %}{{ u.name }}{{ loop.index }}{{ sep }}{{ n }}{% endfor %}")
	if want := []string{"count", "sep", "users"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Vars = %q, want %q", got, want)
	}
}

// TestRenderKeepsVars: sets and loops bind in a copy; the caller's map is
// never written, so hosts may share it.
func TestRenderKeepsVars(t *testing.T) {
	vars := testVars()
	out, err := Render("{% set count = 99 %}{% for name in ports %}{{ name }}{% endfor %}{{ count }}", vars)
	if err != nil || out != "228044399" {
		t.Fatalf("Render = %v, %v", out, err)
	}
	if vars["count"] != 5 || vars["name"] != "web1" || vars["loop"] != nil {
		t.Errorf("vars changed: count=%v name=%v loop=%v", vars["count"], vars["name"], vars["loop"])
	}
}

// secret is a Go value with a method; templates must not reach either.
type secret struct{ Token string }

func (secret) Run() string { return "ran" }

// TestNoGoInternals: a struct in the variables is opaque to templates.
func TestNoGoInternals(t *testing.T) {
	vars := map[string]any{"s": secret{Token: "t0p"}}
	for _, e := range []string{"s.Token", "s['Token']", "s.Run"} {
		if v, err := Eval(e, vars); err == nil {
			t.Errorf("Eval(%q) = %v, want a refusal", e, v)
		}
	}
	if err := Check("s.Run()"); err == nil {
		t.Error("Check(s.Run()) accepted a Go method call")
	}
}

// TestRenderNative: a template whose statements output one expression and
// no text yields that value, as Ansible's does.
func TestRenderNative(t *testing.T) {
	got, err := Render("{% if count > 3 %}{{ ports }}{% endif %}", testVars())
	if err != nil || !reflect.DeepEqual(got, []any{22, 80, 443}) {
		t.Errorf("Render = %#v, %v", got, err)
	}
}
