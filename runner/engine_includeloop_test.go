package runner

import (
	"context"
	"errors"
	"fmt"
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

// TestEngineIncludeLoop: a looped include_tasks (or include_role) runs its
// file once per item, in item order, with the loop variables bound (as
// include parameters: an inner loop's item does not hide them); its when
// is per item, evaluated for every item before any included task runs; an
// item that runs counts ok ("included: FILE => (item=...)"), a skipped
// one is shown but not counted, and an include none of whose items runs
// counts skipped once, as ansible-playbook 2.14's recap. A file named by
// the item or by host data is read per host. Each want is what
// ansible-playbook 2.14 shows (TASK name: status) and its recap.
func TestEngineIncludeLoop(t *testing.T) {
	files := map[string]string{
		"log.yml":                "- name: log\n  set_fact: {seen: \"{{ seen + [pkg ~ i] }}\"}\n",
		"inner.yml":              "- name: inner\n  set_fact: {seen: \"{{ seen + [pkg ~ item] }}\"}\n  loop: [x, y]\n- name: outer again\n  set_fact: {seen: \"{{ seen + [pkg] }}\"}\n",
		"a.yml":                  "- name: in a\n  set_fact: {seen: \"{{ seen + ['a'] }}\"}\n",
		"b.yml":                  "- name: in b\n  set_fact: {seen: \"{{ seen + ['b'] }}\"}\n",
		"flip.yml":               "- name: flip\n  set_fact: {go: false}\n",
		"roles/r/tasks/main.yml": "- name: role\n  set_fact: {seen: \"{{ seen + [item] }}\"}\n",
	}
	tests := []struct {
		name   string
		tasks  string
		seen   string // what seen must be after the play, per host
		want   []string
		ok, sk int // h1's recap
	}{
		{"when per item, loop_var, index_var and label",
			"    - name: inc\n      include_tasks: log.yml\n      loop: [a, b, c]\n      loop_control: {loop_var: pkg, index_var: i, label: \"L{{ pkg }}\"}\n      when: pkg != 'b'\n",
			"['a0', 'c2']", []string{"inc (Lb): skipped", "inc (La): ok", "inc (Lc): ok", "log: ok", "log: ok"}, 4, 0},
		{"an inner loop leaves the include's variable bound",
			"    - name: inc\n      include_tasks: inner.yml\n      loop: [p, q]\n      loop_control: {loop_var: pkg}\n",
			"['px', 'py', 'p', 'qx', 'qy', 'q']", []string{"inc (p): ok", "inc (q): ok", "inner (x): ok", "inner (y): ok", "inner: ok", "outer again: ok",
				"inner (x): ok", "inner (y): ok", "inner: ok", "outer again: ok"}, 6, 0},
		{"every item's when before any included task",
			"    - name: inc\n      include_tasks: flip.yml\n      loop: [1, 2]\n      when: go\n",
			"[]", []string{"inc (1): ok", "inc (2): ok", "flip: ok", "flip: ok"}, 4, 0},
		{"a file per item",
			"    - name: inc\n      include_tasks: \"{{ item }}.yml\"\n      with_items: [b, a, b]\n",
			"['b', 'a', 'b']", []string{"inc (b): ok", "inc (a): ok", "inc (b): ok", "in b: ok", "in a: ok", "in b: ok"}, 6, 0},
		{"a file by host data",
			"    - set_fact: {which: \"{{ 'a' if inventory_hostname == 'h1' else 'b' }}\"}\n    - name: inc\n      include_tasks: \"{{ which }}.yml\"\n",
			"{'h1': ['a'], 'h2': ['b']}[inventory_hostname]", []string{"set_fact: ok", "inc: ok", "in a: ok"}, 3, 0},
		{"all items skipped counts one skip",
			"    - name: inc\n      include_tasks: log.yml\n      loop: [a, b]\n      when: false\n",
			"[]", []string{"inc (a): skipped", "inc (b): skipped", "inc: skipped"}, 0, 1},
		{"no items",
			"    - name: inc\n      include_tasks: log.yml\n      loop: []\n",
			"[]", []string{"inc: skipped"}, 0, 1},
		{"include_role per item, not counted",
			"    - include_role: {name: r}\n      loop: [m, n]\n      when: item != 'n' or inventory_hostname == 'h1'\n",
			"{'h1': ['m', 'n'], 'h2': ['m']}[inventory_hostname]", []string{"role: ok", "role: ok"}, 2, 0},
	}
	registerMemfile()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := map[string]string{"pb.yml": "- hosts: all\n  gather_facts: false\n  vars: {go: true, seen: []}\n  tasks:\n" + tt.tasks +
				"    - name: check\n      fail: {msg: \"seen {{ seen }}\"}\n      when: \"seen != " + tt.seen + "\"\n"}
			for k, v := range files {
				fs[k] = v
			}
			sum, rec := runFiles(t, fs, Options{}, "h1", "h2")
			if len(sum.Failed) > 0 {
				t.Fatalf("failed: %v", sum.Err())
			}
			var got []string
			for _, r := range rec.results {
				if r.Host != "h1" || r.Task == "check" {
					continue
				}
				s := r.Task
				if r.Item != "" {
					s += " (" + r.Item + ")"
				}
				got = append(got, fmt.Sprintf("%s: %s", s, r.Status))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ran %q\nwant %q", got, tt.want)
			}
			rc := sum.Hosts[slices.IndexFunc(sum.Hosts, func(h HostRecap) bool { return h.Host == "h1" })]
			if rc.OK != tt.ok || rc.Skipped != tt.sk+1 { // + check, skipped
				t.Errorf("recap ok=%d skipped=%d, want ok=%d skipped=%d", rc.OK, rc.Skipped, tt.ok, tt.sk+1)
			}
		})
	}
}

