package runner

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"tend/internal/memhost"
)

const budgetPlay = `
- hosts: all
  vars:
    restart_budget: 2
  tasks:
    - name: restart app
      command: restart-app
      budget: {max: "{{ restart_budget }}", per: 24h}
`

// budgetRecordOf returns the host's budget record file (path, content).
func budgetRecordOf(t *testing.T, h *memhost.Host) (string, []byte) {
	t.Helper()
	for p, data := range h.Files() {
		if strings.HasPrefix(p, DefaultStateDir+"/budget-") && strings.HasSuffix(p, ".json") {
			return p, data
		}
	}
	return "", nil
}

// TestEngineBudgetAcrossRuns: a budgeted task's changes are counted on the
// host across runs; the second within the window is a relapse, the third
// (max 2) does not run and fails the host as budget spent; check mode
// says so without running anything.
func TestEngineBudgetAcrossRuns(t *testing.T) {
	// Each run is a new connection to the same host: its files carry over.
	files := map[string][]byte{}
	restarts := 0
	run := func(opts Options) (*Summary, *recorder, *memhost.Host) {
		f := newFleet("h1")
		f.handle(memhost.Argv("restart-app"), exits(0))
		h := f.hosts["h1"]
		for p, d := range files {
			h.SetFile(p, d)
		}
		sum, rec := runOn(t, f, budgetPlay, opts)
		files = h.Files()
		restarts += h.Ran(memhost.Argv("restart-app"))
		return sum, rec, h
	}

	sum, rec, h := run(Options{})
	r := rec.result(t, "h1", "restart app", PhaseTask)
	if r.Status != StatusChanged || r.Budget == nil || r.Budget.Relapse || r.Budget.Spent || r.Budget.Used != 0 || r.Budget.Max != 2 {
		t.Fatalf("run 1: %s budget %+v, want a first change of 2", r.Status, r.Budget)
	}
	path, data := budgetRecordOf(t, h)
	var stored budgetRecord
	if err := json.Unmarshal(data, &stored); err != nil || len(stored.Changes) != 1 || stored.Task != "restart app" || stored.Version != 1 {
		t.Fatalf("record after run 1 at %q: %s (%v)", path, data, err)
	}
	if len(sum.BudgetSpent) != 0 {
		t.Errorf("run 1: budget spent on %v", sum.BudgetSpent)
	}

	if len(sum.Hosts) != 1 || sum.Hosts[0].Relapsed != 0 {
		t.Errorf("run 1: recap %+v, want no relapse", sum.Hosts)
	}

	sum, rec, _ = run(Options{})
	r = rec.result(t, "h1", "restart app", PhaseTask)
	if r.Status != StatusChanged || r.Budget == nil || !r.Budget.Relapse || !strings.Contains(r.Budget.Note, "the remedy is not holding") {
		t.Fatalf("run 2: %s budget %+v, want a relapse", r.Status, r.Budget)
	}
	if len(sum.Hosts) != 1 || sum.Hosts[0].Relapsed != 1 || sum.Hosts[0].Changed != 1 {
		t.Errorf("run 2: recap %+v, want relapsed=1 changed=1", sum.Hosts)
	}

	_, rec, _ = run(Options{Check: true})
	r = rec.result(t, "h1", "restart app", PhaseTask)
	if r.Status != StatusFailed || !strings.Contains(r.Error, "budget spent: changed 2 times in 24h (last ") || !strings.HasSuffix(r.Error, "would not be changed") {
		t.Fatalf("check run: %s %q, want budget spent", r.Status, r.Error)
	}

	sum, rec, h = run(Options{})
	r = rec.result(t, "h1", "restart app", PhaseTask)
	if r.Status != StatusFailed || r.Budget == nil || !r.Budget.Spent || !strings.HasPrefix(r.Error, "budget spent: changed 2 times in 24h (last ") || !strings.HasSuffix(r.Error, "; not changing") {
		t.Fatalf("run 3: %s %q budget %+v, want budget spent", r.Status, r.Error, r.Budget)
	}
	if restarts != 2 {
		t.Errorf("restart-app ran %d times, want 2", restarts)
	}
	if !slices.Equal(sum.BudgetSpent, []string{"h1"}) || !slices.Equal(sum.Failed, []string{"h1"}) {
		t.Errorf("summary: budget spent %v failed %v, want h1 in both", sum.BudgetSpent, sum.Failed)
	}
	if _, after := budgetRecordOf(t, h); string(after) == string(data) {
		t.Errorf("record did not grow after run 2")
	}
}

