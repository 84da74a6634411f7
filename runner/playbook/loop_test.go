package playbook

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestParseLoops: loop and the with_ keywords tend runs are read with
// their loop_control; the value stays a node rendered per host.
func TestParseLoops(t *testing.T) {
	src := `- hosts: a
  tasks:
    - sysctl: {name: "{{ item.key }}", value: "{{ item.value }}"}
      loop: "{{ tuning | dict2items }}"
      loop_control: {label: "{{ item.key }}", loop_var: kv, index_var: i, pause: 2, extended: yes}
    - command: echo {{ item }}
      with_sequence: start=1 end=3
    - command: echo {{ item }}
      with_items: [a, [b, c]]
`
	pb, err := Parse("pb.yml", []byte(src), testModules)
	if err != nil {
		t.Fatal(err)
	}
	tasks := pb.Plays[0].Tasks
	l := tasks[0].Loop
	if l == nil || l.Kind != "loop" || l.Value.Value != "{{ tuning | dict2items }}" || l.Label != "{{ item.key }}" ||
		l.LoopVar != "kv" || l.IndexVar != "i" || l.Pause != 2*time.Second || !l.Extended || l.Pos.Line != 4 || l.Pos.Col != 13 {
		t.Errorf("loop %+v", l)
	}
	if l := tasks[1].Loop; l == nil || l.Kind != "with_sequence" || l.LoopVar != "item" {
		t.Errorf("with_sequence %+v", l)
	}
	if l := tasks[2].Loop; l == nil || l.Kind != "with_items" || l.Value.Kind != yaml.SequenceNode {
		t.Errorf("with_items %+v", l)
	}
}

// TestParseAnsibleSyntax: free-form key=value arguments, args:, FQCN and
// short module names, become_method: sudo, Ansible booleans.
func TestParseAnsibleSyntax(t *testing.T) {
	src := `- hosts: a
  tasks:
    - ansible.posix.sysctl: name=net.ipv4.tcp_fin_timeout value=30 reload=yes
    - service: name=activemq state=restarted
    - systemd_service:
        name: x
      args:
        state: started
        name: ignored
    - ansible.builtin.command: echo a=b
      args:
        chdir: /tmp
    - sysctl: name="{{ item.key }}" value='{{ item.value }}' msg="two words" file={{ f | default('a b') }}
      become: yes
      become_method: sudo
      ignore_errors: True
`
	pb, err := Parse("pb.yml", []byte(src), testModules)
	if err != nil {
		t.Fatal(err)
	}
	tasks := pb.Plays[0].Tasks
	want := []struct{ module, args string }{
		{"sysctl", "name=net.ipv4.tcp_fin_timeout value=30(!!int) reload=yes"},
		{"service", "name=activemq state=restarted"},
		{"systemd_service", "name=x state=started"}, // its own module: service with manager systemd
		{"command", "cmd=echo a=b chdir=/tmp"},
		{"sysctl", "name={{ item.key }} value={{ item.value }} msg=two words file={{ f | default('a b') }}"},
	}
	for i, w := range want {
		if tasks[i].Module != w.module || flat(tasks[i].Args) != w.args {
			t.Errorf("task %d: %s %s, want %s %s", i, tasks[i].Module, flat(tasks[i].Args), w.module, w.args)
		}
	}
	if a := tasks[0].Args.Content[1]; a.Line != 3 || a.Column != 29 {
		t.Errorf("k=v position %d:%d, want the scalar's 3:29", a.Line, a.Column)
	}
	if tasks[4].Become == nil || !*tasks[4].Become || !tasks[4].IgnoreErrors {
		t.Errorf("become/ignore_errors yes/True not read as true")
	}
}

// flat renders a mapping node as "k=v k=v" (ints marked), for comparisons.
func flat(n *yaml.Node) string {
	var parts []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		v := n.Content[i+1]
		s := n.Content[i].Value + "=" + v.Value
		if v.Tag == "!!int" {
			s += "(!!int)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// TestParseLoopSyntaxErrors: what tend refuses, with file:line:col.
func TestParseLoopSyntaxErrors(t *testing.T) {
	head := "- hosts: a\n  tasks:\n"
	for _, tc := range []struct{ name, src, want string }{
		{"with_subelements", "    - command: x\n      with_subelements: [a, b]\n",
			"pb.yml:4:7: tasks[0].with_subelements: with_subelements is not supported by tend; use loop: with a filter"},
		{"two loops", "    - command: x\n      loop: [1]\n      with_items: [2]\n",
			"pb.yml:5:7: tasks[0].with_items: a task has one loop; found loop (line 4) and with_items"},
		{"loop mapping", "    - command: x\n      loop: {a: 1}\n",
			"pb.yml:4:13: tasks[0].loop: must be a list, not a mapping"},
		{"loop null", "    - command: x\n      loop:\n",
			"tasks[0].loop: must be a list or a template giving one, not null"},
		{"loop_control alone", "    - command: x\n      loop_control: {label: x}\n",
			"pb.yml:4:21: tasks[0].loop_control: loop_control without loop: or with_*"},
		{"loop_control typo", "    - command: x\n      loop: [1]\n      loop_control: {lable: x}\n",
			`pb.yml:5:22: tasks[0].loop_control.lable: unknown loop_control key "lable"; did you mean "label"?`},
		{"loop_var not a name", "    - command: x\n      loop: [1]\n      loop_control: {loop_var: 1x}\n",
			"tasks[0].loop_control.loop_var: must be a variable name"},
		{"become_method su", "    - command: x\n      become_method: su\n",
			`pb.yml:4:22: tasks[0].become_method: become_method "su" is not supported by tend: only sudo`},
		{"k=v bad word", "    - sysctl: name=x reload\n",
			`pb.yml:3:15: tasks[0].sysctl: free-form arguments must be key=value pairs (as name=x state=y), not "reload"`},
		{"k=v twice", "    - sysctl: name=x name=y\n", "free-form arguments give name twice"},
		{"k=v open quote", "    - sysctl: name=\"x\n", "free-form arguments: unterminated quote"},
		{"args not mapping", "    - command: x\n      args: [a]\n", "pb.yml:4:13: tasks[0].args: must be a mapping of the module's arguments, not a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("pb.yml", []byte(head+tc.src), testModules)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant %s", err, tc.want)
			}
		})
	}
}
