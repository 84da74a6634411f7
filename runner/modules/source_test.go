package modules

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCopySourceSearch: copy's and unarchive's src are looked for along the
// task's search path as ansible-core's _find_needle("files", src) does:
// for a role's task the role's files/ and directory first, then the task
// file's directory's files/ and itself, then the playbook's; a directory
// found first is copied as a tree; without a search path (a tool that
// only has the task's file), beside that file.
func TestCopySourceSearch(t *testing.T) {
	dir := t.TempDir()
	role := filepath.Join(dir, "roles", "r")
	task := filepath.Join(role, "tasks", "pre", "x.yml")
	stack := []string{role, filepath.Dir(task), dir}
	for p, s := range map[string]string{
		"roles/r/files/a.txt":           "role files",
		"roles/r/tasks/pre/a.txt":       "beside the task file",
		"roles/r/tasks/pre/b.txt":       "beside the task file",
		"files/b.txt":                   "playbook files",
		"roles/r/c.txt":                 "role dir",
		"roles/r/tasks/pre/files/c.txt": "task dir files",
		"files/d.txt":                   "playbook files",
		"roles/r/files/tree/f":          "a tree",
		"files/e.tgz":                   "not really a tgz",
	} {
		mustWrite(t, filepath.Join(dir, p), s, 0o644)
	}
	for _, tt := range []struct{ src, content string }{
		{"a.txt", "role files"},
		{"b.txt", "beside the task file"},
		{"c.txt", "role dir"},
		{"d.txt", "playbook files"},
	} {
		m, err := newCopy(Args{Node: argsNode(t, "src: "+tt.src+"\ndest: /x"), File: task, SearchPath: stack, BaseDir: dir})
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		if got := string(m.(*copyModule).content); got != tt.content {
			t.Errorf("%s: %q, want %q", tt.src, got, tt.content)
		}
	}
	if _, err := newCopy(Args{Node: argsNode(t, "src: tree\ndest: /x/"), File: task, SearchPath: stack, BaseDir: dir}); err != nil {
		t.Errorf("a directory in the role's files/: %v", err)
	}
	_, err := newCopy(Args{Node: argsNode(t, "src: nope\ndest: /x"), File: task, SearchPath: stack, BaseDir: dir})
	want := `src "nope" not found (looked in ` + strings.Join([]string{role + "/files/nope", role + "/nope",
		filepath.Dir(task) + "/files/nope", filepath.Dir(task) + "/nope", dir + "/files/nope", dir + "/nope"}, ", ")
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if _, err := newCopy(Args{Node: argsNode(t, "src: b.txt\ndest: /x"), File: filepath.Join(dir, "pb.yml")}); err != nil {
		t.Errorf("no search path: beside the file: %v", err)
	}
	if _, err := newUnarchive(Args{Node: argsNode(t, "src: e.tgz\ndest: /x"), File: task, SearchPath: stack, BaseDir: dir}); err != nil {
		t.Errorf("unarchive from the playbook's files/: %v", err)
	}
}