// TestEngineBudgetCheckAllows: check mode says the budget would allow the
// change, and records nothing.
func TestEngineBudgetCheckAllows(t *testing.T) {
	f := newFleet("h1")
	_, rec := runOn(t, f, budgetPlay, Options{Check: true})
	r := rec.result(t, "h1", "restart app", PhaseTask)
	if r.Budget == nil || r.Budget.Note != "budget: 0 of 2 used in 24h: would allow it" {
		t.Fatalf("check: budget %+v, want would allow", r.Budget)
	}
	if p, _ := budgetRecordOf(t, f.hosts["h1"]); p != "" {
		t.Errorf("check mode wrote %s", p)
	}
}

// TestEngineBudgetCheckRecordsNothing: a module that plans its change
// under --check (not "would run") is weighed but not recorded.
func TestEngineBudgetCheckRecordsNothing(t *testing.T) {
	const src = `
- hosts: all
  tasks:
    - name: write config
      memfile: {path: /etc/app.conf, content: "new\n"}
      budget: {max: 1, per: 1h}
`
	f := newFleet("h1")
	_, rec := runOn(t, f, src, Options{Check: true})
	r := rec.result(t, "h1", "write config", PhaseTask)
	if r.Status != StatusChanged || !r.DryRun || r.Budget == nil || r.Budget.Note != "budget: 0 of 1 used in 1h: would allow it" {
		t.Fatalf("check: %s dry %v budget %+v, want a planned change the budget allows", r.Status, r.DryRun, r.Budget)
	}
	if p, _ := budgetRecordOf(t, f.hosts["h1"]); p != "" {
		t.Errorf("check mode wrote %s", p)
	}
}

// TestEngineBudgetFailsClosed: a record tend cannot read stops the task
// (nothing runs) and is left as it was; so does a bad templated max.
func TestEngineBudgetFailsClosed(t *testing.T) {
	now := time.Now().UTC().Format(time.RFC3339)
	tests := []struct {
		name, play, record, wantErr string
		spent                       bool
	}{
		{"corrupt", budgetPlay, `{"version":1,"changes":[` + "\n", "is corrupt", true},
		{"newer version", budgetPlay, `{"version":7,"changes":[]}` + "\n", "written by a newer tend (format version 7; this tend reads 1)", true},
		{"future entries count", budgetPlay, `{"version":1,"changes":["2999-01-01T00:00:00Z","` + now + `"]}` + "\n", "the host's clock went back", true},
		{"bad templated max", strings.Replace(budgetPlay, "restart_budget: 2", "restart_budget: lots", 1), "", `play.yml:8:21: budget.max: must be a whole number of at least 1, not "lots"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet("h1")
			f.handle(memhost.Argv("restart-app"), exits(0))
			h := f.hosts["h1"]
			path := DefaultStateDir + "/" + budgetFileFor("play.yml", "", "restart app")
			if tt.record != "" {
				h.SetFile(path, []byte(tt.record))
			}
			sum, rec := runOn(t, f, tt.play, Options{})
			r := rec.result(t, "h1", "restart app", PhaseTask)
			if r.Status != StatusFailed || !strings.Contains(r.Error, tt.wantErr) {
				t.Fatalf("%s %q, want failed with %q", r.Status, r.Error, tt.wantErr)
			}
			if n := h.Ran(memhost.Argv("restart-app")); n != 0 {
				t.Errorf("restart-app ran %d times", n)
			}
			if got, _ := h.File(path); tt.record != "" && string(got) != tt.record {
				t.Errorf("record changed to %q", got)
			}
			if got := len(sum.BudgetSpent) == 1; got != tt.spent {
				t.Errorf("budget spent: %v", sum.BudgetSpent)
			}
		})
	}
}
