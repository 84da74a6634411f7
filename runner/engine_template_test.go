package runner

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"tend/inventory"
	"tend/runner/modules"
	"tend/runner/playbook"
)

// TestEngineTemplateFaults (faults.md row 44): a template file with a
// syntax error fails validation, naming the template's file:line, before
// any host is contacted; one with an undefined variable fails the task on
// every host, naming file:line and the variable, and nothing is written
// on any host.
func TestEngineTemplateFaults(t *testing.T) {
	dir := t.TempDir()
	pbFile := filepath.Join(dir, "site.yml")
	write := func(name, s string) {
		t.Helper()
		p := filepath.Join(dir, "templates", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("syntax.j2", "a\n{% for x in xs %}\n{{ x }}\n")
	write("undef.j2", "# app\nport={{ app_prot }}\n")
	parse := func(src string) *playbook.Playbook {
		t.Helper()
		pb, err := playbook.Parse(pbFile, []byte(src), playbook.ParseOptions{Modules: modules.Names()})
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		return pb
	}

	err := Validate(parse("- hosts: all\n  tasks:\n    - template: {src: syntax.j2, dest: /etc/app.conf}\n"))
	want := pbFile + ":3:23: tasks[0].template: " + filepath.Join(dir, "templates", "syntax.j2") + ":2: {% for %} needs {% endfor %}"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Validate = %v\nwant %s", err, want)
	}

	f := newFleet("h1", "h2")
	f.hosts["h1"].SetFile("/etc/app.conf", []byte("old\n"))
	before := map[string]map[string][]byte{}
	for n, h := range f.hosts {
		before[n] = h.Files()
	}
	pb := parse("- hosts: all\n  gather_facts: false\n  vars: {app_port: 80}\n  tasks:\n    - name: conf\n      template: {src: undef.j2, dest: /etc/app.conf}\n")
	if err := Validate(pb); err != nil {
		t.Fatalf("an undefined variable is not a validation error: %v", err)
	}
	inv, err := inventory.Load("h1,h2,")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	sum, err := Run(context.Background(), pb, inv, Options{Connector: f, Observer: rec})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, n := range f.names {
		r := rec.result(t, n, "conf", PhaseTask)
		if want := "undef.j2:2: undefined variable \"app_prot\""; r.Status != StatusFailed || !strings.Contains(r.Error, want) {
			t.Errorf("%s: %s %q, want failed naming %s", n, r.Status, r.Error, want)
		}
		if got := f.hosts[n].Files(); !reflect.DeepEqual(got, before[n]) {
			t.Errorf("%s: files changed: %q", n, got)
		}
		for _, c := range f.hosts[n].Calls() {
			if strings.Contains(strings.Join(c.Argv, " "), "app.conf") {
				t.Errorf("%s: the host was touched: %q", n, c.Argv)
			}
		}
	}
	if len(sum.Failed) != 2 {
		t.Errorf("failed hosts %v, want both", sum.Failed)
	}
}
