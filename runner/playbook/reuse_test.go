package playbook

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"tend/runner/template"
)

// reuseOpts are the options the runner passes, without module checks.
var reuseOpts = ParseOptions{Render: template.Render}

// taskNames lists a playbook's tasks, play by play.
func taskNames(pb *Playbook) []string {
	var out []string
	for _, p := range pb.Plays {
		for _, t := range runOrder(p.Tasks) {
			out = append(out, t.DisplayName())
		}
	}
	return out
}

// runOrder lists tasks as ansible-playbook shows them when all run: a
// dynamic include, then its tasks (an include_role is not shown).
func runOrder(tasks []*Task) []*Task {
	var out []*Task
	for _, t := range tasks {
		if t.Dynamic {
			if t.Module != "include_role" {
				out = append(out, t)
			}
			out = append(out, runOrder(t.Block.Tasks)...)
			continue
		}
		out = append(out, t)
	}
	return out
}

// The testdata tree uses every kind of reuse; its tasks come out in the
// order Ansible runs them, with the right variables.
func TestReuseTree(t *testing.T) {
	pb, err := Load("testdata/reuse/site.yml", reuseOpts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"base task", "nested one", "leaf",
		"common task", "web config", "web check", "play task", "extra", "include other", "other", "include_vars", "web restart from",
	}
	if got := taskNames(pb); !slices.Equal(got, want) {
		t.Fatalf("tasks\n got %q\nwant %q", got, want)
	}
	web := pb.Plays[1]
	byName := map[string]*Task{}
	for _, task := range runOrder(web.Tasks) {
		byName[task.DisplayName()] = task
	}
	var handlers []string
	for _, h := range web.Handlers {
		handlers = append(handlers, h.Name)
	}
	if want := []string{"common handler", "restart web", "play handler"}; !slices.Equal(handlers, want) {
		t.Errorf("handlers %q, want %q", handlers, want)
	}
	cfg := byName["web config"]
	roleDir, _ := filepath.Abs("testdata/reuse/roles/web")
	for k, want := range map[string]any{"port": 8080, "web_conf": "/etc/web.conf", "role_path": roleDir, "role_name": "web"} {
		if got := cfg.Vars[k]; got != want {
			t.Errorf("web config var %s = %#v, want %#v", k, got, want)
		}
	}
	if !slices.Contains(cfg.Tags, "web") || slices.Contains(byName["play task"].Tags, "web") {
		t.Errorf("tags: web config %q, play task %q", cfg.Tags, byName["play task"].Tags)
	}
	if web.Defaults["common_greeting"] != "hello" || web.Defaults["port"] != 80 {
		t.Errorf("defaults %v", web.Defaults)
	}
	// A role's vars/ are the play's (Ansible's default, private_role_vars
	// off); its parameters are not.
	if web.Vars["web_conf"] != "/etc/web.conf" || web.Vars["port"] != nil {
		t.Errorf("role vars in the play: %v", web.Vars)
	}
	if web.Vars["common_msg"] != "from vars_files" {
		t.Errorf("vars_files: vars %v", web.Vars)
	}
	// A dynamic include keeps its when: evaluated once, for the include.
	if got := byName["include other"].When; !slices.Equal(got, []string{"run_other | default(true)"}) {
		t.Errorf("include when: the include has %q", got)
	}
	if got := byName["other"].When; len(got) != 0 {
		t.Errorf("include when: other has %q, want none", got)
	}
	if got := byName["other"].Vars["who"]; got != "include" {
		t.Errorf("include vars: who = %v", got)
	}
	if iv := byName["include_vars"]; iv.IncludeVars["more"] != 1 {
		t.Errorf("include_vars read %v", iv.IncludeVars)
	}
	if p := pb.Plays[0].Tasks[2].Pos; !strings.HasSuffix(p.File, "tasks/leaf.yml") || p.Line != 1 {
		t.Errorf("leaf at %v, want tasks/leaf.yml:1", p)
	}
	if len(pb.Files) != 17 {
		var names []string
		for _, f := range pb.Files {
			names = append(names, f.Path)
		}
		t.Errorf("%d files read: %q", len(pb.Files), names)
	}
}

