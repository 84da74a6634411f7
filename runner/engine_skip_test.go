package runner

import (
	"context"
	"sync"
	"testing"

	"tend/runner/modules"
	"tend/runner/plan"
	"tend/runner/transport"
)

var skipperOnce sync.Once

// skipper is a test module that skips itself (as unarchive does when its
// creates path exists) and fails if it is ever applied.
type skipper struct{}

func (skipper) Check(context.Context, transport.Conn) (plan.Change, error) {
	return plan.Change{Action: plan.Update, Skipped: true, Summary: "skipped, since /x exists"}, nil
}

func (skipper) Apply(context.Context, transport.Conn, plan.Change) (plan.Change, error) {
	return plan.Change{Failed: true, Msg: "applied a skipped task"}, nil
}

// TestEngineModuleSkip: a module's own skip (plan.Change.Skipped) is
// reported skipped with its reason, never applied, registers skipped and
// counts skipped in the recap, in check mode and applied alike.
func TestEngineModuleSkip(t *testing.T) {
	skipperOnce.Do(func() {
		modules.Register("skipper", modules.Spec{New: func(modules.Args) (modules.Module, error) { return skipper{}, nil }})
	})
	src := `
- hosts: all
  gather_facts: false
  tasks:
    - name: skip
      skipper: {}
      register: r
    - name: after
      debug: {msg: "{{ r.skipped }} {{ r.changed }} {{ r.msg }}"}
`
	for _, check := range []bool{false, true} {
		sum, rec := runOn(t, newFleet("h1"), src, Options{Check: check})
		r := rec.result(t, "h1", "skip", PhaseTask)
		if r.Status != StatusSkipped || r.Reason != "skipped, since /x exists" {
			t.Errorf("check=%v: %s %q %q", check, r.Status, r.Reason, r.Error)
		}
		if a := rec.result(t, "h1", "after", PhaseTask); a.Change.Summary != "True False skipped, since /x exists" {
			t.Errorf("check=%v: registered %q", check, a.Change.Summary)
		}
		if h := sum.Hosts[0]; h.Skipped != 1 || h.Changed != 0 || h.Failed != 0 {
			t.Errorf("check=%v: recap %+v", check, h)
		}
	}
}
