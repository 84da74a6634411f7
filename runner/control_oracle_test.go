package runner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"tend/inventory"
	"tend/runner/connect"
	"tend/runner/modules"
	"tend/runner/playbook"
)

// controlPlaybooks are Ansible playbooks of the control modules, facts and
// magic variables, written as Ansible users write them, that both tools
// must count alike.
var controlPlaybooks = []struct {
	name, src string
	check     bool
}{
	{"facts, debug, set_fact, hostvars", `- hosts: all
  tasks:
    - name: facts are variables
      debug:
        msg: "{{ ansible_facts.distribution }} {{ ansible_distribution_major_version }} {{ ansible_os_family }}"
    - set_fact:
        role_of_host: "{{ 'first' if inventory_hostname == ansible_play_hosts[0] else 'other' }}"
    - debug:
        var: role_of_host
    - name: reads another host's fact
      debug:
        msg: "{{ hostvars['h1'].role_of_host }}"
    - debug:
        msg: only with -v
        verbosity: 1
    - fail:
        msg: "unexpected {{ hostvars['h1'].role_of_host }}"
      when: hostvars['h1'].role_of_host != 'first'
`, false},
	{"fail, meta and a second play", `- hosts: all
  gather_facts: false
  handlers:
    - name: note
      debug:
        msg: handled
  tasks:
    - meta: noop
    - set_fact:
        x: 1
      changed_when: true
      notify: note
    - meta: flush_handlers
    - fail:
        msg: "h2 stops here"
      when: inventory_hostname == 'h2'
    - meta: end_host
      when: inventory_hostname == 'h3'
    - debug:
        msg: "{{ groups['all'] | length }} {{ group_names }}"
- hosts: all
  gather_facts: false
  tasks:
    - debug:
        msg: "play two on {{ inventory_hostname_short }}"
`, false},
	{"clear_host_errors and end_play", `- hosts: all
  gather_facts: false
  tasks:
    - fail:
      when: inventory_hostname == 'h1'
    - meta: clear_host_errors
    - debug:
        msg: before
    - meta: end_play
    - debug:
        msg: never
- hosts: all
  gather_facts: false
  tasks:
    - debug:
        msg: "back: {{ ansible_play_hosts | length }}"
`, false},
	{"check mode", `- hosts: all
  tasks:
    - set_fact:
        y: "{{ ansible_check_mode }}"
    - debug:
        var: y
    - fail:
      when: not ansible_check_mode
`, true},
	{"block, rescue, always", `- hosts: all
  gather_facts: false
  tasks:
    - name: outer
      block:
        - debug:
            msg: one
        - name: boom
          fail:
            msg: boom
          when: inventory_hostname == 'h2'
        - debug:
            msg: not after the failure
      rescue:
        - debug:
            msg: "rescued {{ ansible_failed_task.name }}: {{ ansible_failed_result.msg }}"
        - fail:
            msg: second
          when: inventory_hostname == 'h3' and ansible_failed_result.msg == 'boom'
      always:
        - debug:
            msg: always
      vars:
        where: block
    - debug:
        msg: "after {{ ansible_failed_task.name | default('none') }}"
    - block:
        - fail:
            msg: no rescue
          when: inventory_hostname == 'h1'
      always:
        - debug:
            msg: always2
    - debug:
        msg: end
`, false},
	{"block when, nested blocks, ignore_errors", `- hosts: all
  gather_facts: false
  tasks:
    - block:
        - debug:
            msg: "{{ x }}"
        - debug:
            msg: "{{ x }}"
          vars:
            x: inner
      rescue:
        - debug:
            msg: r
      always:
        - debug:
            msg: a
      when: inventory_hostname == 'h1'
      vars:
        x: outer
    - block:
        - block:
            - fail:
                msg: deep
              when: inventory_hostname != 'h3'
          always:
            - debug:
                msg: inner always
        - debug:
            msg: skipped by the failure
      rescue:
        - debug:
            msg: "caught {{ ansible_failed_result.msg }}"
    - block:
        - fail:
            msg: ign
        - debug:
            msg: goes on
      ignore_errors: true
`, false},
	{"delegate_to, local_action, throttle", `- hosts: all
  gather_facts: false
  tasks:
    - command: echo "{{ inventory_hostname }}"
      delegate_to: localhost
      register: r
    - debug:
        msg: "{{ r.stdout }}"
      delegate_to: "{{ ansible_play_hosts[0] }}"
    - local_action: command echo local
      changed_when: false
    - action: command echo throttled
      throttle: 1
    - fail:
        msg: "{{ r.stdout }}"
      when: r.stdout != inventory_hostname
      delegate_to: h2
`, false},
	{"any_errors_fatal on a task", `- hosts: all
  gather_facts: false
  tasks:
    - debug:
        msg: first
    - fail:
        msg: boom
      when: inventory_hostname == 'h2'
      any_errors_fatal: true
    - debug:
        msg: never
`, false},
	{"any_errors_fatal on blocks, false on a task, rescued", `- hosts: all
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - fail:
        msg: not fatal
      when: inventory_hostname == 'h1'
      any_errors_fatal: false
    - block:
        - fail:
            msg: rescued
          when: inventory_hostname == 'h2'
      rescue:
        - debug:
            msg: caught
      any_errors_fatal: true
    - debug:
        msg: after
- hosts: all
  gather_facts: false
  tasks:
    - block:
        - debug:
            msg: in block
        - fail:
            msg: fatal
          when: inventory_hostname == 'h3'
        - debug:
            msg: never
      any_errors_fatal: true
    - debug:
        msg: never either
`, false},
	{"loop over an undefined variable under when", `- hosts: all
  gather_facts: false
  tasks:
    - debug:
        msg: "{{ item }}"
      loop: "{{ nosuch }}"
      when: nosuch is defined
      register: r
    - fail:
        msg: not skipped
      when: not r.skipped
    - debug:
        msg: "{{ item }}"
      with_items: "{{ nosuch }}"
      when: item is defined
    - debug:
        msg: "{{ item }}"
      loop: "{{ nosuch }}"
      when: inventory_hostname == 'h1'
      ignore_errors: true
`, false},
	{"literal values and unary minus", `- hosts: all
  gather_facts: false
  vars:
    s: '[1]'
  tasks:
    - command: echo '[1, 2]'
      register: out
      changed_when: false
    - set_fact:
        lit: "{{ '[1]' }}"
        var: "{{ s }}"
        stdout: "{{ out.stdout }}"
        json: "{{ s | to_json }}"
        flag: "yes"
        neg: "{{ -5 | abs }}"
    - assert:
        that:
          - lit | length == 1 and lit[0] == 1
          - var is sequence and var is not string
          - stdout | length == 2
          - json is string
          - flag is boolean and flag
          - neg | int == 5
`, false},
}

