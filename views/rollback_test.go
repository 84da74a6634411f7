package views

import (
	"bytes"
	"testing"
	"time"

	"tend/runner"
	"tend/runner/plan"
)

// rollbackRun is the event stream of an applying run of a play with
// rollback: true: mq1 tunes, restarts, fails its verification and is
// rolled back (one file could not be: someone changed it since); mq2
// passes and keeps its changes.
func rollbackRun(o runner.Observer) {
	const play = "Tune and restart"
	o.RunStarted(runner.RunStart{Schema: runner.EventSchema, Playbook: "playbooks/mq-closewait.yml"})
	o.PlayStarted(runner.PlayStart{Name: play, Hosts: []string{"mq1", "mq2"}})
	for _, h := range []string{"mq1", "mq2"} {
		o.TaskDone(runner.TaskResult{Host: h, Play: play, Task: "Tune TCP", Module: "sysctl", Status: runner.StatusChanged,
			Change: plan.Change{Action: plan.Update, Summary: "1 changed, 0 ok; /etc/sysctl.conf: 1 lines changed, 0 added, 0 removed",
				Values: []plan.ValueChange{{Key: "net.ipv4.tcp_keepalive_time", Before: "7200", After: "1200", Status: plan.ValueChanged}}}})
		o.TaskDone(runner.TaskResult{Host: h, Play: play, Task: "Restart the MQ", Module: "service", Status: runner.StatusChanged,
			Change: plan.Change{Action: plan.Restart, Summary: "restarted activemq: pid 4242 -> 4300"}})
	}
	o.TaskDone(runner.TaskResult{Host: "mq1", Play: play, Task: "CLOSE_WAIT is gone", Module: "assert", Phase: runner.PhaseVerify, Status: runner.StatusFailed,
		Error: "assertion failed: closewait.count < 10 (count is 40)"})
	items := []runner.RollbackItem{
		{Task: "Restart the MQ", Status: runner.RollbackNotUndone, Detail: "restarted activemq: pid 4242 -> 4300 (services are not restarted again)"},
		{Task: "Broker keepalive", Status: runner.RollbackFailed, Target: "/etc/activemq/activemq.xml",
			Detail: "/etc/activemq/activemq.xml changed since tend wrote it (sha256 aa, tend wrote bb): left as it is"},
		{Task: "Tune TCP", Status: runner.RollbackRestored, Target: "/etc/sysctl.conf",
			Detail: "restored /etc/sysctl.conf from /etc/sysctl.conf.tend-backup.20261207T020551.479691388 (sha256 2ffa615e1243, read back)"},
		{Task: "Tune TCP", Status: runner.RollbackRestored, Target: "net.ipv4.tcp_keepalive_time",
			Detail: "reset net.ipv4.tcp_keepalive_time to 7200 (read back from /proc/sys/net/ipv4/tcp_keepalive_time)"},
	}
	rb := &runner.Rollback{Outcome: "partly rolled back", Items: items}
	o.HostDone(runner.HostDone{Host: "mq1", Play: play, Status: runner.StatusFailed, Rollback: rb})
	o.HostDone(runner.HostDone{Host: "mq2", Play: play, Status: runner.StatusOK})
	lines := []string{`play "Tune and restart": partly rolled back`}
	for _, it := range items {
		lines = append(lines, it.Line())
	}
	o.RunDone(runner.Summary{Changed: true, Failed: []string{"mq1"}, Duration: time.Second, Hosts: []runner.HostRecap{
		{Host: "mq1", Changed: 2, Failed: 1, Applied: []string{"Tune TCP: 1 changed", "Restart the MQ: restarted activemq: pid 4242 -> 4300"}, RolledBack: lines},
		{Host: "mq2", Changed: 2, OK: 1},
	}})
}

// rollbackCheckRun is a dry run of the same play: what a rollback would undo.
func rollbackCheckRun(o runner.Observer) {
	const play = "Tune and restart"
	o.RunStarted(runner.RunStart{Schema: runner.EventSchema, Playbook: "playbooks/mq-closewait.yml", Check: true})
	o.PlayStarted(runner.PlayStart{Name: play, Hosts: []string{"mq1"}})
	o.HostDone(runner.HostDone{Host: "mq1", Play: play, Status: runner.StatusOK, Rollback: &runner.Rollback{Planned: true,
		Outcome: "on verification failure, 1 change would be undone", Items: []runner.RollbackItem{
			{Task: "Tune TCP", Status: runner.RollbackWouldUndo, Detail: "restore /etc/sysctl.conf, reset net.ipv4.tcp_keepalive_time to 7200"},
			{Task: "Restart the MQ", Status: runner.RollbackNotUndone, Detail: "would restart activemq (pid 4242) (services are not restarted again)"},
		}}})
	o.RunDone(runner.Summary{Changed: true, Hosts: []runner.HostRecap{{Host: "mq1", Changed: 2}}})
}

// TestRollbackGolden: every view says what a rollback put back, what it
// could not and what it does not undo; the human recap repeats it under
// the failed host; a dry run says what would be undone.
func TestRollbackGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		run  func(runner.Observer)
	}{{"rollback", rollbackRun}, {"rollback-check", rollbackCheckRun}} {
		var h, j, m bytes.Buffer
		c.run(NewHuman(&h, false))
		c.run(NewJSONLines(&j))
		c.run(NewMarkdown(&m))
		golden(t, c.name+".human.golden", h.Bytes())
		golden(t, c.name+".jsonl.golden", j.Bytes())
		golden(t, c.name+".md.golden", m.Bytes())
	}
}