// Every file read is in the plan hash: a change to a role's task file
// changes it, and the hash of a one-file playbook is that file's.
func TestSourceHash(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"pb.yml":                    "- hosts: all\n  roles: [r]\n",
		"roles/r/tasks/main.yml":    "- command: echo a\n",
		"one.yml":                   "- hosts: all\n  tasks: []\n",
		"roles/r/defaults/main.yml": "x: 1\n",
	})
	load := func(name string) string {
		pb, err := Load(filepath.Join(dir, name), reuseOpts)
		if err != nil {
			t.Fatal(err)
		}
		return pb.SourceHash()
	}
	before := load("pb.yml")
	write(t, dir, map[string]string{"roles/r/tasks/main.yml": "- command: echo b\n"})
	if load("pb.yml") == before {
		t.Error("changing a role's task file did not change the hash")
	}
	write(t, dir, map[string]string{"roles/r/tasks/main.yml": "- command: echo a\n"})
	if load("pb.yml") != before {
		t.Error("the hash is not stable")
	}
	pb, _ := Load(filepath.Join(dir, "one.yml"), reuseOpts)
	if len(pb.Files) != 1 || pb.SourceHash() != pb.Files[0].SHA256 {
		t.Errorf("one file: %v", pb.Files)
	}
}

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Bad reuse is refused at parse time, positioned in the file at fault.
func TestReuseErrors(t *testing.T) {
	play := func(tasks string) string { return "- hosts: all\n  tasks:\n" + tasks }
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"missing task file", map[string]string{"pb.yml": play("    - import_tasks: nope.yml\n")},
			[]string{"pb.yml:3:21: tasks[0].import_tasks: task file \"nope.yml\" not found"}},
		{"import templated from an undefined variable", map[string]string{"pb.yml": play("    - import_tasks: \"{{ which }}.yml\"\n")},
			[]string{"pb.yml:3:21: tasks[0].import_tasks:", "which", "tend resolves import_tasks before contacting any host"}},
		{"templated from a host variable is refused too", map[string]string{"pb.yml": play("    - import_tasks: \"{{ inventory_hostname }}.yml\"\n")},
			[]string{"pb.yml:3:21: tasks[0].import_tasks:", "inventory_hostname"}},
		{"cycle", map[string]string{"pb.yml": play("    - import_tasks: a.yml\n"), "a.yml": "- import_tasks: b.yml\n", "b.yml": "- include_tasks: a.yml\n"},
			[]string{"b.yml:1:18: tasks[0].include_tasks: import cycle: a.yml -> b.yml -> a.yml$"}},
		{"error positioned in the imported file", map[string]string{"pb.yml": play("    - import_tasks: t.yml\n"), "t.yml": "- name: x\n  command: echo\n  whne: x\n"},
			[]string{"t.yml:3:3: tasks[0].whne: a task runs exactly one module"}},
		{"bad yaml in the imported file", map[string]string{"pb.yml": play("    - import_tasks: t.yml\n"), "t.yml": "- name: [x\n"},
			[]string{"t.yml:1:"}},
		{"loop over an import", map[string]string{"pb.yml": play("    - import_tasks: t.yml\n      loop: [1, 2]\n"), "t.yml": "- command: echo\n"},
			[]string{"pb.yml:4:7: tasks[0].loop: a loop over import_tasks is not supported; loop inside the imported tasks instead, or use include_tasks"}},
		{"loop_control on an include without a loop", map[string]string{"pb.yml": play("    - include_tasks: t.yml\n      loop_control: {loop_var: x}\n"), "t.yml": "- command: echo\n"},
			[]string{"pb.yml:4:21: tasks[0].loop_control: loop_control without loop"}},
		{"looped include of a file with a bad task", map[string]string{"pb.yml": play("    - include_tasks: t.yml\n      loop: [1, 2]\n"), "t.yml": "- command: echo\n  whne: x\n"},
			[]string{"t.yml:2:3: tasks[0].whne: a task runs exactly one module"}},
		{"per-host include with a bad apply", map[string]string{"pb.yml": play("    - include_tasks:\n        file: \"{{ ansible_os_family }}.yml\"\n        apply: {tgas: [a]}\n")},
			[]string{"pb.yml:5:17: tasks[0].include_tasks.apply.tgas: \"tgas\" is not a keyword apply: takes"}},
		{"with_first_found on a file that is not the item", map[string]string{"pb.yml": play("    - include_vars: v.yml\n      with_first_found: [a.yml]\n"), "v.yml": "a: 1\n"},
			[]string{"pb.yml:3:21: tasks[0].include_vars: with_first_found: the file must be the loop's item"}},
		{"with_first_found with an unknown option", map[string]string{"pb.yml": play("    - include_vars: \"{{ item }}\"\n      with_first_found:\n        - files: [a.yml]\n          skipp: true\n")},
			[]string{"pb.yml:6:11: tasks[0].with_first_found[0].skipp: unknown first_found option (files, paths, skip)"}},
		{"register on an include", map[string]string{"pb.yml": play("    - import_tasks: t.yml\n      register: r\n"), "t.yml": "- command: echo\n"},
			[]string{"pb.yml:4:7: tasks[0].register: \"register\" is not valid on import_tasks"}},
		{"become on a dynamic include", map[string]string{"pb.yml": play("    - include_tasks: t.yml\n      become: true\n"), "t.yml": "- command: echo\n"},
			[]string{"pb.yml:4:7: tasks[0].become: \"become\" is not valid on include_tasks (ansible-core refuses it too); give it to the included tasks with apply: {become: ...}"}},
		{"check_mode on include_role", map[string]string{"pb.yml": play("    - include_role: {name: r}\n      check_mode: false\n"), "roles/r/tasks/main.yml": "- command: echo\n"},
			[]string{"pb.yml:4:7: tasks[0].check_mode: \"check_mode\" is not valid on include_role"}},
		{"apply with an unknown keyword", map[string]string{"pb.yml": play("    - include_tasks:\n        file: t.yml\n        apply: {tgas: [a]}\n"), "t.yml": "- command: echo\n"},
			[]string{"pb.yml:5:17: tasks[0].include_tasks.apply.tgas: \"tgas\" is not a keyword apply: takes", "(valid: when, become,"}},
		{"apply on import_tasks", map[string]string{"pb.yml": play("    - import_tasks:\n        file: t.yml\n        apply: {tags: [a]}\n"), "t.yml": "- command: echo\n"},
			[]string{"pb.yml:4:9: tasks[0].import_tasks: must be a file name"}},
		{"apply on import_role", map[string]string{"pb.yml": play("    - import_role:\n        name: r\n        apply: {tags: [a]}\n"), "roles/r/tasks/main.yml": "- command: echo\n"},
			[]string{"pb.yml:5:9: tasks[0].import_role.apply: apply is only valid on include_role"}},
		{"missing role", map[string]string{"pb.yml": "- hosts: all\n  roles:\n    - nope\n"},
			[]string{"pb.yml:3:7: roles[0]: role \"nope\" not found (looked in"}},
		{"role dependency cycle", map[string]string{"pb.yml": "- hosts: all\n  roles: [a]\n",
			"roles/a/meta/main.yml": "dependencies: [b]\n", "roles/b/meta/main.yml": "dependencies:\n  - role: a\n"},
			[]string{"main.yml:2:11: dependencies[0]: role dependency cycle: role \"a\" depends on itself"}},
		{"missing tasks_from", map[string]string{"pb.yml": play("    - import_role:\n        name: r\n        tasks_from: nope\n"), "roles/r/tasks/main.yml": "- command: echo\n"},
			[]string{"pb.yml:4:15: tasks[0].import_role: role \"r\" has no tasks file \"nope\""}},
		{"error in a role's task file", map[string]string{"pb.yml": "- hosts: all\n  roles: [r]\n", "roles/r/tasks/main.yml": "- command: echo\n  when: [\n"},
			[]string{"roles/r/tasks/main.yml:2:"}},
		{"missing vars file", map[string]string{"pb.yml": "- hosts: all\n  vars_files: [v.yml]\n"},
			[]string{"pb.yml:2:16: vars_files[0]: vars file not found"}},
		{"vars file not a mapping", map[string]string{"pb.yml": "- hosts: all\n  vars_files: [v.yml]\n", "v.yml": "- 1\n"},
			[]string{"v.yml:1:1: must be a mapping of variables"}},
		{"a device is not a vars file", map[string]string{"pb.yml": play("    - include_vars: /dev/zero\n")},
			[]string{"pb.yml:3:21: tasks[0].include_vars: cannot read /dev/zero: not a regular file"}},
		{"nor a play's vars file", map[string]string{"pb.yml": "- hosts: all\n  vars_files: [/dev/zero]\n"},
			[]string{"pb.yml:2:16: vars_files[0]: cannot read /dev/zero: not a regular file"}},
		{"vault-encrypted vars file", map[string]string{"pb.yml": "- hosts: all\n  vars_files: [v.yml]\n", "v.yml": "$ANSIBLE_VAULT;1.1;AES256\n3061\n"},
			[]string{"pb.yml:2:16: vars_files[0]: v.yml is vault-encrypted: not supported by tend"}},
		{"missing include_vars", map[string]string{"pb.yml": play("    - include_vars: v.yml\n")},
			[]string{"pb.yml:3:21: tasks[0].include_vars: vars file \"v.yml\" not found"}},
		{"missing import_playbook", map[string]string{"pb.yml": "- import_playbook: other.yml\n"},
			[]string{"pb.yml:1:20: import_playbook: playbook \"other.yml\" not found"}},
		{"import_playbook cycle", map[string]string{"pb.yml": "- import_playbook: pb.yml\n"},
			[]string{"pb.yml:1:20: import_playbook: import cycle: pb.yml -> pb.yml"}},
		{"notify of a role handler misspelled", map[string]string{"pb.yml": "- hosts: all\n  roles: [r]\n",
			"roles/r/tasks/main.yml": "- command: echo\n  notify: restart\n", "roles/r/handlers/main.yml": "- name: restart it\n  command: echo\n"},
			[]string{"roles/r/tasks/main.yml:2:11: notify: \"restart\" matches no handler"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, tt.files)
			t.Chdir(dir)
			_, err := Load("pb.yml", reuseOpts)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				// A want ending in $ must end a line.
				got := err.Error()
				if strings.HasSuffix(w, "$") {
					got, w = got+"\n", strings.TrimSuffix(w, "$")+"\n"
				}
				if !strings.Contains(got, w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

// A templated name is rendered with what is known before the run.
func TestReuseTemplatedNames(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"pb.yml": "- hosts: all\n  vars: {flavour: a, tasks_file: \"{{ flavour }}-{{ env }}.yml\"}\n  defaults: {role_name_v: r}\n  vars_files: [\"{{ flavour }}.yml\"]\n" +
			"  roles: [\"{{ role_name_v }}\"]\n  tasks:\n    - import_tasks: \"{{ tasks_file }}\"\n",
		"a.yml":                  "from_file: yes_a\n",
		"a-prod.yml":             "- name: prod task\n  command: echo\n",
		"roles/r/tasks/main.yml": "- name: role task\n  command: echo\n",
	})
	opts := reuseOpts
	opts.ExtraVars = map[string]any{"env": "prod"}
	pb, err := Load(filepath.Join(dir, "pb.yml"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := taskNames(pb); !slices.Equal(got, []string{"role task", "prod task"}) || pb.Plays[0].Vars["from_file"] != "yes_a" {
		t.Errorf("tasks %q vars %v", got, pb.Plays[0].Vars)
	}
}

// Differential: ansible-playbook runs the testdata tree (commands are
// echo, over the local connection) and the tasks it runs are the tasks
// tend resolved, in the same order.
func TestReuseOrderMatchesAnsible(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ansible-playbook")
	}
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		t.Skip("ansible-playbook not installed")
	}
	pb, err := Load("testdata/reuse/site.yml", reuseOpts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-i", "localhost,", "-c", "local", "site.yml")
	cmd.Dir = "testdata/reuse"
	cmd.Env = append(os.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=0", "ANSIBLE_LOCAL_TEMP="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ansible-playbook: %v\n%s", err, out)
	}
	// TASK [role : name] then its result.
	taskRE := regexp.MustCompile(`^TASK \[(?:[^ ]+ : )?(.*)\] \*+$`)
	var ran []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	pending := ""
	for sc.Scan() {
		line := sc.Text()
		if m := taskRE.FindStringSubmatch(line); m != nil {
			pending = m[1]
			continue
		}
		if pending != "" && line != "" {
			ran = append(ran, pending)
			pending = ""
		}
	}
	if got := taskNames(pb); !slices.Equal(got, ran) {
		t.Errorf("tend resolved %q\nansible ran   %q", got, ran)
	}
}

