package searchpath

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestStack: the candidates follow ansible-core's path_dwim_relative_stack
// for each kind of search path entry: a role's directory and the
// directory of a task file (its subdir/ then itself), the basedir last,
// no subdir/ when the source already starts with it, a directory that is
// a role's tasks/SUB taken as the role's, absolute and ~ sources alone.
func TestStack(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"roles/r/tasks/main.yml", "roles/q/tasks/tasks/main.yml"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	home, _ := os.UserHomeDir()
	r := "R/roles/r"
	tests := []struct {
		name           string
		stack          []string
		subdir, source string
		want           []string
	}{
		{"playbook task", []string{"R"}, "files", "a.txt",
			[]string{"R/files/a.txt", "R/a.txt"}},
		{"role task", []string{r, r + "/tasks", "R"}, "templates", "t.j2",
			[]string{r + "/templates/t.j2", r + "/t.j2", r + "/tasks/templates/t.j2", r + "/tasks/t.j2", "R/templates/t.j2", "R/t.j2"}},
		{"a subdirectory of tasks/", []string{r, r + "/tasks/pre", "R"}, "files", "c",
			[]string{r + "/files/c", r + "/c", r + "/tasks/pre/files/c", r + "/tasks/pre/c", "R/files/c", "R/c"}},
		{"dependency chain", []string{"R/roles/dep", r, r + "/tasks", "R"}, "files", "c",
			[]string{"R/roles/dep/files/c", "R/roles/dep/c", r + "/files/c", r + "/c", r + "/tasks/files/c", r + "/tasks/c", "R/files/c", "R/c"}},
		{"source names the subdir", []string{r, "R"}, "files", "files/c",
			[]string{r + "/files/c", "R/files/c"}},
		{"a role's tasks/tasks is the role's", []string{"R/roles/q/tasks/tasks"}, "files", "c",
			[]string{"R/roles/q/files/c", "R/roles/q/tasks/c", "R/files/c", "R/c"}},
		{"absolute", []string{r}, "files", "/etc/x", []string{"/etc/x"}},
		{"home", []string{r}, "files", "~/x", []string{filepath.Join(home, "x")}},
	}
	abs := func(l []string) []string {
		var out []string
		for _, p := range l {
			out = append(out, strings.Replace(p, "R", dir, 1))
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if !filepath.IsAbs(tt.source) && !strings.HasPrefix(tt.source, "~") {
				want = abs(want)
			}
			got := Stack(abs(tt.stack), dir, tt.subdir, tt.source)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}
