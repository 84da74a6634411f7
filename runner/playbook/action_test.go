package playbook

import (
	"strings"
	"testing"
)

// TestParseActionKeys: action: and local_action: name their module in
// their value, as a free-form line or a mapping with module:;
// local_action delegates to localhost.
func TestParseActionKeys(t *testing.T) {
	tests := []struct {
		name, task       string
		module, delegate string
		arg              string // the args node's first value
	}{
		{"local_action line", "local_action: command echo hi", "command", "localhost", "echo hi"},
		{"local_action mapping", "local_action: {module: sysctl, name: a.b, value: '1'}", "sysctl", "localhost", "a.b"},
		{"local_action key=value", "local_action: sysctl name=a.b value=1", "sysctl", "localhost", "a.b"},
		{"action line", "action: command echo hi", "command", "", "echo hi"},
		{"action fqcn mapping", "action: {module: ansible.builtin.command, cmd: ls}", "command", "", "ls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb, err := Parse("pb.yml", []byte("- hosts: a\n  tasks:\n    - "+tt.task+"\n"), ParseOptions{Modules: []string{"command", "sysctl"}})
			if err != nil {
				t.Fatal(err)
			}
			task := pb.Plays[0].Tasks[0]
			if task.Module != tt.module || task.DelegateTo != tt.delegate {
				t.Fatalf("module %q delegate %q, want %q %q", task.Module, task.DelegateTo, tt.module, tt.delegate)
			}
			got := task.Args.Value
			if len(task.Args.Content) > 1 {
				got = task.Args.Content[1].Value
			}
			if got != tt.arg {
				t.Errorf("args %q, want %q", got, tt.arg)
			}
		})
	}
	for _, bad := range []struct{ task, want string }{
		{"local_action: {name: x}", "pb.yml:3:21: tasks[0].local_action: local_action must name a module"},
		{"local_action: command ls\n      delegate_to: b", "local_action runs on localhost: it cannot also have delegate_to"},
		{"local_action: copy src=a", `pb.yml:3:21: tasks[0].local_action: unknown module or task keyword "copy"`},
	} {
		_, err := Parse("pb.yml", []byte("- hosts: a\n  tasks:\n    - "+bad.task+"\n"), ParseOptions{Modules: []string{"command", "sysctl"}})
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want %q", bad.task, err, bad.want)
		}
	}
}

// TestParseBlockDelegation: a block's delegate_to, run_once, throttle and
// ignore_unreachable reach the tasks inside that do not set their own.
func TestParseBlockDelegation(t *testing.T) {
	pb, err := Parse("pb.yml", []byte(`- hosts: a
  tasks:
    - block:
        - command: one
        - command: two
          delegate_to: other
          throttle: 3
      delegate_to: localhost
      run_once: true
      throttle: 1
      ignore_unreachable: true
`), ParseOptions{Modules: []string{"command"}})
	if err != nil {
		t.Fatal(err)
	}
	in := pb.Plays[0].Tasks[0].Block.Tasks
	one, two := in[0], in[1]
	if one.DelegateTo != "localhost" || !one.RunOnce || one.Throttle != 1 || !one.IgnoreUnreachable {
		t.Errorf("first task %q %v %d %v, want the block's", one.DelegateTo, one.RunOnce, one.Throttle, one.IgnoreUnreachable)
	}
	if two.DelegateTo != "other" || two.Throttle != 3 || !two.RunOnce {
		t.Errorf("second task %q %d %v, want its own delegate and throttle, the block's run_once", two.DelegateTo, two.Throttle, two.RunOnce)
	}
}
