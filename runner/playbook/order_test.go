package playbook

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"tend/internal/omap"
)

// TestVarsKeepOrder: every source of a play's variables decodes a mapping
// in the order it was written (play vars, vars_files, role defaults and
// vars, role parameters, include_vars under name:), as Ansible's dicts.
func TestVarsKeepOrder(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"site.yml": `- hosts: all
  vars:
    play_map: {z: 1, a: {y: 1, b: 2}, m: 3}
  vars_files: [vf.yml]
  roles:
    - {role: r, param_map: {z: 1, a: 2}}
  tasks:
    - include_vars: {file: iv.yml, name: named}
`,
		"vf.yml":                    "file_map: {z: 1, a: 2, m: 3}\n",
		"iv.yml":                    "zz: 1\naa: 2\nmm: 3\n",
		"roles/r/defaults/main.yml": "default_map: {z: 1, a: 2}\n",
		"roles/r/vars/main.yml":     "role_map: {z: 1, a: 2}\n",
		"roles/r/tasks/main.yml":    "- debug: {msg: hi}\n",
	}
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pb, err := Load(filepath.Join(dir, "site.yml"), reuseOpts)
	if err != nil {
		t.Fatal(err)
	}
	play := pb.Plays[0]
	var roleTask, ivTask *Task
	for _, task := range runOrder(play.Tasks) {
		switch task.Module {
		case "debug":
			roleTask = task
		case "include_vars":
			ivTask = task
		}
	}
	if roleTask == nil || ivTask == nil {
		t.Fatalf("tasks not found: %v", taskNames(pb))
	}
	for _, tc := range []struct {
		name string
		v    any
		want []string
	}{
		{"play vars", play.Vars["play_map"], []string{"z", "a", "m"}},
		{"nested", mustGet(play.Vars["play_map"], "a"), []string{"y", "b"}},
		{"vars_files", play.Vars["file_map"], []string{"z", "a", "m"}},
		{"role defaults", play.Defaults["default_map"], []string{"z", "a"}},
		{"role vars", play.Vars["role_map"], []string{"z", "a"}},
		{"role parameter", roleTask.Vars["param_map"], []string{"z", "a"}},
		{"include_vars name:", ivTask.IncludeVars["named"], []string{"zz", "aa", "mm"}},
	} {
		m, ok := tc.v.(*omap.Map)
		if !ok {
			t.Errorf("%s: %T, want *omap.Map", tc.name, tc.v)
			continue
		}
		if !slices.Equal(m.Keys(), tc.want) {
			t.Errorf("%s: keys %v, want %v", tc.name, m.Keys(), tc.want)
		}
	}
}

func mustGet(v any, k string) any {
	m, _ := v.(*omap.Map)
	if m == nil {
		return nil
	}
	x, _ := m.Get(k)
	return x
}
