package playbook

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testModules = ParseOptions{Modules: []string{"command", "shell", "sysctl", "service", "assert", "wait_for", "systemd", "systemd_service"}}

// TestParseErrors holds one case per rejected input; want lists substrings
// the error text must contain (positions included).
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"malformed yaml", "- hosts: all\n  tasks: [\n", []string{"pb.yml:2:10: malformed YAML: did not find expected node content"}},
		{"tab indent", "- hosts: all\n\t tasks: []\n", []string{"pb.yml:2:1: malformed YAML: found a tab character that violates indentation (indent with spaces)"}},
		{"empty file", "", []string{"pb.yml:1:1: playbook is empty"}},
		{"empty document", "---\n", []string{"playbook is empty"}},
		{"two documents", "- hosts: a\n---\n- hosts: b\n", []string{"pb.yml:2:1: a playbook is one YAML document"}},
		{"not a list", "hosts: all\n", []string{"pb.yml:1:1: a playbook must be a list of plays"}},
		{"no plays", "[]\n", []string{"playbook has no plays"}},
		{"play not mapping", "- all\n", []string{"pb.yml:1:3: a play must be a mapping"}},
		{"duplicate play key", "- hosts: a\n  name: x\n  hosts: b\n", []string{"pb.yml:3:3: hosts: duplicate key (first at line 1, again at line 3)"}},
		{"duplicate in module args", "- hosts: a\n  tasks:\n    - sysctl:\n        name: x\n        name: y\n", []string{"pb.yml:5:9: name: duplicate key (first at line 4, again at line 5)"}},
		{"duplicate module key", "- hosts: a\n  tasks:\n    - command: a\n      command: b\n", []string{"pb.yml:4:7: command: duplicate key"}},
		{"unknown play key", "- hots: a\n", []string{"pb.yml:1:3: hots: unknown play key; did you mean \"hosts\"?"}},
		{"unsupported play key", "- hosts: a\n  strategy: free\n", []string{"pb.yml:2:3: strategy: play keyword is not supported"}},
		{"bad order", "- hosts: a\n  order: random\n  tasks: []\n", []string{"pb.yml:2:10: order: order \"random\" is not one of inventory, reverse_inventory, sorted, reverse_sorted, shuffle"}},
		{"missing hosts", "- name: x\n  tasks: []\n", []string{"pb.yml:1:3: hosts: a play needs hosts"}},
		{"empty hosts", "- hosts: \"\"\n", []string{"pb.yml:1:10: hosts: must not be empty"}},
		{"empty hosts list", "- hosts: []\n", []string{"hosts: must not be empty"}},
		{"hosts mapping", "- hosts: {a: 1}\n", []string{"hosts: must be a pattern or a list"}},
		{"tasks not list", "- hosts: a\n  tasks: {command: x}\n", []string{"pb.yml:2:10: tasks: tasks must be a list, not a mapping"}},
		{"task not mapping", "- hosts: a\n  tasks:\n    - command x\n", []string{"pb.yml:3:7: tasks[0]: a task must be a mapping"}},
		{"notfiy typo", "- hosts: a\n  tasks:\n    - command: x\n      notfiy: h\n", []string{`pb.yml:4:7: tasks[0].notfiy: unknown module or task keyword "notfiy"; did you mean "notify"?`}},
		{"module typo", "- hosts: a\n  tasks:\n    - comand: x\n", []string{`did you mean "command"?`}},
		{"unsupported fqcn", "- hosts: a\n  tasks:\n    - ansible.builtin.copy: {}\n", []string{`pb.yml:3:7: tasks[0].ansible.builtin.copy: module "ansible.builtin.copy" is not supported by tend`}},
		{"unsupported task keyword", "- hosts: a\n  tasks:\n    - command: x\n      debugger: on_failed\n", []string{"pb.yml:4:7: tasks[0].debugger: task keyword is not supported by tend: it stops the run at a Python debugger prompt"}},
		{"delegate_to empty", "- hosts: a\n  tasks:\n    - command: x\n      delegate_to: ''\n", []string{"pb.yml:4:20: tasks[0].delegate_to: must name a host"}},
		{"throttle negative", "- hosts: a\n  tasks:\n    - command: x\n      throttle: -1\n", []string{"pb.yml:4:17: tasks[0].throttle: must not be negative"}},
		{"run_once not a boolean", "- hosts: a\n  tasks:\n    - command: x\n      run_once: often\n", []string{"pb.yml:4:17: tasks[0].run_once:"}},
		{"with_subelements", "- hosts: a\n  tasks:\n    - command: x\n      with_subelements: [1]\n", []string{"pb.yml:4:7: tasks[0].with_subelements: with_subelements is not supported by tend; use loop: with a filter"}},
		{"two modules", "- hosts: a\n  tasks:\n    - command: x\n      shell: y\n", []string{`pb.yml:4:7: tasks[0].shell: a task runs exactly one module; found "command" (line 3) and "shell" (line 4)`}},
		{"no module", "- hosts: a\n  tasks:\n    - name: x\n", []string{"pb.yml:3:7: tasks[0]: task has no module (one of: assert, command"}},
		{"register not ident", "- hosts: a\n  tasks:\n    - command: x\n      register: my-var\n", []string{"pb.yml:4:17: tasks[0].register: must be a variable name"}},
		{"register reserved", "- hosts: a\n  tasks:\n    - command: x\n      register: not\n", []string{"register: must be a variable name"}},
		{"when number", "- hosts: a\n  tasks:\n    - command: x\n      when: 5\n", []string{"pb.yml:4:13: tasks[0].when: must be a condition"}},
		{"when mapping", "- hosts: a\n  tasks:\n    - command: x\n      when: a: b\n", []string{"pb.yml:4:14: malformed YAML: mapping values are not allowed in this context"}},
		{"check_mode maybe", "- hosts: a\n  tasks:\n    - command: x\n      check_mode: maybe\n", []string{`pb.yml:4:19: tasks[0].check_mode: must be true or false, not "maybe"`}},
		{"rollback maybe", "- hosts: a\n  rollback: maybe\n  tasks:\n    - command: x\n", []string{`pb.yml:2:13: rollback: must be true or false, not "maybe"`}},
		{"rollback misspelled", "- hosts: a\n  rolback: true\n", []string{`pb.yml:2:3: rolback: unknown play key; did you mean "rollback"?`}},
		{"ignore_errors string", "- hosts: a\n  tasks:\n    - command: x\n      ignore_errors: \"sure\"\n", []string{"ignore_errors: must be true or false"}},
		{"timeout bad", "- hosts: a\n  tasks:\n    - command: x\n      timeout: soon\n", []string{`timeout: must be a duration like "30s"`}},
		{"timeout negative", "- hosts: a\n  tasks:\n    - command: x\n      timeout: -5s\n", []string{"timeout: must not be negative"}},
		{"retries octal", "- hosts: a\n  tasks:\n    - command: x\n      retries: 010\n", []string{"retries: must be a decimal integer"}},
		{"listen outside handlers", "- hosts: a\n  tasks:\n    - command: x\n      listen: y\n", []string{"listen is only valid in handlers"}},
		{"notify unknown handler", "- hosts: a\n  tasks:\n    - command: x\n      notify: restart sshd\n  handlers:\n    - name: Restart sshd\n      service: {}\n", []string{`pb.yml:4:15: notify: "restart sshd" matches no handler name or listen topic in this play; did you mean "Restart sshd"?`}},
		{"notify without handlers", "- hosts: a\n  tasks:\n    - command: x\n      notify: [h]\n", []string{"pb.yml:4:16: notify", "the play has no handlers"}},
		{"duplicate handler", "- hosts: a\n  handlers:\n    - name: h\n      command: x\n    - name: h\n      command: y\n", []string{`pb.yml:5:7: handlers[1]: handler name "h" is already used by the handler at line 3`}},
		{"handler without name", "- hosts: a\n  handlers:\n    - command: x\n", []string{"a handler needs a name or listen"}},
		{"vars not mapping", "- hosts: a\n  vars: [a]\n", []string{"pb.yml:2:9: vars: must be a mapping"}},
		{"var name", "- hosts: a\n  vars:\n    my-var: 1\n", []string{"pb.yml:3:5: vars: variable names must be identifiers"}},
		{"vault tag", "- hosts: a\n  vars:\n    pw: !vault abc\n", []string{"vars.pw: YAML tag !vault is not supported"}},
		{"serial zero", "- hosts: a\n  serial: 0\n", []string{"serial: must be a positive count"}},
		{"max fail range", "- hosts: a\n  max_fail_percentage: 101\n", []string{"max_fail_percentage: must be between 0 and 100"}},
		{"merge key of a string", "- hosts: a\n  vars:\n    base: &b x\n    other:\n      <<: *b\n", []string{"pb.yml:3:11: <<: a merge key (<<) needs a mapping or a list of mappings, not"}},
		{"many errors", "- hots: a\n- hosts: b\n  tasks:\n    - notfiy: x\n", []string{"pb.yml:1:3: hots", "pb.yml:4:7: tasks[0].notfiy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb, err := Parse("pb.yml", []byte(tt.src), testModules)
			if err == nil {
				t.Fatalf("Parse succeeded (%d plays), want error containing %q", len(pb.Plays), tt.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *Error: %v", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

func TestParseFull(t *testing.T) {
	src := `
- name: tune
  hosts: [web, db]
  serial: [1, "50%"]
  max_fail_percentage: 0
  any_errors_fatal: true
  rollback: yes
  gather_facts: false
  become: true
  become_user: root
  vars:
    mode: 0755
    flag: yes
    big: 1e3
    count: 5
    ratio: 0.5
    nothing: ~
  tasks:
    - name: count waits
      ansible.builtin.shell: ss -tan | grep -c CLOSE-WAIT
      register: closewait
      changed_when: false
      check_mode: false
      timeout: 30
    - ansible.posix.sysctl:
        name: net.ipv4.tcp_fin_timeout
        value: "30"
      when: [closewait.count > 5, true]
      notify: reload
      tags: tune
      retries: 3
      until: r.rc == 0
      delay: 2s
      no_log: true
      vars: {x: "{{ count }}"}
  handlers:
    - name: reload
      listen: [reload all]
      command: sysctl -p
  verify:
    - assert:
        that: closewait.count < 5
`
	pb, err := Parse("pb.yml", []byte(src), testModules)
	if err != nil {
		t.Fatal(err)
	}
	play := pb.Plays[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"hosts", play.Hosts, "web,db"},
		{"pos", play.Pos, Pos{File: "pb.yml", Line: 2, Col: 3}},
		{"serial", play.Serial, []string{"1", "50%"}},
		{"max fail", *play.MaxFailPercentage, 0},
		{"become", *play.Become, true},
		{"rollback", play.Rollback, true},
		{"var names", play.VarNames, []string{"mode", "flag", "big", "count", "ratio", "nothing"}},
		{"vars", play.Vars, map[string]any{"mode": "0755", "flag": "yes", "big": "1e3", "count": 5, "ratio": 0.5, "nothing": nil}},
		{"module fqcn", play.Tasks[0].Module, "shell"},
		{"module pos", play.Tasks[0].ModulePos, Pos{File: "pb.yml", Line: 20, Col: 7}},
		{"args scalar", play.Tasks[0].Args.Value, "ss -tan | grep -c CLOSE-WAIT"},
		{"changed_when bool", play.Tasks[0].ChangedWhen, []string{"false"}},
		{"check_mode", *play.Tasks[0].CheckMode, false},
		{"timeout int", play.Tasks[0].Timeout, 30 * time.Second},
		{"sysctl", play.Tasks[1].Module, "sysctl"},
		{"task pos", play.Tasks[1].Pos, Pos{File: "pb.yml", Line: 25, Col: 7}},
		{"when list", play.Tasks[1].When, []string{"closewait.count > 5", "true"}},
		{"notify", play.Tasks[1].Notify, []string{"reload"}},
		{"tags", play.Tasks[1].Tags, []string{"tune"}},
		{"retries", *play.Tasks[1].Retries, 3},
		{"until", play.Tasks[1].Until, []string{"r.rc == 0"}},
		{"delay", *play.Tasks[1].Delay, 2 * time.Second},
		{"task vars", play.Tasks[1].Vars, map[string]any{"x": "{{ count }}"}},
		{"display name", play.Tasks[1].DisplayName(), "sysctl"},
		{"listen", play.Handlers[0].Listen, []string{"reload all"}},
		{"verify", play.Verify[0].Module, "assert"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestParseAnyModule(t *testing.T) {
	pb, err := Parse("pb.yml", []byte("- hosts: a\n  tasks:\n    - whatever: {x: 1}\n"), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := pb.Plays[0].Tasks[0].Module; got != "whatever" {
		t.Errorf("module = %q", got)
	}
	_, err = Parse("pb.yml", []byte("- hosts: a\n  tasks:\n    - whatever: {}\n      notfiy: x\n"), ParseOptions{})
	if err == nil || !strings.Contains(err.Error(), `did you mean "notify"?`) {
		t.Errorf("typo of a keyword without a module list: %v", err)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.yml")
	if err := os.WriteFile(path, []byte("- hosts: all\n  tasks:\n    - comand: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, testModules)
	if err == nil || !strings.HasPrefix(err.Error(), path+":3:7: ") {
		t.Errorf("Load error = %v, want it positioned in %s", err, path)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yml"), testModules); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}
