package playbook

import (
	"strings"
	"testing"
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
		{name: "fire and forget inline", src: "    - sysctl: {name: a, value: 1}\n      async: 10\n      poll: 0\n",
			wantErr: "pb.yml:5:13: tasks[0].poll: poll: 0 (fire and forget) is supported for command and shell only"},
		{name: "loop", src: "    - command: x\n      async: 10\n      loop: [1]\n", wantErr: "async on a looped task is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testModules
			opts.Modules = append([]string{"debug", "reboot"}, opts.Modules...)
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
