package template

import (
	"errors"
	"strings"
	"testing"
)

// TestRenderFile renders whole files as Ansible's template module does:
// text always (a lone {{ n }} stays text), trim_blocks, the final newline
// kept, loops and conditions over the host's variables.
func TestRenderFile(t *testing.T) {
	vars := map[string]any{"port": 8080, "hosts": []any{"a", "b"}, "on": true, "name": "web1"}
	tests := []struct{ name, in, want string }{
		{"plain text", "no template here\n", "no template here\n"},
		{"lone expression is text", "{{ port }}", "8080"},
		{"final newline kept", "listen {{ port }}\n", "listen 8080\n"},
		{"for with trim_blocks", "{% for h in hosts %}\nserver {{ h }}\n{% endfor %}\n", "server a\nserver b\n"},
		{"if and else", "{% if on %}\nyes\n{% else %}\nno\n{% endif %}\nend\n", "yes\nend\n"},
		{"comments go", "{# note #}\nx={{ name | upper }}\n", "x=WEB1\n"},
		{"set", "{% set p = port + 1 %}\n{{ p }}\n", "8081\n"},
		{"default guards undefined", "{{ missing | default('d') }}\n", "d\n"},
		{"raw", "{% raw %}{{ not rendered }}{% endraw %}\n", "{{ not rendered }}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderFile("t.j2", tt.in, vars)
			if err != nil || got != tt.want {
				t.Errorf("RenderFile(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestFileErrorLines: every error in a template file names the file and
// the line of the tag at fault — parse errors (CheckFile, before any host)
// and undefined variables when rendering, also inside loops, conditions
// and elif branches, and after multi-line text and comments.
func TestFileErrorLines(t *testing.T) {
	vars := map[string]any{"xs": []any{1}, "on": false, "port": 1}
	tests := []struct {
		name, in  string
		parse     bool // the error is found by CheckFile
		line      int
		want      string
		undefined string // the variable named, for render errors
	}{
		{"unknown filter", "a\nb\n{{ port | lenght }}\n", true, 3, `unknown filter "lenght"`, ""},
		{"unterminated", "a\n\nb {{ port \n", true, 3, "unterminated {{", ""},
		{"if without endif", "x\n{% if on %}\ny\n", true, 2, "{% if %} needs {% endif %}", ""},
		{"stray endfor", "x\ny\n{% endfor %}\n", true, 3, "without its opening statement", ""},
		{"bad elif", "{% if on %}\na\n{% elif port | nope %}\nb\n{% endif %}\n", true, 3, `unknown filter "nope"`, ""},
		{"include refused", "{# c\nc #}\n{% include 'x' %}\n", true, 3, "template includes are not supported", ""},
		{"undefined output", "line1\nline2\nport={{ prot }}\n", false, 3, `undefined variable "prot"`, "prot"},
		{"undefined in loop body", "{% for x in xs %}\n\nv={{ x }}{{ nope }}\n{% endfor %}\n", false, 3, `undefined variable "nope"`, "nope"},
		{"undefined loop list", "a\n{% for x in missing %}\n{% endfor %}\n", false, 2, `undefined variable "missing"`, "missing"},
		{"undefined elif", "{% if on %}\n{% elif other %}\n{% endif %}\n", false, 2, `undefined variable "other"`, "other"},
		{"undefined set", "\n\n\n{% set y = z + 1 %}\n", false, 4, `undefined variable "z"`, "z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckFile("conf.j2", tt.in)
			if tt.parse != (err != nil) {
				t.Fatalf("CheckFile = %v, want an error: %v", err, tt.parse)
			}
			if err == nil {
				_, err = RenderFile("conf.j2", tt.in, vars)
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FileError", err)
			}
			if fe.Name != "conf.j2" || fe.Line != tt.line || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q (line %d), want conf.j2:%d: ...%s", err, fe.Line, tt.line, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "conf.j2:") {
				t.Errorf("error %q does not start with the file", err)
			}
			var ue *UndefinedError
			if tt.undefined != "" && (!errors.As(err, &ue) || ue.Name != tt.undefined) {
				t.Errorf("error %v does not name the undefined variable %q", err, tt.undefined)
			}
		})
	}
}

// TestInlineErrorsUnchanged: a template string in a playbook's arguments
// reports its errors as before, without a line number of its own.
func TestInlineErrorsUnchanged(t *testing.T) {
	_, err := Render("a {{ nope }}", map[string]any{})
	if err == nil || err.Error() != `undefined variable "nope"` {
		t.Errorf("Render error = %v", err)
	}
}
