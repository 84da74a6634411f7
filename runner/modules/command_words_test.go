package modules

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"tend/runner/template"
)

// TestCommandWords pins how a command line becomes argv: a template is one
// argument wherever it stands, except a whole unquoted first word (the
// program), whose value is split into words like a command line — with no
// shell, so a ";" or "$(...)" in any value is an argument, never syntax.
func TestCommandWords(t *testing.T) {
	vars := map[string]any{
		"kubectl":  "/usr/bin/kubectl --context prod",
		"restart":  "/etc/init.d/activemq restart",
		"evil":     "echo a; touch /tmp/pwned $(id)",
		"quoted":   `printf "%s|" 'a b'`,
		"name":     "a b; rm -rf /",
		"blank":    "  ",
		"unclosed": `echo "a`,
	}
	for _, tc := range []struct {
		line string
		want []string
		err  string
	}{
		{line: "{{ kubectl }} get nodes", want: []string{"/usr/bin/kubectl", "--context", "prod", "get", "nodes"}},
		{line: "{{ restart }}", want: []string{"/etc/init.d/activemq", "restart"}},
		{line: "  {{ restart }}", want: []string{"/etc/init.d/activemq", "restart"}},
		{line: "{{ evil }}", want: []string{"echo", "a;", "touch", "/tmp/pwned", "$(id)"}},
		{line: "{{ quoted }} x", want: []string{"printf", "%s|", "a b", "x"}},
		// anywhere else a value stays one argument
		{line: "echo {{ name }}", want: []string{"echo", "a b; rm -rf /"}},
		{line: "echo {{ kubectl }} x", want: []string{"echo", "/usr/bin/kubectl --context prod", "x"}},
		// a quoted first word, or a template that is only part of it, is one word
		{line: `"{{ restart }}" now`, want: []string{"/etc/init.d/activemq restart", "now"}},
		{line: "{{ restart }}.sh now", want: []string{"/etc/init.d/activemq restart.sh", "now"}},
		{line: "{{ restart }}{{ name }}", want: []string{"/etc/init.d/activemq restarta b; rm -rf /"}},
		{line: "{{ blank }} x", err: "renders to nothing"},
		{line: "{{ unclosed }}", err: "cannot be split into words"},
	} {
		a := Args{File: "play.yml", Node: &yaml.Node{Kind: yaml.ScalarNode, Value: tc.line, Line: 3, Column: 5},
			Render: func(s string) (any, error) { return template.Render(s, vars) }}
		words, err := splitTemplated(a, tc.line)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(words, tc.want) {
			t.Errorf("%q: got %q, %v; want %q", tc.line, words, err, tc.want)
		}
	}
}
