package runner

import (
	"slices"
	"strings"
	"testing"
)

// TestEngineTaskAnyErrorsFatal: any_errors_fatal given to a task or a
// block (not the play) stops every host when one fails that task, as
// ansible-playbook 2.14 does; a task's false wins over the play's true; a
// failure a rescue: catches stops nothing; later plays do not start.
func TestEngineTaskAnyErrorsFatal(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		stopped bool   // h1 and h3 stopped, the run aborted
		after   string // the task h1 and h3 run when the run goes on
	}{
		{"task", `
- hosts: all
  tasks:
    - name: step
      command: step
      any_errors_fatal: true
    - name: after
      memfile: {path: /etc/after, content: "a"}
- hosts: all
  tasks:
    - name: later play
      memfile: {path: /etc/later, content: "l"}
`, true, ""},
		{"block", `
- hosts: all
  tasks:
    - block:
        - name: step
          command: step
        - name: after
          memfile: {path: /etc/after, content: "a"}
      any_errors_fatal: true
`, true, ""},
		{"task false in a fatal play", `
- hosts: all
  any_errors_fatal: true
  tasks:
    - name: step
      command: step
      any_errors_fatal: false
    - name: after
      memfile: {path: /etc/after, content: "a"}
`, false, "after"},
		{"no keyword", `
- hosts: all
  tasks:
    - name: step
      command: step
    - name: after
      memfile: {path: /etc/after, content: "a"}
`, false, "after"},
		{"rescued", `
- hosts: all
  tasks:
    - block:
        - name: step
          command: step
      rescue:
        - name: rescue
          memfile: {path: /etc/rescued, content: "r"}
      any_errors_fatal: true
    - name: after
      memfile: {path: /etc/after, content: "a"}
`, false, "after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet("h1", "h2", "h3")
			failOn(f, "step", "h2")
			sum, rec := runOn(t, f, tt.src, Options{})
			if got := slices.Sorted(slices.Values(sum.Stopped)); tt.stopped != slices.Equal(got, []string{"h1", "h3"}) {
				t.Errorf("stopped %v (aborted %q), want stopped %v", sum.Stopped, sum.Aborted, tt.stopped)
			}
			if tt.stopped && !strings.Contains(sum.Aborted, "any_errors_fatal: h2 failed") {
				t.Errorf("aborted %q, want it to name the failed host", sum.Aborted)
			}
			for _, n := range []string{"h1", "h3"} {
				if r := rec.result(t, n, "step", PhaseTask); r.Status != StatusChanged {
					t.Errorf("%s: step %s, want it finished", n, r.Status)
				}
				if tt.stopped && (rec.ran(n, "after") || rec.ran(n, "later play")) {
					t.Errorf("%s: ran a task after the fatal failure", n)
				}
				if tt.after != "" && !rec.ran(n, tt.after) {
					t.Errorf("%s: did not run %q", n, tt.after)
				}
			}
		})
	}
}
