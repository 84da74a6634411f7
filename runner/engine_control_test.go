package runner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/inventory"
	"tend/runner/modules"
	"tend/runner/playbook"
)

// runOnInv is runOn with an INI inventory (groups) instead of a host list.
func runOnInv(t *testing.T, f *fleet, ini, src string, opts Options) (*Summary, *recorder) {
	t.Helper()
	registerMemfile()
	pb, err := playbook.Parse("play.yml", []byte(src), playbook.ParseOptions{Modules: modules.Names()})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	path := filepath.Join(t.TempDir(), "hosts.ini")
	if err := os.WriteFile(path, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	rec := &recorder{}
	opts.Connector, opts.Observer = f, rec
	sum, err := Run(context.Background(), pb, inv, opts)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return sum, rec
}

// recapOf returns host's recap as ok/changed/failed/skipped.
func recapOf(sum *Summary, host string) [4]int {
	for _, h := range sum.Hosts {
		if h.Host == host {
			return [4]int{h.OK, h.Changed, h.Failed, h.Skipped}
		}
	}
	return [4]int{-1, -1, -1, -1}
}

// TestEngineFactsAndMagicVars: gathered facts are variables (ansible_X and
// ansible_facts.X), the magic variables hold what Ansible's do, set_fact
// and registered results of one host are read by another through
// hostvars, and an argument set to omit is dropped.
func TestEngineFactsAndMagicVars(t *testing.T) {
	const ini = "[web]\nweb1.example.com\nweb2\n[db]\ndb1\n"
	tests := []struct {
		name, tasks, want string
		opts              Options
		gather            bool
	}{
		{"facts as ansible_X and ansible_facts.X", `{{ ansible_distribution }} {{ ansible_facts.distribution_major_version }} {{ ansible_facts['os_family'] }} {{ ansible_hostname }}`, "Debian 12 Debian web1", Options{}, true},
		{"no facts without gathering", `{{ ansible_distribution | default('none') }} {{ ansible_facts | length }}`, "none 0", Options{}, false},
		{"host names", `{{ inventory_hostname }} {{ inventory_hostname_short }} {{ group_names | join(',') }}`, "web1.example.com web1 web", Options{}, false},
		{"groups and play hosts", `{{ groups['web'] | join(',') }} {{ groups['all'] | length }} {{ ansible_play_hosts | join(',') }} {{ play_hosts | length }} {{ ansible_play_batch | length }}`, "web1.example.com,web2 3 web1.example.com,web2 2 2", Options{}, false},
		{"run options", `{{ 'check' if ansible_check_mode else 'apply' }} {{ ansible_limit }} {{ ansible_run_tags | join(',') }}`, "apply web all", Options{Limit: "web"}, false},
		{"playbook_dir, verbosity, skip tags", `{{ playbook_dir | basename }} {{ ansible_verbosity }} {{ ansible_skip_tags | length }} {{ ansible_play_name }}`, "runner 1 0 p", Options{Verbosity: 1}, false},
		{"hostvars: another host's set_fact and inventory name", `{{ hostvars['web2'].token }} {{ hostvars['web2']['inventory_hostname'] }}`, "web2-token web2", Options{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet("web1.example.com", "web2", "db1")
			gather := "false"
			if tt.gather {
				gather = "true"
			}
			src := `- name: p
  hosts: web
  gather_facts: ` + gather + `
  tasks:
    - set_fact:
        token: "{{ inventory_hostname }}-token"
    - memfile:
        path: /out
        content: "` + strings.ReplaceAll(tt.tasks, `"`, `\"`) + `"
`
			sum, _ := runOnInv(t, f, ini, src, tt.opts)
			if sum.Err() != nil {
				t.Fatalf("run failed: %v", sum.Err())
			}
			got, _ := f.hosts["web1.example.com"].File("/out")
			if string(got) != tt.want {
				t.Errorf("rendered %q, want %q", got, tt.want)
			}
			wantOK := 2 // set_fact, memfile's re-check
			if tt.gather {
				wantOK++ // Gathering Facts counts ok, as Ansible's
			}
			if rc := recapOf(sum, "web2"); rc != [4]int{wantOK, 1, 0, 0} {
				t.Errorf("web2 recap ok/changed/failed/skipped = %v, want [%d 1 0 0]", rc, wantOK)
			}
		})
	}
}

// TestEngineOmitDropsArgument: a module argument set to omit is as if not
// given (memfile's content then defaults to empty).
func TestEngineOmitDropsArgument(t *testing.T) {
	f := newFleet("h1")
	f.hosts["h1"].SetFile("/out", []byte("x"))
	sum, _ := runOn(t, f, `- hosts: all
  gather_facts: false
  tasks:
    - memfile: {path: /out, content: "{{ omit }}"}
`, Options{})
	if sum.Err() != nil {
		t.Fatal(sum.Err())
	}
	if got, _ := f.hosts["h1"].File("/out"); string(got) != "" {
		t.Errorf("/out = %q, want it emptied (content omitted)", got)
	}
}

// TestEngineControlRecaps: debug, set_fact, fail and meta count in the
// recap as ansible-playbook 2.14 counts them (pinned from its runs of the
// same playbooks; TestControlRecapsMatchAnsible compares live).
func TestEngineControlRecaps(t *testing.T) {
	tests := []struct {
		name, src string
		opts      Options
		want      map[string][4]int // ok, changed, failed, skipped
	}{
		{"debug and verbosity", `- hosts: all
  gather_facts: false
  tasks:
    - debug: {msg: "hi {{ inventory_hostname }}"}
    - debug: {var: inventory_hostname}
    - debug: {msg: quiet, verbosity: 1}
`, Options{}, map[string][4]int{"h1": {2, 0, 0, 1}, "h2": {2, 0, 0, 1}}},
		{"verbosity met with -v", `- hosts: all
  gather_facts: false
  tasks:
    - debug: {msg: quiet, verbosity: 1}
`, Options{Verbosity: 1}, map[string][4]int{"h1": {1, 0, 0, 0}, "h2": {1, 0, 0, 0}}},
		{"meta counts nowhere; end_host ends one host's play", `- hosts: all
  gather_facts: false
  tasks:
    - meta: noop
    - set_fact: {a: 1}
    - meta: end_host
      when: inventory_hostname == 'h1'
    - debug: {msg: after}
- hosts: all
  gather_facts: false
  tasks:
    - debug: {msg: play2}
`, Options{}, map[string][4]int{"h1": {2, 0, 0, 0}, "h2": {3, 0, 0, 0}}},
		{"end_play ends it for every host", `- hosts: all
  gather_facts: false
  tasks:
    - debug: {msg: one}
    - meta: end_play
    - debug: {msg: never}
`, Options{}, map[string][4]int{"h1": {1, 0, 0, 0}, "h2": {1, 0, 0, 0}}},
		{"end_play in a batch: later batches do not start", `- hosts: all
  gather_facts: false
  serial: 1
  tasks:
    - debug: {msg: one}
    - meta: end_play
`, Options{}, map[string][4]int{"h1": {1, 0, 0, 0}, "h2": {0, 0, 0, 0}}},
		{"fail with when", `- hosts: all
  gather_facts: false
  tasks:
    - fail: {msg: "no {{ inventory_hostname }}"}
      when: inventory_hostname == 'h2'
    - debug: {msg: survived}
`, Options{}, map[string][4]int{"h1": {1, 0, 0, 1}, "h2": {0, 0, 1, 0}}},
		{"ansible_play_hosts leaves out failed hosts", `- hosts: all
  gather_facts: false
  max_fail_percentage: 100 # in step: h2 has failed before h1 reads
  tasks:
    - fail: {}
      when: inventory_hostname == 'h2'
    - fail: {msg: "{{ ansible_play_hosts }}"}
      when: ansible_play_hosts != ['h1'] or ansible_play_hosts_all != ['h1', 'h2'] or ansible_play_batch != ['h1']
`, Options{}, map[string][4]int{"h1": {0, 0, 0, 2}, "h2": {0, 0, 1, 0}}},
		{"clear_host_errors lets a failed host run the next play", `- hosts: all
  gather_facts: false
  tasks:
    - fail: {}
      when: inventory_hostname == 'h2'
    - meta: clear_host_errors
- hosts: all
  gather_facts: false
  tasks:
    - debug: {msg: again}
`, Options{}, map[string][4]int{"h1": {1, 0, 0, 1}, "h2": {1, 0, 1, 0}}},
		{"set_fact beats play vars, facts lose to them", `- hosts: all
  vars: {x: play, ansible_distribution: mine}
  tasks:
    - set_fact: {x: fact}
    - fail: {msg: "x={{ x }} d={{ ansible_distribution }}"}
      when: x != 'fact' or ansible_distribution != 'mine' or ansible_facts.distribution != 'Debian'
`, Options{}, map[string][4]int{"h1": {2, 0, 0, 1}, "h2": {2, 0, 0, 1}}},
		{"check mode runs them all", `- hosts: all
  tasks:
    - set_fact: {y: 2}
    - debug: {msg: "{{ y }} {{ 'check' if ansible_check_mode else 'apply' }}"}
      register: d
    - fail: {}
      when: d.msg != '2 check'
`, Options{Check: true}, map[string][4]int{"h1": {3, 0, 0, 1}, "h2": {3, 0, 0, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet("h1", "h2")
			sum, _ := runOn(t, f, tt.src, tt.opts)
			for h, want := range tt.want {
				if got := recapOf(sum, h); got != want {
					t.Errorf("%s: ok/changed/failed/skipped = %v, want %v", h, got, want)
				}
			}
		})
	}
}

// TestEngineFlushHandlers: meta: flush_handlers runs the handlers notified
// so far at that point; notified again later, a handler runs again at
// the end.
func TestEngineFlushHandlers(t *testing.T) {
	f := newFleet("h1")
	sum, rec := runOn(t, f, `- hosts: all
  gather_facts: false
  handlers:
    - name: note
      memfile: {path: "/log", content: "{{ step }}"}
  tasks:
    - memfile: {path: /a, content: "1"}
      notify: note
      vars: {step: ignored}
    - meta: flush_handlers
    - memfile: {path: /seen, content: "{{ 'yes' }}"}
  vars: {step: first}
`, Options{})
	if sum.Err() != nil {
		t.Fatal(sum.Err())
	}
	var order []string
	for _, r := range rec.results {
		if r.Phase == PhaseTask || r.Phase == PhaseHandler {
			order = append(order, string(r.Phase)+":"+r.Task)
		}
	}
	want := "task:memfile handler:note task:memfile"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("order %q, want %q", got, want)
	}
}
