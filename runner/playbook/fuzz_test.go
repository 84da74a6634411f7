package playbook

import "testing"

// FuzzParse asserts that no input makes Parse panic, and that a failure is
// always reported as an error, never as a nil playbook without one.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		"- hosts: all\n  tasks:\n    - command: uptime\n",
		"- hosts: [a, b]\n  vars: {x: 0755}\n  tasks:\n    - shell: echo {{ x }}\n      when: x is defined\n      notify: h\n  handlers:\n    - name: h\n      command: x\n",
		"- hosts: a\n  tasks:\n    - command: x\n      command: y\n",
		"- &a {hosts: *a}\n",
		"a: [\n",
		"- hosts: a\n  tasks: {% if %}\n",
		"- hosts: a\n  tasks:\n    - notfiy: x\n      <<: {b: 1}\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []ParseOptions{testModules, {}} {
			pb, err := Parse("fuzz.yml", data, opts)
			if (pb == nil) == (err == nil) {
				t.Fatalf("Parse returned playbook %v and error %v", pb, err)
			}
		}
	})
}
