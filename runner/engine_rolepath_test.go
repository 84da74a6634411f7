package runner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/inventory"
	"tend/runner/modules"
	"tend/runner/playbook"
	"tend/runner/template"
)

// TestEngineRoleHandlerInclude: a role's handler that includes
// tasks/restart.yml finds it from the role's root, as ansible-playbook
// does (not in handlers/tasks/ nor beside the playbook), and runs it when
// notified; a merge key (<<) in a task gives its keys, the task's own
// winning.
func TestEngineRoleHandlerInclude(t *testing.T) {
	files := map[string]string{
		"pb.yml": `- hosts: all
  gather_facts: false
  roles: [r]
`,
		"roles/r/tasks/main.yml": `- name: base
  memfile: &m {path: /m1, content: base}
  notify: restart
- name: merged
  memfile:
    <<: *m
    path: /m2
`,
		"roles/r/tasks/restart.yml": "- name: write\n  memfile: {path: /restarted, content: 'yes'}\n",
		"roles/r/handlers/main.yml": "- name: restart\n  include_tasks: tasks/restart.yml\n",
	}
	pb, _ := loadTree(t, files)
	inv, _ := inventory.Load("h1,")
	f := newFleet("h1")
	sum, err := Run(context.Background(), pb, inv, Options{Connector: f, Observer: &recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sum.Err(); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/restarted": "yes", "/m1": "base", "/m2": "base"} {
		if b, _ := f.hosts["h1"].File(path); string(b) != want {
			t.Errorf("%s = %q, want %q", path, b, want)
		}
	}
}

// TestEngineRoleSourceFiles: the template and copy sources of a role's
// task file kept in a subdirectory of tasks/ are found in the role's
// templates/ and files/ when the playbook is validated; when missing, the
// error lists where they were looked for in ansible-core's order (the
// role's subdir/ and directory, the task file's directory's, the
// playbook's).
func TestEngineRoleSourceFiles(t *testing.T) {
	files := map[string]string{
		"pb.yml":                  "- hosts: all\n  gather_facts: false\n  roles: [r]\n",
		"roles/r/tasks/main.yml":  "- import_tasks: pre/x.yml\n",
		"roles/r/tasks/pre/x.yml": "- template: {src: t.j2, dest: /t.txt}\n- copy: {src: c.txt, dest: /c.txt}\n",
		"roles/r/templates/t.j2":  "{{ role_name }}\n",
		"roles/r/files/c.txt":     "c\n",
	}
	loadTree(t, files) // fails the test when a source is not found

	delete(files, "roles/r/templates/t.j2")
	delete(files, "roles/r/files/c.txt")
	dir := t.TempDir()
	for name, content := range files {
		writeTestFile(t, filepath.Join(dir, name), content)
	}
	_, err := playbook.Load(filepath.Join(dir, "pb.yml"), playbook.ParseOptions{Modules: modules.Names(), Check: Validate, Render: template.Render})
	r, pre := filepath.Join(dir, "roles/r"), filepath.Join(dir, "roles/r/tasks/pre")
	for _, want := range []string{
		`src "t.j2" not found (looked in ` + strings.Join([]string{r + "/templates/t.j2", r + "/t.j2", pre + "/templates/t.j2", pre + "/t.j2", dir + "/templates/t.j2", dir + "/t.j2"}, ", ") + ")",
		`src "c.txt" not found (looked in ` + strings.Join([]string{r + "/files/c.txt", r + "/c.txt", pre + "/files/c.txt", pre + "/c.txt", dir + "/files/c.txt", dir + "/c.txt"}, ", ") + ")",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v\nwant %s", err, want)
		}
	}
}

// writeTestFile writes content at path, making its directories.
func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
