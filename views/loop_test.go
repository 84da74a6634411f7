package views

import (
	"bytes"
	"testing"
	"time"

	"tend/runner"
	"tend/runner/plan"
)

// loopRun is the event stream of an applying run with loops: a sysctl
// loop over three keys on mq1 (one already set, one skipped by when), and
// a command loop on mq2 whose second item fails.
func loopRun(o runner.Observer) {
	o.RunStarted(runner.RunStart{Schema: runner.EventSchema, Playbook: "playbooks/tune.yml"})
	o.PlayStarted(runner.PlayStart{Name: "Tune", Hosts: []string{"mq1", "mq2"}})
	const task = "Tune TCP"
	o.TaskStarted(runner.TaskStart{Host: "mq1", Play: "Tune", Task: task, Module: "sysctl", Phase: runner.PhaseTask})
	item := func(host, label string, st runner.Status, c plan.Change, reason string) {
		o.TaskDone(runner.TaskResult{Host: host, Play: "Tune", Task: task, Module: "sysctl", Phase: runner.PhaseTask, Status: st, Item: label, Change: c, Reason: reason})
	}
	item("mq1", "net.ipv4.tcp_fin_timeout", runner.StatusChanged, plan.Change{Action: plan.Update, Summary: "net.ipv4.tcp_fin_timeout: 60 → 30",
		Values: []plan.ValueChange{{Key: "net.ipv4.tcp_fin_timeout", Before: "60", After: "30", Status: plan.ValueChanged}}}, "")
	item("mq1", "net.ipv4.tcp_keepalive_time", runner.StatusOK, plan.Change{Action: plan.None, Summary: "net.ipv4.tcp_keepalive_time: 1200 as wanted"}, "")
	item("mq1", "net.ipv4.tcp_tw_reuse", runner.StatusSkipped, plan.Change{}, "when: item != 'net.ipv4.tcp_tw_reuse' is false")
	o.TaskDone(runner.TaskResult{Host: "mq1", Play: "Tune", Task: task, Module: "sysctl", Phase: runner.PhaseTask, Status: runner.StatusChanged,
		Loop: &runner.LoopCounts{Items: 3, Changed: 1, OK: 1, Skipped: 1}})
	o.TaskDone(runner.TaskResult{Host: "mq1", Play: "Tune", Task: task, Module: "sysctl", Phase: runner.PhaseRecheck, Status: runner.StatusOK, Item: "net.ipv4.tcp_fin_timeout",
		Change: plan.Change{Action: plan.None, Summary: "net.ipv4.tcp_fin_timeout: 30 as wanted"}})
	o.TaskDone(runner.TaskResult{Host: "mq2", Play: "Tune", Task: "Restart", Module: "command", Phase: runner.PhaseTask, Status: runner.StatusChanged, Item: "activemq",
		Change: plan.Change{Action: plan.Run, Summary: "systemctl restart activemq"}})
	o.TaskDone(runner.TaskResult{Host: "mq2", Play: "Tune", Task: "Restart", Module: "command", Phase: runner.PhaseTask, Status: runner.StatusFailed, Item: "zookeeper",
		Change: plan.Change{Action: plan.Run, Summary: "systemctl restart zookeeper", Failed: true}, Error: "non-zero return code 5: Unit zookeeper.service not found."})
	o.TaskDone(runner.TaskResult{Host: "mq2", Play: "Tune", Task: "Restart", Module: "command", Phase: runner.PhaseTask, Status: runner.StatusFailed,
		Loop: &runner.LoopCounts{Items: 2, Changed: 1, Failed: 1}, Error: "1 of 2 items failed; first: non-zero return code 5: Unit zookeeper.service not found."})
	o.HostDone(runner.HostDone{Host: "mq1", Play: "Tune", Status: runner.StatusOK})
	o.HostDone(runner.HostDone{Host: "mq2", Play: "Tune", Status: runner.StatusFailed})
	o.RunDone(runner.Summary{Changed: true, Failed: []string{"mq2"}, Duration: time.Second, Hosts: []runner.HostRecap{
		{Host: "mq1", OK: 1, Changed: 1, Applied: []string{"Tune TCP (item=net.ipv4.tcp_fin_timeout): net.ipv4.tcp_fin_timeout: 60 → 30"}},
		{Host: "mq2", Failed: 1, Applied: []string{"Restart (item=activemq): systemctl restart activemq"}},
	}})
}

// TestLoopGolden: each item is a line with its label, as Ansible shows
// "changed: [mq1] => (item=...)"; the task's own line sums up its items.
func TestLoopGolden(t *testing.T) {
	var h, j, m bytes.Buffer
	loopRun(NewHuman(&h, true))
	loopRun(NewJSONLines(&j))
	loopRun(NewMarkdown(&m))
	golden(t, "loop.human.golden", h.Bytes())
	golden(t, "loop.jsonl.golden", j.Bytes())
	golden(t, "loop.md.golden", m.Bytes())
}