// Roles are found in roles/ beside the playbook first, then in RolesPath,
// then beside the playbook; a name with a / (patroni/config) is searched
// the same way, as Ansible does; a dependency is also looked for beside
// the role needing it.
func TestReuseRolesPath(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"play/pb.yml":                     "- hosts: all\n  roles: [a, ../vendor/b, c, e, grp/f, grp/g, grp/h]\n",
		"play/roles/grp/f/tasks/main.yml": "- name: grp/f in roles\n  command: echo\n",
		"play/grp/f/tasks/main.yml":       "- name: grp/f in the playbook dir\n  command: echo\n",
		"shared/grp/g/tasks/main.yml":     "- name: grp/g shared\n  command: echo\n",
		"play/grp/h/tasks/main.yml":       "- name: grp/h in the playbook dir\n  command: echo\n",
		"play/roles/a/tasks/main.yml":     "- name: a beside\n  command: echo\n",
		"shared/a/tasks/main.yml":         "- name: a shared\n  command: echo\n",
		"vendor/b/tasks/main.yml":         "- name: b vendored\n  command: echo\n",
		"vendor/b/meta/main.yml":          "dependencies: [d]\n",
		"vendor/d/tasks/main.yml":         "- name: d beside b\n  command: echo\n",
		"shared/e/tasks/main.yml":         "- name: e shared\n  command: echo\n",
		"play/c/tasks/main.yml":           "- name: c in the playbook dir\n  command: echo\n",
	})
	opts := reuseOpts
	opts.RolesPath = []string{filepath.Join(dir, "shared")}
	pb, err := Load(filepath.Join(dir, "play", "pb.yml"), opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a beside", "d beside b", "b vendored", "c in the playbook dir", "e shared",
		"grp/f in roles", "grp/g shared", "grp/h in the playbook dir"}
	if got := taskNames(pb); !slices.Equal(got, want) {
		t.Errorf("tasks %q, want %q", got, want)
	}
}

