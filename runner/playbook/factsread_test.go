package playbook

import "testing"

// TestMentionsFacts: what could read a fact says yes (a fact name,
// ansible_facts, hostvars, vars by name, a lookup); names that only look
// alike say no (magic and connection variables, a vars: key, a module's
// collection name, an attribute).
func TestMentionsFacts(t *testing.T) {
	cases := []struct {
		text string
		want bool
	}{
		{`msg: "{{ ansible_hostname }}"`, true},
		{`when: ansible_facts['os_family'] == 'Debian'`, true},
		{`msg: "{{ hostvars[groups.mq[0]].x }}"`, true},
		{`msg: "{{ vars['tier'] }}"`, true},
		{`when: x in vars`, true},
		{`msg: "{{ lookup('vars', 'ansible_' + n) }}"`, true},
		{`msg: "{{ query('env', 'HOME') }}"`, true},
		{`# uses ansible_distribution_major_version`, true}, // comments too: conservative
		{`vars:
  tuning: {a: 1}`, false},
		{`ansible.posix.sysctl: {name: x}`, false},
		{`when: not ansible_check_mode and inventory_hostname in ansible_play_hosts`, false},
		{`ansible_user: deploy
ansible_become: true`, false},
		{`msg: "{{ result.vars }}"`, false}, // an attribute named vars
		{`shell: ss -Htan state close-wait | wc -l`, false},
	}
	for _, c := range cases {
		if got := MentionsFacts(c.text); got != c.want {
			t.Errorf("MentionsFacts(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}
