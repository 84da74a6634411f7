package runner

import (
	"strings"
	"testing"

	"tend/internal/memhost"
	"tend/runner/playbook"
)

// TestEngineTemplatedBoolKeywords: a boolean keyword given as a template
// (ignore_errors: "{{ x }}", no_log: "{{ mask | bool }}", check_mode,
// on a task, a block or in a loop) is rendered for each host (each item)
// after when and converted by Ansible's boolean rules; one that renders
// no boolean fails that host at the keyword's position.
func TestEngineTemplatedBoolKeywords(t *testing.T) {
	for _, c := range []struct {
		name, task string
		// want is each host's status of task "t", then whether "next" ran.
		want    map[string]Status
		next    map[string]bool
		ignored map[string]bool
		hidden  map[string]bool // the result's error shows no output
		err     string          // in h1's error
	}{
		{
			name: "ignore_errors per host",
			task: `
    - name: t
      command: fail
      ignore_errors: "{{ inventory_hostname == 'h1' }}"`,
			want:    map[string]Status{"h1": StatusFailed, "h2": StatusFailed},
			ignored: map[string]bool{"h1": true},
			next:    map[string]bool{"h1": true, "h2": false},
		},
		{
			name: "ignore_errors Ansible words",
			task: `
    - name: t
      command: fail
      ignore_errors: "{{ word }}"`,
			want:    map[string]Status{"h1": StatusFailed, "h2": StatusFailed},
			ignored: map[string]bool{"h1": true, "h2": true},
			next:    map[string]bool{"h1": true, "h2": true},
		},
		{
			name: "not a boolean fails the host at the keyword",
			task: `
    - name: t
      command: ok
      ignore_errors: "{{ 'maybe' }}"`,
			want: map[string]Status{"h1": StatusFailed, "h2": StatusFailed},
			next: map[string]bool{},
			err:  `play.yml:8:22: ignore_errors: "{{ 'maybe' }}" rendered "maybe", which is not a valid boolean`,
		},
		{
			name: "undefined fails at the keyword",
			task: `
    - name: t
      command: ok
      no_log: "{{ nope }}"`,
			want: map[string]Status{"h1": StatusFailed, "h2": StatusFailed},
			next: map[string]bool{},
			err:  "play.yml:8:15: no_log: ",
		},
		{
			name: "rendered after when: a skipped task renders nothing",
			task: `
    - name: t
      command: ok
      when: false
      ignore_errors: "{{ nope }}"`,
			want: map[string]Status{"h1": StatusSkipped, "h2": StatusSkipped},
			next: map[string]bool{"h1": true, "h2": true},
		},
		{
			name: "no_log per host hides the output",
			task: `
    - name: t
      command: fail
      ignore_errors: true
      no_log: "{{ (inventory_hostname == 'h1') | bool }}"`,
			want:    map[string]Status{"h1": StatusFailed, "h2": StatusFailed},
			ignored: map[string]bool{"h1": true, "h2": true},
			hidden:  map[string]bool{"h1": true},
			next:    map[string]bool{"h1": true, "h2": true},
		},
		{
			name: "block ignore_errors inherited",
			task: `
    - ignore_errors: "{{ inventory_hostname == 'h2' }}"
      block:
        - name: t
          command: fail`,
			want:    map[string]Status{"h1": StatusFailed, "h2": StatusFailed},
			ignored: map[string]bool{"h2": true},
			next:    map[string]bool{"h1": false, "h2": true},
		},
		{
			name: "block no_log inherited, the task's own wins",
			task: `
    - no_log: "{{ true }}"
      ignore_errors: true
      block:
        - name: t
          command: fail
          no_log: "{{ inventory_hostname == 'h2' }}"`,
			want:    map[string]Status{"h1": StatusFailed, "h2": StatusFailed},
			ignored: map[string]bool{"h1": true, "h2": true},
			hidden:  map[string]bool{"h2": true},
			next:    map[string]bool{"h1": true, "h2": true},
		},
		{
			name: "loop: ignored only if every failed item's renders true",
			task: `
    - name: t
      command: "{{ item }}"
      loop: [fail, fail]
      loop_control: {index_var: i}
      ignore_errors: "{{ i == 0 or inventory_hostname == 'h1' }}"`,
			want:    map[string]Status{"h1": StatusFailed, "h2": StatusFailed},
			ignored: map[string]bool{"h1": true},
			next:    map[string]bool{"h1": true, "h2": false},
		},
		{
			name: "check_mode per host",
			task: `
    - name: t
      command: ok
      check_mode: "{{ inventory_hostname == 'h1' }}"`,
			want: map[string]Status{"h1": StatusSkipped, "h2": StatusChanged},
			next: map[string]bool{"h1": true, "h2": true},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := `
- hosts: all
  gather_facts: false
  vars: {word: "Yes"}
  tasks:` + c.task + `
    - name: next
      command: ok
`
			f := newFleet("h1", "h2")
			f.handle(memhost.Argv("fail"), exits(2))
			f.handle(memhost.Argv("ok"), exits(0))
			_, rec := runOn(t, f, src, Options{})
			for _, h := range []string{"h1", "h2"} {
				r := taskOwnResult(t, rec, h, "t")
				if r.Status != c.want[h] || r.Ignored != c.ignored[h] {
					t.Errorf("%s: t %s ignored=%v (%q), want %s ignored=%v", h, r.Status, r.Ignored, r.Error, c.want[h], c.ignored[h])
				}
				if hid := r.Error == NoLogText; r.Status == StatusFailed && hid != c.hidden[h] {
					t.Errorf("%s: error %q, hidden want %v", h, r.Error, c.hidden[h])
				}
				if got := rec.ran(h, "next"); got != c.next[h] {
					t.Errorf("%s: next ran %v, want %v", h, got, c.next[h])
				}
			}
			if r := taskOwnResult(t, rec, "h1", "t"); !strings.Contains(r.Error, c.err) {
				t.Errorf("h1 error %q, want it to contain %q", r.Error, c.err)
			}
		})
	}
}

