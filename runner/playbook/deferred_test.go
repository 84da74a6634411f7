package playbook

import (
	"slices"
	"strings"
	"testing"
)

// A looped include reads its (static) file before the run, loop and
// loop_control kept for the runner; a file named by host data or by the
// loop variable is deferred: read per host, each distinct name once,
// its errors positioned in that file.
func TestDeferredIncludeTasks(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"pb.yml": "- hosts: all\n  vars: {pkg: t}\n  tasks:\n" +
			"    - include_tasks: t.yml\n      loop: [a, b]\n      loop_control: {loop_var: pkg, index_var: i, label: \"{{ pkg }}\"}\n" +
			"    - include_tasks:\n        file: \"{{ ansible_os_family }}.yml\"\n        apply: {tags: [os]}\n      vars: {who: inc}\n" +
			"    - include_tasks: \"{{ item }}.yml\"\n      with_items: [t]\n" +
			"    - include_tasks: \"{{ pkg }}.yml\"\n      loop: [Debian]\n      loop_control: {loop_var: pkg}\n",
		"t.yml":      "- command: echo {{ pkg }}\n",
		"Debian.yml": "- name: deb\n  command: echo {{ who }}\n",
		"Bad.yml":    "- command: echo\n  whne: x\n",
	})
	t.Chdir(dir)
	pb, err := Load("pb.yml", reuseOpts)
	if err != nil {
		t.Fatal(err)
	}
	tasks := pb.Plays[0].Tasks
	looped := tasks[0]
	if !looped.Dynamic || looped.Deferred != nil || looped.Loop == nil || len(looped.Block.Tasks) != 1 {
		t.Fatalf("looped include: dynamic %v deferred %v loop %v tasks %d", looped.Dynamic, looped.Deferred, looped.Loop, len(looped.Block.Tasks))
	}
	if l := looped.Loop; l.LoopVar != "pkg" || l.IndexVar != "i" || l.Label != "{{ pkg }}" || l.Kind != "loop" {
		t.Errorf("loop %+v", l)
	}
	byOS := tasks[1]
	d := byOS.Deferred
	if d == nil || !slices.Equal(d.Names, []string{"{{ ansible_os_family }}.yml"}) || d.Pos.Line != 8 || d.Pos.Col != 15 {
		t.Fatalf("deferred %+v", d)
	}
	path, v, err := d.Load([]string{"Debian.yml"})
	if err != nil || !strings.HasSuffix(path, "Debian.yml") {
		t.Fatalf("load: %q %v", path, err)
	}
	got := v.([]*Task)
	if len(got) != 1 || got[0].Name != "deb" || got[0].Vars["who"] != "inc" || !slices.Contains(got[0].Tags, "os") {
		t.Fatalf("loaded %+v", got[0])
	}
	if _, again, _ := d.Load([]string{"Debian.yml"}); &again.([]*Task)[0] != &got[0] {
		t.Error("a second load of the same file read it again")
	}
	for _, tt := range []struct{ name, want string }{
		{"RedHat.yml", "pb.yml:8:15: tasks[1].include_tasks: task file \"RedHat.yml\" not found"},
		{"Bad.yml", "Bad.yml:2:3: tasks[0].whne: a task runs exactly one module"},
	} {
		if _, _, err := d.Load([]string{tt.name}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("load %s: %v, want %q", tt.name, err, tt.want)
		}
	}
	if byItem := tasks[2]; byItem.Deferred == nil || byItem.Loop == nil {
		t.Errorf("include named by its item: deferred %v loop %v", byItem.Deferred, byItem.Loop)
	}
	// The loop variable hides a play variable of its name: read per item.
	if byVar := tasks[3]; byVar.Deferred == nil {
		t.Errorf("include named by its loop_var (also a play var) read before the run: %v", byVar.Block)
	}
}

// include_vars named by host data, or by a with_first_found list, is
// read per host: the first candidate found, under name: when given.
func TestDeferredIncludeVars(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"pb.yml": "- hosts: all\n  tasks:\n" +
			"    - include_vars: {file: \"{{ ansible_os_family }}.yml\", name: osv}\n" +
			"    - include_vars: \"{{ item }}\"\n      with_first_found:\n        - \"{{ ansible_distribution }}.yml\"\n        - files: [x.yml, default.yml]\n          paths: [p1, vars]\n",
		"vars/Debian.yml":  "pkg: apt\n",
		"vars/default.yml": "pkg: none\n",
		"vars/bad.yml":     "pkg: [x\n",
	})
	t.Chdir(dir)
	pb, err := Load("pb.yml", reuseOpts)
	if err != nil {
		t.Fatal(err)
	}
	tasks := pb.Plays[0].Tasks
	byOS := tasks[0].Deferred
	if byOS == nil || tasks[0].IncludeVars != nil {
		t.Fatalf("include_vars by fact: %+v", tasks[0])
	}
	if _, v, err := byOS.Load([]string{"Debian.yml"}); err != nil || v.(map[string]any)["osv"].(map[string]any)["pkg"] != "apt" {
		t.Errorf("by fact: %v %v", v, err)
	}
	if _, _, err := byOS.Load([]string{"bad.yml"}); err == nil || !strings.Contains(err.Error(), "bad.yml:1:") {
		t.Errorf("bad vars file: %v", err)
	}
	ff := tasks[1].Deferred
	want := []string{"{{ ansible_distribution }}.yml", "p1/x.yml", "p1/default.yml", "vars/x.yml", "vars/default.yml"}
	if ff == nil || !slices.Equal(ff.Names, want) {
		t.Fatalf("first_found names %v, want %q", ff, want)
	}
	if path, v, err := ff.Load([]string{"Ubuntu.yml", "p1/x.yml", "p1/default.yml", "vars/x.yml", "vars/default.yml"}); err != nil ||
		v.(map[string]any)["pkg"] != "none" || !strings.HasSuffix(path, "vars/default.yml") {
		t.Errorf("first_found: %q %v %v", path, v, err)
	}
	if _, _, err := ff.Load([]string{"nope.yml"}); err == nil || !strings.Contains(err.Error(), "pb.yml:4:21: tasks[1].include_vars: no vars file found among nope.yml") {
		t.Errorf("none found: %v", err)
	}
}
