package runner

import (
	"context"
	"testing"

	"tend/internal/memhost"
	"tend/inventory"
)

// TestEngineImportDelegation: delegate_to and delegate_facts on
// import_role, import_tasks and a roles: entry reach the tasks they bring
// in, as ansible-core's inherited Task and Role keywords; a task's own
// delegate_to wins.
func TestEngineImportDelegation(t *testing.T) {
	files := map[string]string{
		"pb.yml": `
- hosts: h1
  gather_facts: false
  roles:
    - role: r
      delegate_to: h2
  tasks:
    - import_role: {name: r}
      delegate_to: h2
    - import_tasks: t.yml
      delegate_to: h2
    - import_role: {name: own}
      delegate_to: h2
    - import_role: {name: facts}
      delegate_to: h2
      delegate_facts: true
- hosts: h2
  gather_facts: false
  tasks:
    - name: delegated fact
      assert: {that: "given == 'blue'"}
`,
		"roles/r/tasks/main.yml":     "- name: probe\n  command: probe\n",
		"t.yml":                      "- name: probe\n  command: probe\n",
		"roles/own/tasks/main.yml":   "- name: own\n  command: probe\n  delegate_to: h1\n",
		"roles/facts/tasks/main.yml": "- set_fact: {given: blue}\n",
	}
	pb, _ := loadTree(t, files)
	inv, _ := inventory.Load("h1,h2,")
	f := newFleet("h1", "h2")
	f.handle(memhost.Argv("probe"), exits(0))
	rec := &recorder{}
	if _, err := Run(context.Background(), pb, inv, Options{Connector: f, Observer: rec}); err != nil {
		t.Fatal(err)
	}
	if n := f.hosts["h2"].Ran(memhost.Argv("probe")); n != 3 {
		t.Errorf("probe ran %d times on h2, want 3 (role entry, import_role, import_tasks)", n)
	}
	if n := f.hosts["h1"].Ran(memhost.Argv("probe")); n != 1 {
		t.Errorf("probe ran %d times on h1, want 1 (the task's own delegate_to)", n)
	}
	if r := rec.result(t, "h2", "delegated fact", PhaseTask); r.Status != StatusOK {
		t.Errorf("h2 lacks the delegated fact: %s %s", r.Status, r.Error)
	}
}
