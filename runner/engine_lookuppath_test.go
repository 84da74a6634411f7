package runner

import (
	"context"
	"path/filepath"
	"testing"

	"tend/inventory"
)

// TestEngineLookupSearchPath: a task's lookup('first_found') and
// lookup('file') find relative names where ansible-playbook does — the
// role's files/ and directory for a role's task, the included file's
// directory, then the playbook's files/ and directory — whatever the
// working directory (the test runs in runner/, where none of them is).
func TestEngineLookupSearchPath(t *testing.T) {
	files := map[string]string{
		"pb.yml": `- hosts: all
  gather_facts: false
  roles: [r1]
  tasks:
    - memfile: {path: /play, content: "{{ lookup('first_found', ['c.txt', 'a.txt']) | basename }}"}
    - include_tasks: tasks/inc.yml
`,
		"roles/r1/tasks/main.yml": `- memfile: {path: /role, content: "{{ lookup('first_found', ['c.txt']) }} {{ lookup('file', 'd.txt') }}"}
`,
		"tasks/inc.yml": `- memfile: {path: /inc, content: "{{ lookup('first_found', ['e.txt']) | basename }} {{ lookup('file', 'b.txt') }}"}
`,
		"files/a.txt":          "pb files",
		"b.txt":                "pb dir",
		"roles/r1/files/c.txt": "role files",
		"roles/r1/d.txt":       "role dir",
		"tasks/files/e.txt":    "inc files",
	}
	pb, dir := loadTree(t, files)
	inv, _ := inventory.Load("h1,")
	f := newFleet("h1")
	sum, err := Run(context.Background(), pb, inv, Options{Connector: f, Observer: &recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sum.Err(); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/play": "a.txt",
		"/role": filepath.Join(dir, "roles/r1/files/c.txt") + " role dir",
		"/inc":  "e.txt pb dir",
	} {
		if b, _ := f.hosts["h1"].File(path); string(b) != want {
			t.Errorf("%s = %q, want %q", path, b, want)
		}
	}
}
