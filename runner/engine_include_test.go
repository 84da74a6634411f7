package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tend/inventory"
	"tend/runner/modules"
	"tend/runner/playbook"
	"tend/runner/template"
)

// TestEngineDynamicInclude: an include_tasks or include_role evaluates its
// when once, when it runs (a task it brought in that changes the variable
// does not skip the next), while import_tasks gives its when to each task;
// a false when skips the include once; its tags select the include, its
// tasks by their own; apply: gives keywords to the tasks. Each expected
// list is what ansible-playbook 2.14 shows (TASK name: status).
func TestEngineDynamicInclude(t *testing.T) {
	inc := `- name: flip
  set_fact: {go: false}
- name: after
  debug: {msg: after}
`
	tests := []struct {
		name       string
		tasks      string
		only, skip []string
		want       []string
	}{
		{"include when once", "    - name: inc\n      include_tasks: inc.yml\n      when: go\n",
			nil, nil, []string{"inc: ok", "flip: ok", "after: ok"}},
		{"include_role when once", "    - include_role: {name: r}\n      when: go\n",
			nil, nil, []string{"flip: ok", "after: ok"}},
		{"import when per task", "    - import_tasks: inc.yml\n      when: go\n",
			nil, nil, []string{"flip: ok", "after: skipped"}},
		{"false when skips the include once", "    - name: inc\n      include_tasks: inc.yml\n      when: not go\n    - include_role: {name: r}\n      when: not go\n",
			nil, nil, []string{"inc: skipped", "include_role: skipped"}},
		{"include tags select the include only", "    - name: inc\n      include_tasks: inc.yml\n      tags: [t]\n",
			[]string{"t"}, nil, []string{"inc: ok"}},
		{"apply tags reach the tasks", "    - name: inc\n      include_tasks: {file: inc.yml, apply: {tags: [t]}}\n      tags: [t]\n",
			[]string{"t"}, nil, []string{"inc: ok", "flip: ok", "after: ok"}},
		{"apply when is per task", "    - name: inc\n      include_tasks: {file: inc.yml, apply: {when: go}}\n",
			nil, nil, []string{"inc: ok", "flip: ok", "after: skipped"}},
		{"skip-tags drops the include and its tasks", "    - name: inc\n      include_tasks: {file: inc.yml, apply: {tags: [u]}}\n      tags: [t]\n",
			nil, []string{"t"}, nil},
		{"a block's when reaches the include and its tasks", "    - block:\n        - name: inc\n          include_tasks: inc.yml\n      when: go\n",
			nil, nil, []string{"inc: ok", "flip: ok", "after: skipped"}},
		{"an import's when reaches the include and its tasks", "    - import_tasks: imp.yml\n      when: go\n",
			nil, nil, []string{"inc: ok", "flip: ok", "after: skipped"}},
	}
	registerMemfile()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{
				"pb.yml":                 "- hosts: all\n  gather_facts: false\n  vars: {go: true}\n  tasks:\n" + tt.tasks,
				"inc.yml":                inc,
				"imp.yml":                "- name: inc\n  include_tasks: inc.yml\n",
				"roles/r/tasks/main.yml": inc,
			}
			sum, rec := runFiles(t, files, Options{Tags: tt.only, SkipTags: tt.skip}, "h1")
			if len(sum.Failed) > 0 {
				t.Fatalf("failed: %v", sum.Err())
			}
			var got []string
			for _, r := range rec.results {
				got = append(got, fmt.Sprintf("%s: %s", r.Task, r.Status))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ran %q\nwant %q", got, tt.want)
			}
		})
	}
}

// runFiles writes files into a directory, runs its pb.yml on the hosts
// (in-memory) and returns the summary and the events.
func runFiles(t *testing.T, files map[string]string, opts Options, hosts ...string) (*Summary, *recorder) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pb, err := playbook.Load(filepath.Join(dir, "pb.yml"), playbook.ParseOptions{Modules: modules.Names(), Check: Validate, Render: template.Render})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	inv, err := inventory.Load(strings.Join(hosts, ",") + ",")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	opts.Connector, opts.Observer = newFleet(hosts...), rec
	sum, err := Run(context.Background(), pb, inv, opts)
	if err != nil {
		t.Fatal(err)
	}
	return sum, rec
}

// TestEngineIncludeLockstep: in lockstep (max_fail_percentage) a host
// that skips an include waits while another runs the included tasks, as
// under Ansible's linear strategy: the task after the include starts once
// they have ended on every host.
func TestEngineIncludeLockstep(t *testing.T) {
	files := map[string]string{
		"pb.yml": `- hosts: all
  gather_facts: false
  max_fail_percentage: 100
  tasks:
    - include_tasks: inc.yml
      when: inventory_hostname == 'h1'
    - name: after
      fail: {msg: "the included tasks of h1 have not ended"}
      when: hostvars['h1'].done is not defined
`,
		"inc.yml": "- debug: {msg: one}\n- debug: {msg: two}\n- set_fact: {done: 1}\n",
	}
	sum, _ := runFiles(t, files, Options{}, "h1", "h2")
	if len(sum.Failed) > 0 {
		t.Errorf("failed: %v", sum.Err())
	}
}