// recapRE reads a host's line of ansible-playbook's PLAY RECAP.
var recapRE = regexp.MustCompile(`(?m)^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)`)

// TestControlRecapsMatchAnsible runs each playbook with ansible-playbook
// and with tend on the same three local hosts and compares every host's
// ok/changed/failed/skipped/rescued/ignored (tend's ok plus changed plus
// ignored is Ansible's ok).
func TestControlRecapsMatchAnsible(t *testing.T) {
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		t.Skip("ansible-playbook not installed; oracle comparison skipped")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ansible.cfg")
	inv := filepath.Join(dir, "hosts")
	files := map[string]string{cfg: "", inv: "[all]\nh1 ansible_connection=local\nh2 ansible_connection=local\nh3 ansible_connection=local\n"}
	for p, s := range files {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range controlPlaybooks {
		t.Run(tt.name, func(t *testing.T) {
			pbFile := filepath.Join(dir, "pb.yml")
			if err := os.WriteFile(pbFile, []byte(tt.src), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"-i", inv, pbFile}
			if tt.check {
				args = append(args, "--check")
			}
			cmd := exec.Command(bin, args...)
			cmd.Env = append(os.Environ(), "HOME="+dir, "ANSIBLE_CONFIG="+cfg, "ANSIBLE_LOCAL_TEMP="+dir, "ANSIBLE_NOCOLOR=1",
				"ANSIBLE_PYTHON_INTERPRETER=auto_silent", "ANSIBLE_RETRY_FILES_ENABLED=False")
			out, _ := cmd.CombinedOutput() // a failed host exits 2
			want := map[string][6]int{}
			for _, m := range recapRE.FindAllStringSubmatch(string(out), -1) {
				var c [6]int
				for i := range c {
					c[i], _ = strconv.Atoi(m[i+2])
				}
				want[m[1]] = c
			}
			if len(want) != 3 {
				t.Fatalf("no recap from ansible-playbook:\n%s", out)
			}
			pb, err := playbook.Parse(pbFile, []byte(tt.src), playbook.ParseOptions{Modules: modules.Names()})
			if err != nil {
				t.Fatal(err)
			}
			tinv, err := inventory.Load(inv)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := Run(context.Background(), pb, tinv, Options{Check: tt.check, Connector: connect.Local{}})
			if err != nil {
				t.Fatal(err)
			}
			for h, w := range want {
				got := blockRecap(sum, h)
				got[0] += got[1] + got[5] // Ansible's ok counts the changed and ignored tasks too; tend's does not
				if got != w {
					t.Errorf("%s: tend ok/changed/failed/skipped/rescued/ignored %v, ansible-playbook %v", h, got, w)
				}
			}
			if t.Failed() {
				t.Logf("ansible-playbook:\n%s", out)
			}
		})
	}
}
