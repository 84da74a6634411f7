package runner

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tend/internal/memhost"
	"tend/inventory"
	"tend/runner/modules"
	"tend/runner/playbook"
	"tend/runner/template"
)

// TestEngineRunOnceInLoopedInclude: a run_once task brought in by a
// looped include_tasks runs once per item (on one host of the batch), as
// ansible-playbook runs each item's included file as a file of its own;
// hosts sharing an item, by value (mappings too), share its run; the
// other tasks run on every host for every item.
func TestEngineRunOnceInLoopedInclude(t *testing.T) {
	tests := []struct {
		name  string
		loop  string
		once  []string // the run_once task's runs, by item, across the hosts
		every int      // runs of the other task, across the hosts
	}{
		{"scalars", "[a, b]", []string{"once a", "once b"}, 4},
		{"mappings", "[{n: a}, {n: b}, {n: c}]", []string{"once a", "once b", "once c"}, 6},
		{"no loop", "", []string{"once x"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			registerMemfile()
			dir := t.TempDir()
			inc := "    - include_tasks: inc.yml\n"
			if tt.loop != "" {
				inc += "      loop: " + tt.loop + "\n"
			} else {
				inc += "      vars: {item: x}\n"
			}
			files := map[string]string{
				"pb.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n" + inc,
				"inc.yml": `- name: once
  command: step once {{ item.n | default(item) }}
  run_once: true
- name: every
  command: step every
`,
			}
			for name, content := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			pb, err := playbook.Load(filepath.Join(dir, "pb.yml"), playbook.ParseOptions{Modules: modules.Names(), Check: Validate, Render: template.Render})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			inv, _ := inventory.Load("h1,h2,")
			f := newFleet("h1", "h2")
			f.handle(memhost.Argv("step"), exits(0))
			rec := &recorder{}
			sum, err := Run(context.Background(), pb, inv, Options{Connector: f, Observer: rec})
			if err != nil {
				t.Fatal(err)
			}
			if err := sum.Err(); err != nil {
				t.Fatal(err)
			}
			var once []string
			every := 0
			for _, h := range f.hosts {
				for _, c := range h.Calls() {
					switch args := strings.Join(c.Argv, " "); {
					case strings.HasPrefix(args, "step once"):
						once = append(once, strings.TrimPrefix(args, "step "))
					case args == "step every":
						every++
					}
				}
			}
			slices.Sort(once)
			if !slices.Equal(once, tt.once) || every != tt.every {
				t.Errorf("run_once ran %q, every ran %d times; want %q, %d", once, every, tt.once, tt.every)
			}
		})
	}
}
