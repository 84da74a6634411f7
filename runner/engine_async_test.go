package runner

import (
	"context"
	"strings"
	"testing"

	"tend/internal/memhost"
	"tend/runner/transport"
)

// TestEngineAsyncCheckMode: under --check an async task fails with
// Ansible 2.14's message and nothing is sent to the host; check_mode:
// false runs it for real (here it starts the job); a templated async that
// renders to no whole number fails with the keyword's position.
func TestEngineAsyncCheckMode(t *testing.T) {
	src := `
- hosts: all
  gather_facts: false
  vars: {limit: "lots"}
  tasks:
    - name: upgrade
      command: upgrade
      async: 60
      poll: 0
      ignore_errors: true
    - name: real
      command: upgrade
      async: 60
      poll: 0
      check_mode: false
      ignore_errors: true
    - name: templated
      command: upgrade
      async: "{{ limit }}"
      ignore_errors: true
`
	f := newFleet("h1")
	f.hosts["h1"].Handle(func(argv []string) bool { return len(argv) > 3 && argv[3] == "tend-async" },
		func(context.Context, *memhost.Host, transport.Command) (transport.Result, error) {
			return memhost.OK("j1.7\n/root/.ansible_async/j1.7\n"), nil
		})
	_, rec := runOn(t, f, src, Options{Check: true})
	r := rec.result(t, "h1", "upgrade", PhaseTask)
	if r.Status != StatusFailed || r.Error != "check mode and async cannot be used on same task." {
		t.Errorf("upgrade: %s %q", r.Status, r.Error)
	}
	if r := rec.result(t, "h1", "templated", PhaseTask); r.Status != StatusFailed || !strings.Contains(r.Error, `play.yml:19:14: async: "{{ limit }}" rendered "lots"`) {
		t.Errorf("templated: %s %q", r.Status, r.Error)
	}
	if r := rec.result(t, "h1", "real", PhaseTask); r.Status != StatusChanged || r.Change.Data["ansible_job_id"] != "j1.7" || r.Change.Data["finished"] != 0 {
		t.Errorf("real: %s %q %v", r.Status, r.Error, r.Change.Data)
	}
	launched := 0
	for _, c := range f.hosts["h1"].Calls() {
		if strings.Contains(strings.Join(c.Argv, " "), "tend-async") {
			launched++
		}
		if len(c.Argv) > 0 && c.Argv[0] == "upgrade" {
			t.Errorf("the command ran on the host: %q", c.Argv)
		}
	}
	if launched != 1 {
		t.Errorf("%d job launches, want 1 (the check_mode: false task's)", launched)
	}
}