// TestEngineIncludeByHost: include_vars and include_tasks named by a
// host's data read, per host, the file its name renders to (first_found:
// the first that exists, a name with an undefined variable left out); a
// file missing or bad fails that host only, positioned.
func TestEngineIncludeByHost(t *testing.T) {
	files := map[string]string{
		"vars/Debian.yml":  "pkg: apt\n",
		"vars/RedHat.yml":  "pkg: yum\n",
		"vars/default.yml": "pkg: none\n",
		"Debian.yml":       "- name: deb\n  set_fact: {got: \"{{ pkg }}\"}\n",
		"RedHat.yml":       "- name: rh\n  copy: {dest: /x, bogus: 1}\n",
	}
	osOf := "    - set_fact: {os: \"{{ {'h1': 'Debian', 'h2': 'RedHat', 'h3': 'Suse'}[inventory_hostname] }}\"}\n"
	tests := []struct {
		name   string
		tasks  string
		pkg    map[string]string // host: pkg after the play
		failed map[string]string // host: what its error says
	}{
		{"include_vars by host data", osOf + "    - include_vars: \"{{ os }}.yml\"\n",
			map[string]string{"h1": "apt", "h2": "yum"},
			map[string]string{"h3": `pb.yml:5:21: tasks[1].include_vars: no vars file found among Suse.yml`}},
		{"with_first_found", osOf + "    - include_vars: \"{{ item }}\"\n      with_first_found:\n        - \"{{ os }}-{{ undefined_ver }}.yml\"\n        - \"{{ os }}.yml\"\n        - default.yml\n",
			map[string]string{"h1": "apt", "h2": "yum", "h3": "none"}, nil},
		{"a first_found lookup", osOf + "    - include_vars: \"{{ lookup('first_found', [playbook_dir ~ '/vars/' ~ os ~ '.yml', playbook_dir ~ '/vars/default.yml']) }}\"\n",
			map[string]string{"h1": "apt", "h2": "yum", "h3": "none"}, nil},
		{"first_found skip", osOf + "    - include_vars: \"{{ item }}\"\n      with_first_found:\n        - files: [\"{{ os }}.yml\"]\n          skip: true\n",
			map[string]string{"h1": "apt", "h2": "yum", "h3": ""}, nil},
		{"include_tasks by host data", osOf + "    - include_vars: \"{{ item }}\"\n      with_first_found: [\"{{ os }}.yml\", default.yml]\n    - include_tasks: \"{{ os }}.yml\"\n",
			map[string]string{"h1": "apt"},
			map[string]string{"h2": "RedHat.yml:2:20: tasks[0].copy.bogus: unknown key", "h3": `pb.yml:7:22: tasks[2].include_tasks: task file "Suse.yml" not found`}},
	}
	registerMemfile()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for h, p := range tt.pkg {
				want = append(want, fmt.Sprintf("'%s': '%s'", h, p))
			}
			fs := map[string]string{"pb.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n" + tt.tasks +
				"    - name: check\n      fail: {msg: \"pkg {{ pkg | default('') }}\"}\n      when: \"(pkg | default('')) != ({" + strings.Join(want, ", ") + "}[inventory_hostname] | default(''))\"\n"}
			for k, v := range files {
				fs[k] = v
			}
			sum, rec := runFiles(t, fs, Options{}, "h1", "h2", "h3")
			for _, h := range []string{"h1", "h2", "h3"} {
				want, fails := tt.failed[h]
				var errs []string
				for _, r := range rec.results {
					if r.Host == h && r.Status == StatusFailed {
						errs = append(errs, r.Task+": "+r.Error)
					}
				}
				switch {
				case fails && (len(errs) != 1 || !strings.Contains(errs[0], want)):
					t.Errorf("%s failed with %q, want one error with %q", h, errs, want)
				case !fails && len(errs) > 0:
					t.Errorf("%s failed: %q", h, errs)
				}
			}
			_ = sum
		})
	}
}