// TestParseTemplatedBoolKeywords: a templated boolean keyword is checked
// before any host is contacted (its syntax), and the keywords tend takes
// no template for are refused with their position.
func TestParseTemplatedBoolKeywords(t *testing.T) {
	for _, c := range []struct{ name, kw, err string }{
		{"syntax", `no_log: "{{ x | }}"`, "play.yml:6:15: tasks[0].no_log: "},
		{"run_once", `run_once: "{{ x }}"`, "play.yml:6:17: tasks[0].run_once: must be true or false"},
		{"any_errors_fatal", `any_errors_fatal: "{{ x }}"`, "tend takes no template for any_errors_fatal"},
		{"ok", `ignore_unreachable: "{{ x }}"`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: t\n      command: ok\n      " + c.kw + "\n"
			_, err := playbook.Parse("play.yml", []byte(src), playbook.ParseOptions{Check: Validate})
			if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
				t.Errorf("err %v, want %q", err, c.err)
			}
		})
	}
}

// taskOwnResult is host's result of task, not of one of its loop items.
func taskOwnResult(t *testing.T, rec *recorder, host, task string) TaskResult {
	t.Helper()
	for _, e := range rec.results {
		if e.Host == host && e.Task == task && e.Item == "" {
			return e
		}
	}
	t.Fatalf("%s: no result for %q", host, task)
	return TaskResult{}
}

// TestEngineTemplatedDelegateFacts: a templated delegate_facts is
// rendered when the task runs: true gives the delegated set_fact's
// variables to the delegate, false keeps them on the host.
func TestEngineTemplatedDelegateFacts(t *testing.T) {
	src := `- hosts: h1
  gather_facts: false
  vars: {to_delegate: "yes", keep: "off"}
  tasks:
    - set_fact: {color: blue}
      delegate_to: h2
      delegate_facts: "{{ to_delegate }}"
    - set_fact: {size: 3}
      delegate_to: h2
      delegate_facts: "{{ keep }}"
    - name: seen
      memfile: {path: /seen, content: "{{ hostvars['h2'].color }} {{ color | default('none') }} {{ size }} {{ hostvars['h2'].size | default('none') }}"}
`
	registerMemfile()
	f := newFleet("h1", "h2")
	runOnInv(t, f, "h1\nh2\n", src, Options{})
	if got, _ := f.hosts["h1"].File("/seen"); string(got) != "blue none 3 none" {
		t.Errorf("h1 saw %q, want %q", got, "blue none 3 none")
	}
}
