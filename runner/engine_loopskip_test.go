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

// TestEngineLoopUndefinedWhen: a loop (or a looped include) over an
// undefined variable is skipped, once, when the task's when — evaluated
// without the loop variable — is false, as ansible-core 2.14's
// TaskExecutor does (it templates the loop, keeps the undefined error,
// evaluates when, and raises the loop's error only when the task is not
// skipped); a true when, a when that reads the missing item, or a value
// that is not a list still fails the task.
func TestEngineLoopUndefinedWhen(t *testing.T) {
	tests := []struct {
		name    string
		task    string
		status  Status
		err     string // in the task's error
		skipped bool   // registered skipped: true
	}{
		{"when false", `
      command: step {{ item }}
      loop: "{{ nosuch }}"
      when: false`, StatusSkipped, "", true},
		{"with_items and item is defined", `
      command: step {{ item }}
      with_items: "{{ nosuch }}"
      when: item is defined`, StatusSkipped, "", true},
		{"a looped include", `
      include_tasks: inc.yml
      loop: "{{ nosuch.list }}"
      when: nosuch is defined`, StatusSkipped, "", false},
		{"when true", `
      command: step {{ item }}
      loop: "{{ nosuch }}"
      when: true`, StatusFailed, `loop: undefined variable "nosuch"`, false},
		{"no when", `
      command: step {{ item }}
      loop: "{{ nosuch }}"`, StatusFailed, `loop: undefined variable "nosuch"`, false},
		{"when reads the item", `
      command: step {{ item }}
      loop: "{{ nosuch }}"
      when: item.x == 1`, StatusFailed, `loop: undefined variable "nosuch"`, false},
		{"not a list", `
      command: step {{ item }}
      loop: "{{ 5 }}"
      when: false`, StatusFailed, "must be a list", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			registerMemfile()
			dir := t.TempDir()
			register := "\n      register: r"
			if strings.Contains(tt.task, "include_tasks") {
				register = "" // ansible-core refuses it there
			}
			src := "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: looped" + tt.task + register +
				"\n      ignore_errors: true\n    - name: after\n      memfile: {path: /after, content: \"{{ r.skipped | default(false) }}\"}\n"
			for name, content := range map[string]string{"pb.yml": src, "inc.yml": "- command: step inside\n"} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			pb, err := playbook.Load(filepath.Join(dir, "pb.yml"), playbook.ParseOptions{Modules: modules.Names(), Check: Validate, Render: template.Render})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			inv, _ := inventory.Load("h1,")
			f := newFleet("h1")
			rec := &recorder{}
			if _, err := Run(context.Background(), pb, inv, Options{Connector: f, Observer: rec}); err != nil {
				t.Fatal(err)
			}
			r := rec.result(t, "h1", "looped", PhaseTask)
			if r.Status != tt.status || !strings.Contains(r.Error, tt.err) {
				t.Errorf("looped: %s %q, want %s %q", r.Status, r.Error, tt.status, tt.err)
			}
			if rec.ran("h1", "step inside") || rec.ran("h1", "command") {
				t.Error("an item ran")
			}
			b, _ := f.hosts["h1"].File("/after")
			if got := string(b) == "true"; got != tt.skipped {
				t.Errorf("registered skipped: %q, want %v", b, tt.skipped)
			}
		})
	}
}
