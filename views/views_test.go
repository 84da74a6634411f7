package views

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tend/runner"
	"tend/runner/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// checkRun is the event stream of a dry run of the CLOSE_WAIT runbook on
// two hosts: one over the threshold, one below it.
func checkRun(o runner.Observer) {
	o.RunStarted(runner.RunStart{Playbook: "playbooks/mq-closewait.yml", Check: true})
	o.PlayStarted(runner.PlayStart{Name: "Detect and tune", Hosts: []string{"mq1", "mq2"}})
	o.TaskDone(runner.TaskResult{Host: "mq1", Task: "Count CLOSE_WAIT sockets on the MQ port", Module: "tcp_states", Status: runner.StatusOK,
		Change: plan.Change{Action: plan.Read, Summary: "132 CLOSE_WAIT on :61616 held by java (pid 4242, 1019 fds); listening, 12 established",
			Warnings: []string{"broker runs in its own network namespace: host sysctl values do not reach its sockets"}}})
	o.TaskDone(runner.TaskResult{Host: "mq1", Task: "Tune TCP", Module: "sysctl", Status: runner.StatusChanged, DryRun: true,
		Change: plan.Change{Action: plan.Update, Summary: "2 to change, 1 ok; /etc/sysctl.conf: 1 line changed, 1 added",
			Values: []plan.ValueChange{
				{Key: "net.ipv4.tcp_fin_timeout", Before: "60", After: "30", Status: plan.ValueChanged},
				{Key: "net.ipv4.tcp_keepalive_time", Before: "7200", After: "1200", Status: plan.ValueChanged},
				{Key: "net.ipv4.tcp_syncookies", Before: "1", After: "1", Status: plan.ValueOK},
				{Key: "net.ipv4.tcp_tw_recycle", After: "1", Status: plan.ValueUnsupported, Note: "removed in Linux 4.12; it broke clients behind NAT"},
			},
			Files:    []plan.FileChange{{Path: "/etc/sysctl.conf", Diff: "--- /etc/sysctl.conf\n+++ /etc/sysctl.conf (tend)\n@@ -1,2 +1,4 @@\n # site tuning\n-net.ipv4.tcp_fin_timeout=60\n+net.ipv4.tcp_fin_timeout=30\n+# added by tend\n+net.ipv4.tcp_keepalive_time = 1200\n"}},
			Warnings: []string{"/etc/sysctl.conf:7: net.ipv4.tcp_low_latency: no such key on this kernel (not ours; sysctl -p will complain)"},
		}})
	o.TaskDone(runner.TaskResult{Host: "mq2", Task: "Count CLOSE_WAIT sockets on the MQ port", Module: "tcp_states", Status: runner.StatusOK,
		Change: plan.Change{Action: plan.Read, Summary: "3 CLOSE_WAIT on :61616 held by java (pid 777, 120 fds); listening"}})
	o.TaskDone(runner.TaskResult{Host: "mq1", Task: "Restart the MQ", Module: "service", Status: runner.StatusChanged, DryRun: true,
		Change: plan.Change{Action: plan.Restart, Summary: "would restart activemq (pid 4242)"}})
	o.TaskDone(runner.TaskResult{Host: "mq2", Task: "Restart the MQ", Module: "service", Status: runner.StatusSkipped,
		Reason: "when: closewait.count > (closewait_threshold | int) is false"})
	o.TaskDone(runner.TaskResult{Host: "mq3", Task: "connect", Status: runner.StatusUnreachable,
		Error: "transport: host mq3 unreachable: dial tcp 10.0.0.3:22: connect: connection refused"})
	o.RunDone(runner.Summary{Changed: true, Unreachable: []string{"mq3"}, Duration: time.Second, Hosts: []runner.HostRecap{
		{Host: "mq1", OK: 1, Changed: 2}, {Host: "mq2", OK: 1, Skipped: 1}, {Host: "mq3", Unreachable: 1},
	}})
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestHumanCheckGolden(t *testing.T) {
	var b bytes.Buffer
	checkRun(NewHuman(&b, false))
	golden(t, "check.human.golden", b.Bytes())
}

func TestJSONLinesCheckGolden(t *testing.T) {
	var b bytes.Buffer
	checkRun(NewJSONLines(&b))
	for i, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
	}
	golden(t, "check.jsonl.golden", b.Bytes())
}

func TestMarkdownCheckGolden(t *testing.T) {
	var b bytes.Buffer
	checkRun(NewMarkdown(&b))
	golden(t, "check.md.golden", b.Bytes())
}
