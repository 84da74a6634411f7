package views

import (
	"bytes"
	"testing"
	"time"

	"tend/runner"
	"tend/runner/plan"
)

// blockRun is the event stream of an applying run with a block: on mq1
// the block's restart fails and its rescue and always run; mq2 has no
// failure.
func blockRun(o runner.Observer) {
	o.RunStarted(runner.RunStart{Schema: runner.EventSchema, Playbook: "playbooks/restart.yml"})
	o.PlayStarted(runner.PlayStart{Name: "Restart", Hosts: []string{"mq1", "mq2"}})
	done := func(host, task, module string, st runner.Status, c plan.Change, err string, rescued bool) {
		o.TaskStarted(runner.TaskStart{Host: host, Play: "Restart", Task: task, Module: module, Phase: runner.PhaseTask})
		o.TaskDone(runner.TaskResult{Host: host, Play: "Restart", Task: task, Module: module, Phase: runner.PhaseTask,
			Status: st, Change: c, Error: err, Rescued: rescued})
	}
	done("mq1", "Restart activemq", "command", runner.StatusFailed,
		plan.Change{Action: plan.Run, Summary: "systemctl restart activemq", Failed: true}, "non-zero return code 1", true)
	done("mq1", "Roll back", "command", runner.StatusChanged, plan.Change{Action: plan.Run, Summary: "systemctl start activemq-old"}, "", false)
	done("mq1", "Report", "debug", runner.StatusOK, plan.Change{Action: plan.None, Msg: "restart failed: non-zero return code 1"}, "", false)
	done("mq2", "Restart activemq", "command", runner.StatusChanged, plan.Change{Action: plan.Run, Summary: "systemctl restart activemq"}, "", false)
	done("mq2", "Report", "debug", runner.StatusOK, plan.Change{Action: plan.None, Msg: "restart done"}, "", false)
	o.HostDone(runner.HostDone{Host: "mq1", Play: "Restart", Status: runner.StatusOK})
	o.HostDone(runner.HostDone{Host: "mq2", Play: "Restart", Status: runner.StatusOK})
	o.RunDone(runner.Summary{Changed: true, Duration: time.Second, Hosts: []runner.HostRecap{
		{Host: "mq1", OK: 1, Changed: 1, Rescued: 1, Applied: []string{"Roll back: systemctl start activemq-old"}},
		{Host: "mq2", OK: 1, Changed: 1, Applied: []string{"Restart activemq: systemctl restart activemq"}},
	}})
}

// TestBlockGolden: a failure a rescue caught says so on its line, and the
// recap counts it rescued (as Ansible's), not failed.
func TestBlockGolden(t *testing.T) {
	var h, j bytes.Buffer
	blockRun(NewHuman(&h, true))
	blockRun(NewJSONLines(&j))
	golden(t, "block.human.golden", h.Bytes())
	golden(t, "block.jsonl.golden", j.Bytes())
}
