package runner

import (
	"strings"
	"testing"

	"tend/internal/memhost"
	"tend/runner/modules"
)

// TestEngineGathersFactsOnlyWhenRead: a play that gathers facts by default
// gathers them (one command per host) only when something in the run
// could read one; either way "Gathering Facts" is ok on every host, as in
// Ansible's recap. gather_facts: true always gathers; false never does.
func TestEngineGathersFactsOnlyWhenRead(t *testing.T) {
	cases := []struct {
		name, gather, task string
		extra              map[string]any
		want               bool
	}{
		{name: "nothing reads a fact", task: `command: work`, want: false},
		{name: "a fact in a template", task: `debug: {msg: "{{ ansible_hostname }}"}`, want: true},
		{name: "ansible_facts in when", task: "command: work\n      when: ansible_facts.system == 'Linux'", want: true},
		{name: "package_facts' packages", task: "debug: {msg: \"{{ ansible_facts.packages['bash'] | default(1) }} {{ packages | default(2) }}\"}", want: false},
		{name: "service_facts' services", task: "debug: {msg: \"{{ ansible_facts [ 'services' ] | default(1) }} {{ ansible_facts.services | default(1) }}\"}", want: false},
		{name: "a gathered fact beside packages", task: "debug: {msg: \"{{ ansible_facts.packages | default(1) }} {{ ansible_facts.os_family }}\"}", want: true},
		{name: "hostvars", task: `debug: {msg: "{{ hostvars | length }}"}`, want: true},
		{name: "vars by name", task: `debug: {msg: "{{ vars['x'] | default(1) }}"}`, want: true},
		{name: "a magic variable is no fact", task: `debug: {msg: "{{ ansible_check_mode }} {{ inventory_hostname }}"}`, want: false},
		{name: "a fact in -e", task: `debug: {msg: "{{ greeting }}"}`, extra: map[string]any{"greeting": "{{ ansible_fqdn }}"}, want: true},
		{name: "plain -e text", task: `debug: {msg: "{{ greeting }}"}`, extra: map[string]any{"greeting": "ansible_fqdn lookup"}, want: false},
		{name: "gather_facts: true", gather: "true", task: `command: work`, want: true},
		{name: "gather_facts: false", gather: "false", task: `debug: {msg: "{{ ansible_hostname | default('x') }}"}`, want: false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "- hosts: all\n"
			if c.gather != "" {
				src += "  gather_facts: " + c.gather + "\n"
			}
			src += "  tasks:\n    - " + c.task + "\n"
			f := newFleet("h1", "h2")
			f.handle(memhost.Argv("work"), exits(0))
			sum, rec := runOn(t, f, src, Options{ExtraVars: c.extra})
			if len(sum.Failed)+len(sum.Unreachable) > 0 {
				t.Fatalf("failed %v unreachable %v", sum.Failed, sum.Unreachable)
			}
			for _, n := range f.names {
				ran := f.hosts[n].Ran(memhost.Script(modules.FactsScript)) > 0
				if ran != c.want {
					t.Errorf("%s: facts gathered %v, want %v", n, ran, c.want)
				}
				if c.gather == "false" {
					continue
				}
				r := rec.result(t, n, "Gathering Facts", PhaseTask)
				if r.Status != StatusOK {
					t.Errorf("%s: Gathering Facts %s, want ok either way", n, r.Status)
				}
				if skipped := strings.HasPrefix(r.Change.Summary, "facts not gathered"); skipped == c.want {
					t.Errorf("%s: Gathering Facts says %q with facts gathered %v", n, r.Change.Summary, ran)
				}
			}
		})
	}
}