// TestEngineIncludeLoopLockstep: in lockstep (max_fail_percentage) a
// looped include is one step whatever number of items each host has: the
// task after it starts once every host has run all its included tasks.
func TestEngineIncludeLoopLockstep(t *testing.T) {
	files := map[string]string{
		"pb.yml": `- hosts: all
  gather_facts: false
  max_fail_percentage: 100
  tasks:
    - include_tasks: inc.yml
      loop: "{{ [1, 2, 3] if inventory_hostname == 'h1' else [] }}"
    - name: after
      fail: {msg: "the included tasks of h1 have not ended"}
      when: hostvars['h1'].done | default(0) != 3
`,
		"inc.yml": "- debug: {msg: one}\n- set_fact: {done: \"{{ item }}\"}\n",
	}
	registerMemfile()
	sum, _ := runFiles(t, files, Options{}, "h1", "h2")
	if len(sum.Failed) > 0 {
		t.Errorf("failed: %v", sum.Err())
	}
}

// TestEngineEnvironmentThroughImports: an environment: on import_tasks,
// import_role or a play's role entry reaches their tasks (a task's own
// variable wins), as do a block's and an import's around an include_tasks
// whose file is read per host, as ansible-core 2.14 inherits them.
func TestEngineEnvironmentThroughImports(t *testing.T) {
	show := "- name: show {{ which }}\n  command: printenv A B\n"
	files := map[string]string{
		"pb.yml": `- hosts: all
  gather_facts: false
  roles:
    - role: r
      which: entry
      environment: {A: entry, B: entry}
  tasks:
    - import_tasks: show.yml
      vars: {which: import}
      environment: {A: import, B: import}
    - import_role: {name: r}
      vars: {which: import_role}
      environment: {A: import_role, B: import_role}
    - block:
        - import_tasks: deferred.yml
          environment: {A: import}
      environment: {A: block, B: block}
`,
		"show.yml":               show,
		"deferred.yml":           "- include_tasks: \"{{ inventory_hostname | replace('h1', 'own') }}.yml\"\n  vars: {which: deferred}\n",
		"own.yml":                "- name: show {{ which }}\n  command: printenv A B\n  environment: {B: own}\n",
		"roles/r/tasks/main.yml": show,
	}
	pb, _ := loadTree(t, files)
	inv, _ := inventory.Load("h1,")
	f := newFleet("h1")
	f.handle(memhost.Argv("/bin/sh"), runsLocally)
	rec := &recorder{}
	if _, err := Run(context.Background(), pb, inv, Options{Connector: f, Observer: rec}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rec.results {
		if r.Module == "command" {
			out, _ := r.Change.Data["stdout"].(string)
			got = append(got, out)
		}
	}
	// The role entry's, import_tasks', import_role's, then the deferred
	// include's (the import's A over the block's, its own B).
	if want := []string{"entry\nentry", "import\nimport", "import_role\nimport_role", "import\nown"}; !slices.Equal(got, want) {
		t.Errorf("environments %q, want %q", got, want)
	}
}

// TestEngineDeferredUndefined: an include whose file name uses a variable
// nothing can define (not known before the run, no fact, inventory, loop,
// registered, set_fact or include_vars variable) is refused before any
// host is contacted, positioned; one a source may define runs.
func TestEngineDeferredUndefined(t *testing.T) {
	tests := []struct {
		name, tasks, want string
	}{
		{"undefined", "    - include_tasks: \"{{ whih }}.yml\"\n",
			`pb.yml:4:22: tasks[0].include_tasks: "{{ whih }}.yml": undefined variable "whih": not known before the run`},
		{"in a when-skipped include, too", "    - include_tasks: \"{{ inventory_hostname }}/{{ nope.x }}.yml\"\n      when: false\n",
			`pb.yml:4:22: tasks[0].include_tasks: "{{ inventory_hostname }}/{{ nope.x }}.yml": undefined variable "nope"`},
		{"after a per-host include_vars, left to the run", "    - include_vars: \"{{ ansible_os_family }}.yml\"\n      ignore_errors: true\n    - include_tasks: \"{{ from_vars | default('a') }}.yml\"\n    - include_tasks: \"{{ from_vars2 }}.yml\"\n      when: false\n", ""},
		{"include_vars", "    - include_vars: \"{{ ansible_os_family }}-{{ whih }}.yml\"\n",
			`pb.yml:4:21: tasks[0].include_vars: "{{ ansible_os_family }}-{{ whih }}.yml": undefined variable "whih"`},
		{"set_fact, a fact, a guard and the loop variable may define them", "    - set_fact: {which: a}\n    - include_tasks: \"{{ which }}{{ ansible_nope | default('') }}{{ x | default('') }}.yml\"\n    - include_tasks: \"{{ item }}.yml\"\n      loop: [a]\n", ""},
		{"a registered variable", "    - command: echo a\n      register: r\n    - include_tasks: \"{{ r.stdout }}.yml\"\n", ""},
	}
	registerMemfile()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range map[string]string{
				"pb.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n" + tt.tasks,
				"a.yml":  "- debug: {msg: a}\n",
			} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			pb, err := playbook.Load(filepath.Join(dir, "pb.yml"), playbook.ParseOptions{Modules: modules.Names(), Check: Validate, Render: template.Render})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			inv, _ := inventory.Load("h1,")
			f := &userLog{fleet: newFleet("h1")}
			f.handle(memhost.Argv("/bin/sh"), runsLocally)
			_, err = Run(context.Background(), pb, inv, Options{Connector: f, Observer: &recorder{}})
			var ie *InputError
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (!errors.As(err, &ie) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want an input error with %q", err, tt.want)
			case tt.want != "" && len(f.users) > 0:
				t.Errorf("refused, yet it connected: %v", f.users)
			}
		})
	}
}
