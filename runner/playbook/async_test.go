package playbook

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParseAsync(t *testing.T) {
	tests := []struct {
		name, src   string
		async, poll string
		wantErr     string
	}{
		{name: "poll given", src: "    - command: x\n      async: 45\n      poll: 5\n", async: "45", poll: "5"},
		{name: "poll zero", src: "    - shell: x\n      async: 600\n      poll: 0\n", async: "600", poll: "0"},
		{name: "poll default", src: "    - command: x\n      async: 45\n", async: "45"},
		{name: "templated", src: "    - command: x\n      async: \"{{ t }}\"\n      poll: \"{{ p }}\"\n", async: "{{ t }}", poll: "{{ p }}"},
		{name: "async zero is a normal task", src: "    - command: x\n      async: 0\n      poll: 3\n"},
		{name: "poll without async", src: "    - command: x\n      poll: 3\n"},
		{name: "inline module", src: "    - sysctl: {name: a, value: 1}\n      async: 30\n      poll: 2\n", async: "30", poll: "2"},
		{name: "negative", src: "    - command: x\n      async: -1\n", wantErr: "pb.yml:4:14: tasks[0].async: must not be negative"},
		{name: "not a number", src: "    - command: x\n      poll: soon\n", wantErr: "pb.yml:4:13: tasks[0].poll: must be a decimal integer"},
		{name: "controller module", src: "    - debug: {msg: x}\n      async: 10\n", wantErr: "pb.yml:4:14: tasks[0].async: debug cannot run async (it runs on the controller)"},
		{name: "reboot", src: "    - reboot: {}\n      async: 10\n", wantErr: "tasks[0].async: reboot cannot run async"},
		{name: "fetch", src: "    - fetch: {src: /a, dest: b}\n      async: 10\n", wantErr: "tasks[0].async: fetch cannot run async (Ansible's fetch does not support it)"},
		{name: "unarchive", src: "    - unarchive: {src: a, dest: /b}\n      async: 10\n", wantErr: "tasks[0].async: unarchive cannot run async"},
		{name: "fire and forget inline", src: "    - sysctl: {name: a, value: 1}\n      async: 10\n      poll: 0\n",
			wantErr: "pb.yml:5:13: tasks[0].poll: poll: 0 (fire and forget) is supported for command and shell only"},
		{name: "loop", src: "    - command: x\n      async: 10\n      loop: [1]\n", wantErr: "async on a looped task is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testModules
			opts.Modules = append([]string{"debug", "reboot", "fetch", "unarchive"}, opts.Modules...)
			pb, err := Parse("pb.yml", []byte("- hosts: a\n  tasks:\n"+tt.src), opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			task := pb.Plays[0].Tasks[0]
			if task.Async != tt.async || task.Poll != tt.poll {
				t.Errorf("async, poll = %q, %q; want %q, %q", task.Async, task.Poll, tt.async, tt.poll)
			}
		})
	}
}

func TestParseModuleDefaults(t *testing.T) {
	src := `- hosts: a
  module_defaults:
    ansible.posix.sysctl: {sysctl_file: /etc/sysctl.d/90-tend.conf, reload: false}
    wait_for: {timeout: 30}
  tasks:
    - sysctl: {name: a, value: "1", reload: true}
    - block:
        - wait_for: {port: 80}
    - wait_for:
    - command: ls
`
	pb, err := Parse("pb.yml", []byte(src), testModules)
	if err != nil {
		t.Fatal(err)
	}
	args := func(task *Task) map[string]any {
		var m map[string]any
		if err := task.Args.Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	tasks := pb.Plays[0].Tasks
	if got := args(tasks[0]); got["sysctl_file"] != "/etc/sysctl.d/90-tend.conf" || got["reload"] != true || got["name"] != "a" {
		t.Errorf("sysctl args = %v: want the default file and the task's own reload", got)
	}
	if got := args(tasks[1].Block.Tasks[0]); got["timeout"] != 30 || got["port"] != 80 {
		t.Errorf("wait_for in a block = %v", got)
	}
	if got := args(tasks[2]); got["timeout"] != 30 {
		t.Errorf("wait_for without arguments = %v", got)
	}
	if tasks[3].Args.Kind != yaml.ScalarNode || tasks[3].Args.Value != "ls" {
		t.Errorf("command line = %+v", tasks[3].Args)
	}
	for _, bad := range []struct{ src, want string }{
		{"- hosts: a\n  module_defaults:\n    group/aws: {region: x}\n", "pb.yml:3:5: module_defaults.group/aws: action groups are not supported by tend"},
		{"- hosts: a\n  module_defaults:\n    sysctl: x\n", "pb.yml:3:13: module_defaults.sysctl: must be a mapping of the module's arguments"},
		{"- hosts: a\n  module_defaults:\n    apt: {}\n", `module_defaults.apt: module "apt" is not supported by tend`},
	} {
		if _, err := Parse("pb.yml", []byte(bad.src), testModules); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Parse(%q) = %v, want %q", bad.src, err, bad.want)
		}
	}
}

func TestParseCollections(t *testing.T) {
	ok := "- hosts: a\n  collections: [ansible.posix]\n  tasks:\n    - block:\n        - sysctl: {name: a, value: \"1\"}\n      collections: [community.general]\n    - command: x\n      collections: [ansible.builtin]\n"
	if _, err := Parse("pb.yml", []byte(ok), testModules); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ src, want string }{
		{"- hosts: a\n  collections: ansible.posix\n", "pb.yml:2:16: collections: must be a list of collection names"},
		{"- hosts: a\n  tasks:\n    - command: x\n      collections: [posix]\n", "pb.yml:4:21: tasks[0].collections[0]: must be a collection name"},
	} {
		if _, err := Parse("pb.yml", []byte(bad.src), testModules); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Parse(%q) = %v, want %q", bad.src, err, bad.want)
		}
	}
}