// include_role keeps the role's vars/ to its tasks unless public: true.
func TestReuseIncludeRolePublic(t *testing.T) {
	for _, tt := range []struct {
		public string
		want   any
	}{{"", nil}, {"        public: true\n", "v"}} {
		dir := t.TempDir()
		write(t, dir, map[string]string{
			"pb.yml":                 "- hosts: all\n  tasks:\n    - include_role:\n        name: r\n" + tt.public,
			"roles/r/vars/main.yml":  "rv: v\n",
			"roles/r/tasks/main.yml": "- command: echo\n",
			"roles/r/meta/main.yml":  "dependencies: [d]\n",
			"roles/d/vars/main.yml":  "dv: v\n",
		})
		pb, err := Load(filepath.Join(dir, "pb.yml"), reuseOpts)
		if err != nil {
			t.Fatal(err)
		}
		if got := pb.Plays[0].Vars["dv"]; got != tt.want {
			t.Errorf("public %q: the dependency's play var dv = %v, want %v", tt.public, got, tt.want)
		}
		if got := pb.Plays[0].Vars["rv"]; got != tt.want {
			t.Errorf("public %q: play var rv = %v, want %v", tt.public, got, tt.want)
		}
		if got := pb.Plays[0].Tasks[0].Block.Tasks[0].Vars["rv"]; got != "v" {
			t.Errorf("public %q: the role's task sees rv = %v", tt.public, got)
		}
	}
}
