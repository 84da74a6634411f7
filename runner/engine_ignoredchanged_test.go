package runner

import (
	"testing"

	"tend/internal/memhost"
)

// TestEngineIgnoredFailureThatChanged: a failure ignore_errors tolerates,
// of a task that changed all the same (a command that ran and exited
// non-zero), counts changed and ignored in the recap and says changed on
// its result, as Ansible counts it (ok, changed and ignored); a failure
// that changed nothing (changed_when: false) counts ignored only, and one
// not ignored counts failed only. A loop changed when any item did, a
// failed one included. The differential case ignored-changed holds the
// same against ansible-playbook.
func TestEngineIgnoredFailureThatChanged(t *testing.T) {
	for _, c := range []struct {
		name, task  string
		wantChanged bool // on the task's own result
		// want is the host's recap: ok, changed, failed, skipped, ignored
		want [5]int
	}{
		{"a failing command", `
    - name: t
      command: fail
      ignore_errors: true`, true, [5]int{1, 1, 0, 0, 1}},
		{"changed_when false", `
    - name: t
      command: fail
      changed_when: false
      ignore_errors: true`, false, [5]int{1, 0, 0, 0, 1}},
		{"not ignored", `
    - name: t
      command: fail`, true, [5]int{0, 0, 1, 0, 0}},
		{"a loop whose changed item failed", `
    - name: t
      command: "{{ item }}"
      loop: [ok, fail]
      changed_when: item == 'fail'
      ignore_errors: true`, true, [5]int{1, 1, 0, 0, 1}},
		{"a loop whose failed item did not change", `
    - name: t
      command: "{{ item }}"
      loop: [ok, fail]
      changed_when: false
      ignore_errors: true`, false, [5]int{1, 0, 0, 0, 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := `
- hosts: all
  gather_facts: false
  tasks:` + c.task + `
    - name: next
      command: ok
      changed_when: false
`
			f := newFleet("h1")
			f.handle(memhost.Argv("fail"), exits(2))
			f.handle(memhost.Argv("ok"), exits(0))
			sum, rec := runOn(t, f, src, Options{})
			r := taskOwnResult(t, rec, "h1", "t")
			if r.Status != StatusFailed || r.Changed != c.wantChanged {
				t.Errorf("t: %s changed=%v, want failed changed=%v", r.Status, r.Changed, c.wantChanged)
			}
			var got [5]int
			for _, h := range sum.Hosts {
				if h.Host == "h1" {
					got = [5]int{h.OK, h.Changed, h.Failed, h.Skipped, h.Ignored}
				}
			}
			if got != c.want {
				t.Errorf("recap ok/changed/failed/skipped/ignored %v, want %v", got, c.want)
			}
		})
	}
}
