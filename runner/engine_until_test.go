package runner

import (
	"context"
	"strings"
	"testing"

	"tend/internal/memhost"
	"tend/runner/transport"
)

// TestEngineUntilTemplatedPace: retries: and delay: may be templates,
// rendered with the host's variables when the task runs (as Ansible
// 2.14 does); one that renders to no whole number >= 0 fails the task
// with the keyword's position.
func TestEngineUntilTemplatedPace(t *testing.T) {
	for _, c := range []struct {
		name, retries, delay string
		okAt                 int
		want                 Status
		attempts             int
		err                  string
	}{
		{"rendered int", "{{ n }}", "{{ d }}", 3, StatusOK, 3, ""},
		{"rendered exhausted", "{{ n - 1 }}", "{{ d }}", 3, StatusFailed, 2, "still false after 2 attempts"},
		{"rendered string digits", "{{ '2' }}", "0", 3, StatusOK, 3, ""},
		{"not a number", "{{ 'many' }}", "0", 1, StatusFailed, 0, `play.yml:8:16: retries: "{{ 'many' }}" rendered "many"; must be a whole number >= 0`},
		{"negative", "{{ -1 }}", "0", 1, StatusFailed, 0, "retries: \"{{ -1 }}\" rendered \"-1\"; must be a whole number >= 0"},
		{"bad delay", "1", "{{ [1] }}", 1, StatusFailed, 0, "play.yml:9:14: delay: \"{{ [1] }}\" rendered [1]"},
		{"undefined", "{{ nope }}", "0", 1, StatusFailed, 0, "retries: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := `
- hosts: all
  vars: {n: 2, d: "0"}
  tasks:
    - name: probe
      command: probe
      register: p
      retries: "` + c.retries + `"
      delay: "` + c.delay + `"
      until: p.rc == 0
      changed_when: false
`
			f := newFleet("h1")
			f.hosts["h1"].Handle(memhost.Argv("probe"), func(_ context.Context, h *memhost.Host, _ transport.Command) (transport.Result, error) {
				if h.Ran(memhost.Argv("probe")) >= c.okAt {
					return memhost.OK("up\n"), nil
				}
				return memhost.Exit(1, "down\n"), nil
			})
			_, rec := runOn(t, f, src, Options{})
			r := rec.result(t, "h1", "probe", PhaseTask)
			if r.Status != c.want || r.Attempts != c.attempts {
				t.Errorf("probe %s after %d attempts (%q), want %s after %d", r.Status, r.Attempts, r.Error, c.want, c.attempts)
			}
			if n := f.hosts["h1"].Ran(memhost.Argv("probe")); n != c.attempts {
				t.Errorf("probe ran %d times, want %d", n, c.attempts)
			}
			if !strings.Contains(r.Error, c.err) || (c.err == "") != (r.Error == "") {
				t.Errorf("error %q, want it to contain %q", r.Error, c.err)
			}
		})
	}
}
