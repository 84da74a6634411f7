package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/runner/template"
)

// newTemplateT builds a template module as a run does (vars given) or as
// validation does (vars nil: compiled, not rendered).
func newTemplateT(playbook, args string, vars map[string]any, t *testing.T) (Module, error) {
	t.Helper()
	a := Args{Node: argsNode(t, args), File: playbook}
	if role, _, ok := strings.Cut(playbook, "/tasks/"); ok { // the runner's search path for a role's task
		a.SearchPath = []string{role, filepath.Dir(playbook), filepath.Dir(filepath.Dir(role))}
		a.BaseDir = filepath.Dir(filepath.Dir(role))
	}
	if vars != nil {
		a.RenderFile = func(name, text string) (string, error) { return template.RenderFile(name, text, vars) }
	}
	return newTemplate(a)
}

// TestTemplateArgs: the template file is found in templates/ beside the
// playbook (then beside it, then a role's templates/), compiled when the
// playbook is validated — a syntax error names the template's file:line at
// the src argument — and rendered with the host's variables, where an
// undefined variable names the file, line and variable.
func TestTemplateArgs(t *testing.T) {
	dir := t.TempDir()
	pb := filepath.Join(dir, "site.yml")
	mustWrite(t, filepath.Join(dir, "templates", "app.conf.j2"), "# app\nport={{ port }}\n", 0o644)
	mustWrite(t, filepath.Join(dir, "beside.j2"), "{{ port }}\n", 0o644)
	mustWrite(t, filepath.Join(dir, "templates", "bad.j2"), "a\nb\n{% if port %}\nc\n", 0o644)
	mustWrite(t, filepath.Join(dir, "templates", "typo.j2"), "a\n{{ port | lenght }}\n", 0o644)
	mustWrite(t, filepath.Join(dir, "templates", "undef.j2"), "a\nb\nc={{ prot }}\n", 0o644)
	roleTasks := filepath.Join(dir, "roles", "web", "tasks", "main.yml")
	roleSub := filepath.Join(dir, "roles", "web", "tasks", "pre", "x.yml")
	mustWrite(t, filepath.Join(dir, "roles", "web", "templates", "app.conf.j2"), "role {{ port }}\n", 0o644)
	mustWrite(t, filepath.Join(dir, "roles", "web", "tasks", "templates", "app.conf.j2"), "beside the task file\n", 0o644)
	vars := map[string]any{"port": 8080}

	tests := []struct {
		name, file, args string
		vars             map[string]any
		content, err     string
	}{
		{"rendered", pb, "src: app.conf.j2\ndest: /etc/app.conf", vars, "# app\nport=8080\n", ""},
		{"beside the playbook", pb, "src: beside.j2\ndest: /etc/x", vars, "8080\n", ""},
		{"role templates first", roleTasks, "src: app.conf.j2\ndest: /etc/x", vars, "role 8080\n", ""},
		{"role templates from tasks/SUB", roleSub, "src: app.conf.j2\ndest: /etc/x", vars, "role 8080\n", ""},
		{"beside the playbook from a role", roleTasks, "src: beside.j2\ndest: /etc/x", vars, "8080\n", ""},
		{"validation compiles only", pb, "src: app.conf.j2\ndest: /etc/x", nil, "# app\nport={{ port }}\n", ""},
		{"syntax error at validation", pb, "src: bad.j2\ndest: /etc/x", nil, "",
			"site.yml:1:6: template: " + filepath.Join(dir, "templates", "bad.j2") + ":3: {% if %} needs {% endif %}"},
		{"unknown filter at validation", pb, "src: typo.j2\ndest: /etc/x", nil, "",
			"typo.j2:2: invalid expression \"port | lenght\": unknown filter \"lenght\"; did you mean \"length\"?"},
		{"undefined variable on the host", pb, "dest: /etc/x\nsrc: undef.j2", vars, "",
			"site.yml:2:6: template: " + filepath.Join(dir, "templates", "undef.j2") + `:3: undefined variable "prot"`},
		{"missing src", pb, "src: nope.j2\ndest: /etc/x", vars, "", `src "nope.j2" not found (looked in ` + filepath.Join(dir, "templates", "nope.j2")},
		{"src required", pb, "dest: /etc/x", vars, "", "src is required"},
		{"content refused", pb, "src: app.conf.j2\ndest: /etc/x\ncontent: x", vars, "", "content"},
		{"templated src waits", pb, "src: \"{{ name }}.j2\"\ndest: /etc/x", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := newTemplateT(tt.file, tt.args, tt.vars, t)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.content != "" && string(m.(*copyModule).content) != tt.content {
				t.Errorf("content %q, want %q", m.(*copyModule).content, tt.content)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "templates")); err != nil {
		t.Fatal(err)
	}
}
