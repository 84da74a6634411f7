package runner

import (
	"context"
	"testing"

	"tend/internal/memhost"
	"tend/runner/transport"
)

// TestEngineSystemdStatusQuery: a systemd task with only a name reads the
// unit's status (systemctl show), changes nothing, runs in check mode
// too, and registers status for a later failed_when, as Ansible 2.14.
func TestEngineSystemdStatusQuery(t *testing.T) {
	for _, check := range []bool{false, true} {
		for _, c := range []struct {
			active string
			want   Status
		}{{"active", StatusOK}, {"failed", StatusFailed}} {
			src := `
- hosts: all
  tasks:
    - name: status
      systemd:
        name: kafka
      register: s
      failed_when: s.status.ActiveState != "active"
    - name: after
      debug: {msg: "{{ s.status.SubState }} {{ s.status.MainPID }} {{ s.changed }}"}
`
			f := newFleet("h1")
			f.hosts["h1"].Handle(memhost.Argv("systemctl", "show", "--", "kafka"),
				func(context.Context, *memhost.Host, transport.Command) (transport.Result, error) {
					return memhost.OK("Id=kafka.service\nLoadState=loaded\nActiveState=" + c.active + "\nSubState=running\nMainPID=4242\n"), nil
				})
			_, rec := runOn(t, f, src, Options{Check: check})
			r := rec.result(t, "h1", "status", PhaseTask)
			if r.Status != c.want {
				t.Errorf("check=%v %s: status %s (%q), want %s", check, c.active, r.Status, r.Error, c.want)
			}
			if c.want == StatusOK {
				if a := rec.result(t, "h1", "after", PhaseTask); a.Change.Summary != "running 4242 False" {
					t.Errorf("check=%v: after says %q", check, a.Change.Summary)
				}
			}
		}
	}
}
