package playbook

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestBlockParse: a block holds its three lists, and its keywords reach
// every task inside, nested blocks and rescue/always included: when
// ANDed before the task's own, vars under the task's, tags added,
// become/become_user/ignore_errors where the task sets none (an inner
// block's own setting wins over an outer block's).
func TestBlockParse(t *testing.T) {
	const src = `- hosts: all
  tasks:
    - name: outer
      when: a
      vars: {x: outer, y: outer}
      tags: [t1]
      become: true
      become_user: app
      ignore_errors: true
      block:
        - name: one
          command: one
          when: b
          vars: {x: task}
        - block:
            - name: two
              command: two
          ignore_errors: false
          when: c
      rescue:
        - name: r
          command: r
          become: false
      always:
        - name: a
          command: a
`
	pb, err := Parse("pb.yml", []byte(src), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tasks := pb.Plays[0].Tasks
	if len(tasks) != 1 || tasks[0].Block == nil || tasks[0].Module != "block" {
		t.Fatalf("tasks = %+v, want one block", tasks)
	}
	b := tasks[0].Block
	if len(b.Tasks) != 2 || len(b.Rescue) != 1 || len(b.Always) != 1 || b.Tasks[1].Block == nil {
		t.Fatalf("block lists %d/%d/%d, want 2/1/1 with a nested block", len(b.Tasks), len(b.Rescue), len(b.Always))
	}
	one, two, r, a := b.Tasks[0], b.Tasks[1].Block.Tasks[0], b.Rescue[0], b.Always[0]
	tests := []struct {
		name      string
		got, want any
	}{
		{"one when", one.When, []string{"a", "b"}},
		{"one vars", one.Vars, map[string]any{"x": "task", "y": "outer"}},
		{"one tags", one.Tags, []string{"t1"}},
		{"one become", *one.Become, true},
		{"one become_user", one.BecomeUser, "app"},
		{"one ignore_errors", one.IgnoreErrors, true},
		{"two when", two.When, []string{"a", "c"}},
		{"two ignore_errors (inner block)", two.IgnoreErrors, false},
		{"two vars", two.Vars, map[string]any{"x": "outer", "y": "outer"}},
		{"r become (its own)", *r.Become, false},
		{"r when", r.When, []string{"a"}},
		{"a when", a.When, []string{"a"}},
		{"flatten", len(Flatten(tasks)), 6},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}
}

// TestBlockParseErrors: a block's bad keys are refused at their place.
func TestBlockParseErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"task keyword on a block", "- hosts: a\n  tasks:\n    - block: []\n      register: x\n", "pb.yml:4:7: tasks[0].register: block keyword is not supported by tend"},
		{"module beside block", "- hosts: a\n  tasks:\n    - block: []\n      command: x\n", "pb.yml:4:7: tasks[0].command: unknown block keyword \"command\""},
		{"typo", "- hosts: a\n  tasks:\n    - block: []\n      rescu: []\n", "did you mean \"rescue\"?"},
		{"rescue without block", "- hosts: a\n  tasks:\n    - rescue: []\n", "pb.yml:3:7: tasks[0].rescue: task keyword is not supported by tend"},
		{"block in handlers", "- hosts: a\n  handlers:\n    - block: []\n", "pb.yml:3:7: handlers[0]: block is not supported in handlers by tend"},
		{"bad task inside", "- hosts: a\n  tasks:\n    - block:\n        - when: x\n", "pb.yml:4:11: tasks[0].block[0]: task has no module"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("pb.yml", []byte(tt.src), ParseOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestBlockInIncludedFile: a block in an included task file and in a
// role's tasks is read as one; the include keeps its when (evaluated once,
// for the include), which does not reach its tasks.
func TestBlockInIncludedFile(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"site.yml": `- hosts: all
  roles: [r]
  tasks:
    - include_tasks: inc.yml
      when: inc
`,
		"inc.yml": `- block:
    - name: in inc
      command: x
  rescue:
    - name: inc rescue
      command: y
`,
		"roles/r/tasks/main.yml": `- block:
    - name: in role
      command: x
  always:
    - name: role always
      command: y
`,
	}
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pb, err := Load(filepath.Join(dir, "site.yml"), reuseOpts)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Task{}
	for _, task := range Flatten(pb.Plays[0].Tasks) {
		byName[task.Name] = task
	}
	for _, n := range []string{"in inc", "inc rescue", "in role", "role always"} {
		if byName[n] == nil {
			t.Fatalf("task %q not found in %v", n, byName)
		}
	}
	if w := pb.Plays[0].Tasks[len(pb.Plays[0].Tasks)-1].When; !reflect.DeepEqual(w, []string{"inc"}) {
		t.Errorf("include when = %v, want [inc]", w)
	}
	if w := byName["inc rescue"].When; len(w) != 0 {
		t.Errorf("inc rescue when = %v, want none", w)
	}
	if w := byName["role always"].When; len(w) != 0 {
		t.Errorf("role always when = %v, want none", w)
	}
}
