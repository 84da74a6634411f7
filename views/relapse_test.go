package views

import (
	"bytes"
	"testing"
	"time"

	"tend/runner"
	"tend/runner/plan"
)

// relapseRun is the event stream of an applying run of a budgeted restart:
// on mq1 it relapsed (restarted again within its window), on mq2 it is a
// first remediation.
func relapseRun(o runner.Observer) {
	const play = "Detect and restart"
	o.RunStarted(runner.RunStart{Schema: runner.EventSchema, Playbook: "playbooks/mq-closewait.yml"})
	o.PlayStarted(runner.PlayStart{Name: play, Hosts: []string{"mq1", "mq2"}})
	last := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	done := func(host string, b *runner.BudgetUse) {
		o.TaskStarted(runner.TaskStart{Host: host, Play: play, Task: "Restart the MQ", Module: "service", Phase: runner.PhaseTask})
		o.TaskDone(runner.TaskResult{Host: host, Play: play, Task: "Restart the MQ", Module: "service", Phase: runner.PhaseTask,
			Status: runner.StatusChanged, Change: plan.Change{Action: plan.Restart, Summary: "restarted activemq"}, Budget: b})
	}
	done("mq1", &runner.BudgetUse{Max: 3, Per: "24h", Used: 1, Last: &last, Relapse: true,
		Note: "restarted again 14m after the last time: the remedy is not holding"})
	done("mq2", &runner.BudgetUse{Max: 3, Per: "24h", Note: "budget: 0 of 3 used in 24h"})
	o.HostDone(runner.HostDone{Host: "mq1", Play: play, Status: runner.StatusOK})
	o.HostDone(runner.HostDone{Host: "mq2", Play: play, Status: runner.StatusOK})
	o.RunDone(runner.Summary{Changed: true, Duration: time.Second, Hosts: []runner.HostRecap{
		{Host: "mq1", Changed: 1, Relapsed: 1, Applied: []string{"Restart the MQ: restarted activemq"}},
		{Host: "mq2", Changed: 1, Applied: []string{"Restart the MQ: restarted activemq"}},
	}})
}

// TestRelapseGolden: the per-host recap row counts relapses (relapsed=1 in
// text, "relapsed":1 in the JSON summary, a relapsed column in markdown)
// on the host that relapsed only.
func TestRelapseGolden(t *testing.T) {
	var h, j, m bytes.Buffer
	relapseRun(NewHuman(&h, true))
	relapseRun(NewJSONLines(&j))
	relapseRun(NewMarkdown(&m))
	golden(t, "relapse.human.golden", h.Bytes())
	golden(t, "relapse.jsonl.golden", j.Bytes())
	golden(t, "relapse.md.golden", m.Bytes())
}
