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

// TestEngineRole: a role's defaults, vars, role_name and handlers work
// when its tasks run; include_vars gives the host its variables for the
// tasks after it, above the play's vars; the inventory beats defaults.
func TestEngineRole(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"pb.yml": `- hosts: all
  vars: {later: from play vars}
  roles: [motd]
  tasks:
    - include_vars: v.yml
    - name: after
      memfile: {path: /etc/after, content: "{{ later }}"}
`,
		"v.yml":                        "later: from include_vars\n",
		"roles/motd/defaults/main.yml": "greeting: hello\npath: /etc/motd\n",
		"roles/motd/vars/main.yml":     "suffix: \"!\"\n",
		"roles/motd/tasks/main.yml": `- name: motd
  memfile: {path: "{{ path }}", content: "{{ greeting }}{{ suffix }} {{ role_name }}"}
  notify: reload motd
`,
		"roles/motd/handlers/main.yml": `- name: reload motd
  memfile: {path: /etc/reloaded, content: "{{ greeting }}"}
`,
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	registerMemfile()
	pb, err := playbook.Load(filepath.Join(dir, "pb.yml"), playbook.ParseOptions{Modules: modules.Names(), Check: Validate, Render: template.Render})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	f := newFleet("h1", "h2")
	inv, err := inventory.Load("h1,h2,")
	if err != nil {
		t.Fatal(err)
	}
	// h2's inventory vars beat the role's defaults.
	h2, _ := inv.Host("h2")
	h2.Vars["greeting"] = "hi"
	sum, err := Run(context.Background(), pb, inv, Options{Connector: f, Observer: &recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Failed) > 0 {
		t.Fatalf("failed: %v", sum.Err())
	}
	for host, want := range map[string]map[string]string{
		"h1": {"/etc/motd": "hello! motd", "/etc/reloaded": "hello", "/etc/after": "from include_vars"},
		"h2": {"/etc/motd": "hi! motd", "/etc/reloaded": "hi", "/etc/after": "from include_vars"},
	} {
		for path, content := range want {
			if got, _ := f.hosts[host].File(path); string(got) != content {
				t.Errorf("%s:%s = %q, want %q", host, path, got, content)
			}
		}
	}
}

// Module arguments in an imported file are checked, and fail at run time,
// with positions in that file, not the playbook's.
func TestEngineImportedPositions(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	registerMemfile()
	opts := playbook.ParseOptions{Modules: modules.Names(), Check: Validate, Render: template.Render}
	write("pb.yml", "- hosts: all\n  tasks:\n    - import_tasks: t.yml\n")
	write("t.yml", "- name: bad\n  memfile: {content: x}\n")
	if _, err := playbook.Load(filepath.Join(dir, "pb.yml"), opts); err == nil || !strings.Contains(err.Error(), "t.yml:2:") || strings.Contains(err.Error(), "pb.yml") {
		t.Errorf("parse error %v, want it in t.yml", err)
	}
	write("t.yml", "- name: bad\n  memfile: {path: \"{{ empty }}\", content: x}\n  vars: {empty: \"\"}\n")
	pb, err := playbook.Load(filepath.Join(dir, "pb.yml"), opts)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load("h1,")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if _, err := Run(context.Background(), pb, inv, Options{Connector: newFleet("h1"), Observer: rec}); err != nil {
		t.Fatal(err)
	}
	if res := rec.result(t, "h1", "bad", PhaseTask); !strings.Contains(res.Error, "t.yml:2:") || strings.Contains(res.Error, "pb.yml") {
		t.Errorf("run-time error %q, want it in t.yml", res.Error)
	}
}
