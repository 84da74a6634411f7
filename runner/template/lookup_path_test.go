package template

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLookupSearchPath: lookup('first_found') and lookup('file') look for
// a relative name along ansible_search_path (each directory's files/
// first), then the playbook's directory (files/ first), as ansible-core's
// path_dwim_relative_stack; never in the working directory when those are
// known.
func TestLookupSearchPath(t *testing.T) {
	pb := t.TempDir()
	role := filepath.Join(pb, "roles", "r1")
	files := map[string]string{
		"files/a.txt":                  "pb files",
		"b.txt":                        "pb dir",
		"roles/r1/files/c.txt":         "role files",
		"roles/r1/d.txt":               "role dir",
		"roles/r1/files/a.txt":         "role's a",
		"roles/r1/tasks/sub/x.yml":     "",
		"tasks/files/e.txt":            "task dir files",
		"roles/r1/tasks/sub/files/f":   "not this: a role task subdirectory looks in the role's files/",
		"roles/r1/files/f":             "role f",
		"roles/r1/tasks/g.txt":         "role tasks dir",
		"roles/r1/tasks/sub/files/g/h": "",
	}
	for name, content := range files {
		p := filepath.Join(pb, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	play := map[string]any{"playbook_dir": pb, SearchPathVar: []any{pb}}
	inRole := map[string]any{"playbook_dir": pb, "role_path": role, SearchPathVar: []any{role, filepath.Join(role, "tasks"), pb}}
	inRoleSub := map[string]any{"playbook_dir": pb, "role_path": role, SearchPathVar: []any{role, filepath.Join(role, "tasks", "sub"), pb}}
	included := map[string]any{"playbook_dir": pb, SearchPathVar: []any{filepath.Join(pb, "tasks"), pb}}
	tests := []struct {
		tmpl string
		vars map[string]any
		want string // a path under pb, or an error's text
	}{
		{"{{ lookup('first_found', ['a.txt']) }}", play, "files/a.txt"},
		{"{{ lookup('first_found', ['nope', 'b.txt']) }}", play, "b.txt"},
		{"{{ lookup('first_found', ['a.txt']) }}", inRole, "roles/r1/files/a.txt"},
		{"{{ lookup('first_found', ['c.txt']) }}", inRole, "roles/r1/files/c.txt"},
		{"{{ lookup('first_found', ['d.txt']) }}", inRole, "roles/r1/d.txt"},
		{"{{ lookup('first_found', ['b.txt']) }}", inRole, "b.txt"},
		{"{{ lookup('first_found', ['g.txt']) }}", inRole, "roles/r1/tasks/g.txt"},
		{"{{ lookup('first_found', ['f']) }}", inRoleSub, "roles/r1/files/f"},
		{"{{ lookup('first_found', ['e.txt']) }}", included, "tasks/files/e.txt"},
		{"{{ lookup('first_found', {'files': ['x.txt', 'a.txt'], 'paths': ['nowhere', '.']}) }}", play, "files/a.txt"},
		{"{{ lookup('first_found', ['" + filepath.Join(pb, "b.txt") + "']) }}", nil, "b.txt"},
		{"{{ lookup('file', 'c.txt') }}", inRole, "=role files"},
		{"{{ lookup('file', 'b.txt') }}", play, "=pb dir"},
		{"{{ lookup('first_found', ['zz.txt']) }}", play, "error:none of zz.txt exists"},
		{"{{ lookup('file', 'zz.txt') }}", play, "error:could not read zz.txt on the controller (looked in " + filepath.Join(pb, "files", "zz.txt")},
	}
	for _, tt := range tests {
		got, err := Render(tt.tmpl, tt.vars)
		switch want, _ := strings.CutPrefix(tt.want, "error:"); {
		case want != tt.want:
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, %v; want an error with %q", tt.tmpl, got, err, want)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.tmpl, err)
		case strings.HasPrefix(tt.want, "="):
			if got != tt.want[1:] {
				t.Errorf("%s = %q, want %q", tt.tmpl, got, tt.want[1:])
			}
		case got != filepath.Join(pb, tt.want):
			t.Errorf("%s = %v, want %s", tt.tmpl, got, filepath.Join(pb, tt.want))
		}
	}
}
