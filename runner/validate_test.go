package runner

import (
	"testing"

	"tend/runner/playbook"
)

// TestValidate: every problem of every task is reported, positioned and
// named by the task's path, sorted; an unknown module does not stop the
// checks of its own task's keywords nor of the next tasks.
func TestValidate(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unknown module then bad args", "- hosts: all\n  tasks:\n    - frob: x\n      when: \"a ===\"\n    - sysctl:\n        bogus: 1\n        reload: maybe\n",
			"pb.yml:3:7: tasks[0].frob: unknown module\n" +
				"pb.yml:4:13: tasks[0].when: invalid expression \"a ===\": expected a value before \"=\"\n" +
				"pb.yml:6:9: tasks[1].sysctl.bogus: unknown key; valid: file, ignoreerrors, name, persist, reload, settings, state, sysctl_file, sysctl_set, value\n" +
				"pb.yml:7:17: tasks[1].sysctl.reload: must be true or false, not \"maybe\""},
		{"module check, template and until", "- hosts: all\n  tasks:\n    - command: \"echo {{ x | lenght }}\"\n      until: \"(x\"\n      retries: 1\n",
			"pb.yml:3:16: tasks[0].command: invalid expression \"x | lenght\": unknown filter \"lenght\"; did you mean \"length\"?\n" +
				"pb.yml:4:14: tasks[0].until: invalid expression \"(x\": missing \")\""},
		{"templated retries and delay", "- hosts: all\n  tasks:\n    - command: x\n      until: x\n      retries: \"{{ n | lenght }}\"\n      delay: \"{{ (d }}\"\n",
			"pb.yml:5:16: tasks[0].retries: invalid expression \"n | lenght\": unknown filter \"lenght\"; did you mean \"length\"?\n" +
				"pb.yml:6:14: tasks[0].delay: invalid expression \"(d\": missing \")\""},
		{"templated environment", "- hosts: all\n  tasks:\n    - command: x\n      environment: \"{{ e | lenght }}\"\n",
			"pb.yml:4:20: tasks[0].environment: invalid expression \"e | lenght\": unknown filter \"lenght\"; did you mean \"length\"?"},
		{"handlers and verify", "- hosts: all\n  handlers:\n    - name: h\n      wait_for: {port: 0}\n  verify:\n    - assert: {that: []}\n",
			"pb.yml:4:24: handlers[0].wait_for: port must be a port between 1 and 65535, not 0\n" +
				"pb.yml:6:22: verify[0].assert: that: no expression to check"},
		{"metrics expression and label", "- hosts: all\n  tasks:\n    - command: x\n      metrics:\n        tend_a: \"x | lenght\"\n        'tend_b{p=\"{{ (p }}\"}': 1\n",
			"pb.yml:5:9: tasks[0].metrics.tend_a: invalid expression \"x | lenght\": unknown filter \"lenght\"; did you mean \"length\"?\n" +
				"pb.yml:6:9: tasks[0].metrics.tend_b: label p: invalid expression \"(p\": missing \")\""},
		{"statements in a shell body and a debug msg", "- hosts: all\n  tasks:\n    - shell: |\n        {% for h in groups['zk'] %}\n        echo {{ h | uper }}\n        {% endfor %}\n    - debug:\n        msg: \"{% if x %}a{% els %}b{% endif %}\"\n",
			"pb.yml:5:14: tasks[0].shell: invalid expression \"h | uper\": unknown filter \"uper\"; did you mean \"upper\"?\n" +
				"pb.yml:8:14: tasks[1].debug: unknown statement {% els %}"},
		{"play gather_subset", "- hosts: all\n  gather_subset: [facter, bogus]\n  tasks:\n    - command: x\n",
			"pb.yml:2:18: gather_facts.setup: gather_subset: unknown subset \"bogus\" (known: all, date_time, distribution, env, facter, hardware, min, network, ohai, pkg_mgr, platform, service_mgr, user, virtual)"},
		{"one problem", "- hosts: all\n  tasks:\n    - command: x\n      failed_when: \"x | lenght\"\n",
			"pb.yml:4:20: tasks[0].failed_when: invalid expression \"x | lenght\": unknown filter \"lenght\"; did you mean \"length\"?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb, err := playbook.Parse("pb.yml", []byte(tt.src), playbook.ParseOptions{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err = Validate(pb)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Validate\n got: %v\nwant: %s", err, tt.want)
			}
		})
	}
	pb, err := playbook.Parse("pb.yml", []byte("- hosts: all\n  tasks:\n    - command: echo {{ x }}\n    - shell: \"{% for h in hs %}echo {{ h }};{% endfor %}\"\n    - debug: {msg: \"{% if x %}a{% else %}b{% endif %}\"}\n"), playbook.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(pb); err != nil {
		t.Errorf("a valid playbook: %v", err)
	}
}
