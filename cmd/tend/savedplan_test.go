package main

import (
	"path/filepath"
	"testing"

	"tend/runner"
	"tend/runner/plan"
	"tend/runner/savedplan"
)

// recordPlan records a dry run's changes and passes every event on.
func TestRecordPlan(t *testing.T) {
	next := &countTasks{}
	rec := savedplan.NewRecorder("play.yml", "abc", "")
	obs := recordPlan{Observer: next, rec: rec}
	change := plan.Change{Action: plan.Restart, Summary: "would restart activemq (pid 42)"}
	for _, e := range []runner.TaskResult{
		{Host: "h1", Play: "p", Task: "restart", Status: runner.StatusChanged, DryRun: true, Change: change},
		{Host: "h1", Play: "p", Task: "read", Status: runner.StatusOK, Change: plan.Change{Action: plan.Read}},
		{Host: "h2", Play: "p", Task: "restart", Status: runner.StatusFailed, Change: change},
		{Host: "h3", Play: "p", Task: "connect", Status: runner.StatusUnreachable},
	} {
		obs.TaskDone(e)
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := rec.Save(path); err != nil {
		t.Fatal(err)
	}
	p, err := savedplan.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if h1 := p.Hosts["h1"]; len(h1) != 1 || h1[0].Task != "restart" || h1[0].Fingerprint != savedplan.Fingerprint(change) {
		t.Errorf("h1 planned %+v", h1)
	}
	for _, h := range []string{"h2", "h3"} {
		if tasks, ok := p.Hosts[h]; !ok || len(tasks) != 0 {
			t.Errorf("%s: %+v, want reached with no change approved", h, tasks)
		}
	}
	if next.n != 4 {
		t.Errorf("%d results passed on, want 4", next.n)
	}
}

type countTasks struct {
	runner.NopObserver
	n int
}

func (c *countTasks) TaskDone(runner.TaskResult) { c.n++ }
