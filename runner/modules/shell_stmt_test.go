package modules

import (
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"tend/runner/template"
)

// TestShellStatements renders shell bodies holding Jinja statements and
// runs each script with /bin/sh: text the statements choose is code, every
// {{ }} value reaches the shell as data — a positional parameter, or the
// literal body of a quoted here-document — whatever it contains.
func TestShellStatements(t *testing.T) {
	vars := map[string]any{"hs": []any{"a b", "$(echo pwned)"}, "eof": "EOF", "x": "v"}
	for _, tc := range []struct {
		script, want, err string
	}{
		{script: "{% for h in hs %}echo {{ h }};{% endfor %}", want: "a b\n$(echo pwned)\n"},
		{script: "{% for h in hs %}printf '<%s>' {{ h }};{% endfor %}", want: "<a b><$(echo pwned)>"},
		{script: `echo "x={% for h in hs %}{{ h }},{% endfor %}"`, want: "x=a b,$(echo pwned),\n"},
		{script: "{% if x == 'v' %}echo yes{% else %}echo no{% endif %}", want: "yes\n"},
		{script: "echo '{% raw %}{{ x }}{% endraw %}'", want: "{{ x }}\n"},
		{script: "echo '{{ x }}{% if true %}{% endif %}'", err: "inside single quotes"},
		{script: "cat <<'EOF'\n{% for h in hs %}{{ h }} $HOME\n{% endfor %}EOF\n", want: "a b $HOME\n$(echo pwned) $HOME\n"},
		{script: "cat <<\"END\"\n{{ hs[1] }}\nEND\necho done", want: "$(echo pwned)\ndone\n"},
		{script: "{% if true %}{% endif %}cat <<EOF\n{{ hs[1] }} $((1+1))\nEOF\n", want: "$(echo pwned) 2\n"},
		{script: "cat <<-'EOF'\n\t{{ x }}\n\tEOF\necho \"{{ hs[0] }}\"{% set y = 1 %}", want: "v\na b\n"},
		{script: "cat <<'EOF'\n{{ eof }}\nEOF\n{% if true %}{% endif %}", err: "would end the here-document"},
		{script: "cat <<'EOF'\nx\nEOF\necho '{{ x }}'{% if true %}{% endif %}", err: "inside single quotes"},
		{script: "echo \\{{ x }}{% if true %}{% endif %}", err: "after a backslash"},
	} {
		a := Args{RenderPieces: func(s string, emit func(string, bool)) error { return template.RenderPieces(s, vars, emit) }}
		script, vals, err := renderShellStatements(a, tc.script)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.script, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.script, err)
			continue
		}
		out, err := exec.Command("/bin/sh", append([]string{"-c", script, "sh"}, vals...)...).Output()
		if err != nil || string(out) != tc.want {
			t.Errorf("%q: script %q %q printed %q (%v), want %q", tc.script, script, vals, out, err, tc.want)
		}
	}
}

// TestCommandStatements: a command line holding statements is rendered per
// host, its text split into words and each value kept one word.
func TestCommandStatements(t *testing.T) {
	vars := map[string]any{"t": true, "name": "x y; rm -rf /"}
	a := Args{RenderPieces: func(s string, emit func(string, bool)) error { return template.RenderPieces(s, vars, emit) }}
	words, err := splitStatements(a, "touch {% if t %}a{% else %}b{% endif %}-{{ name }} 'c d'")
	if want := []string{"touch", "a-x y; rm -rf /", "c d"}; err != nil || !reflect.DeepEqual(words, want) {
		t.Errorf("got %q, %v; want %q", words, err, want)
	}
}
