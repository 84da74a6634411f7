package views

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tend/runner"
	"tend/runner/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// checkRun is the event stream of a dry run of the CLOSE_WAIT runbook on
// two hosts: one over the threshold, one below it.
func checkRun(o runner.Observer) {
	o.RunStarted(runner.RunStart{Schema: runner.EventSchema, Playbook: "playbooks/mq-closewait.yml", Check: true})
	o.Warning(runner.Warning{Msg: "/root/.ssh/known_hosts:3: malformed line, ignored"})
	o.PlayStarted(runner.PlayStart{Name: "Detect and tune", Hosts: []string{"mq1", "mq2"}})
	o.BatchStarted(runner.BatchStart{Play: "Detect and tune", Batch: 1, Batches: 1, Hosts: []string{"mq1", "mq2"}})
	o.HostStarted(runner.HostStart{Host: "mq1", Play: "Detect and tune"})
	o.TaskStarted(runner.TaskStart{Host: "mq1", Play: "Detect and tune", Task: "Count CLOSE_WAIT sockets on the MQ port", Module: "tcp_states", Phase: runner.PhaseTask})
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
	o.TaskDone(runner.TaskResult{Host: "mq4", Task: "connect", Status: runner.StatusUnreachable, HostKey: runner.HostKeyUnknown,
		Error: "transport: mq4: host key unknown (SHA256:abc): not in /root/.ssh/known_hosts"})
	o.HostDone(runner.HostDone{Host: "mq1", Play: "Detect and tune", Status: runner.StatusOK})
	o.RunDone(runner.Summary{Changed: true, Unreachable: []string{"mq3"}, HostKeyUnknown: []string{"mq4"}, Duration: time.Second, Hosts: []runner.HostRecap{
		{Host: "mq1", OK: 1, Changed: 2}, {Host: "mq2", OK: 1, Skipped: 1}, {Host: "mq3", Unreachable: 1}, {Host: "mq4", Unreachable: 1},
	}})
}

// applyRun is the event stream of an applying run: mq1 tunes (one key
// unsupported in its namespace), rechecks, then fails its verification;
// mq2 offers another host key than known_hosts.
func applyRun(o runner.Observer) {
	const play = "Detect and tune"
	unsupported := plan.ValueChange{Key: "net.core.netdev_max_backlog", After: "3000", Status: plan.ValueUnsupported,
		Note: "a global key: only PID 1's network namespace has it"}
	o.RunStarted(runner.RunStart{Schema: runner.EventSchema, Playbook: "playbooks/mq-closewait.yml"})
	o.PlayStarted(runner.PlayStart{Name: play, Hosts: []string{"mq1", "mq2"}})
	o.Warning(runner.Warning{Host: "mq1", Play: play, Task: "pending handlers", Msg: "a previous run changed this host but did not run its handlers: restart mq will run"})
	o.TaskDone(runner.TaskResult{Host: "mq1", Play: play, Task: "Tune TCP", Module: "sysctl", Status: runner.StatusChanged,
		Change: plan.Change{Action: plan.Update, Summary: "1 to change, 0 ok, 1 unsupported (net.core.netdev_max_backlog)",
			Values: []plan.ValueChange{{Key: "net.ipv4.tcp_fin_timeout", Before: "60", After: "30", Status: plan.ValueChanged}, unsupported}}})
	o.TaskDone(runner.TaskResult{Host: "mq1", Play: play, Task: "Tune TCP", Module: "sysctl", Phase: runner.PhaseRecheck, Status: runner.StatusOK,
		Change: plan.Change{Action: plan.None, Summary: "0 to change, 1 ok, 1 unsupported (net.core.netdev_max_backlog)",
			Values: []plan.ValueChange{{Key: "net.ipv4.tcp_fin_timeout", Before: "30", After: "30", Status: plan.ValueOK}, unsupported}}})
	o.TaskDone(runner.TaskResult{Host: "mq1", Play: play, Task: "CLOSE_WAIT is gone", Module: "assert", Phase: runner.PhaseVerify, Status: runner.StatusFailed,
		Error: "assertion failed: closewait.count < 10 (count is 40)"})
	o.TaskDone(runner.TaskResult{Host: "mq2", Play: play, Task: "connect", Status: runner.StatusUnreachable, HostKey: runner.HostKeyMismatch,
		Error: "transport: mq2: HOST KEY MISMATCH: offered SHA256:new, known_hosts:2 has SHA256:old"})
	o.RunDone(runner.Summary{Changed: true, Failed: []string{"mq1"}, HostKeyMismatch: []string{"mq2"}, Hosts: []runner.HostRecap{
		{Host: "mq1", Changed: 1, OK: 1, Failed: 1, Applied: []string{"Tune TCP: 1 to change, 0 ok, 1 unsupported (net.core.netdev_max_backlog)"}},
		{Host: "mq2", Unreachable: 1},
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

func TestHumanApplyGolden(t *testing.T) {
	var out, errb bytes.Buffer
	h := NewHuman(&out, false)
	h.Stderr = &errb
	applyRun(h)
	golden(t, "apply.human.golden", out.Bytes())
	if errb.Len() != 0 {
		t.Errorf("a host's warning went to stderr: %q", errb.String())
	}
}

func TestMarkdownApplyGolden(t *testing.T) {
	var b bytes.Buffer
	applyRun(NewMarkdown(&b))
	golden(t, "apply.md.golden", b.Bytes())
}

func TestJSONLinesApplyGolden(t *testing.T) {
	var b bytes.Buffer
	applyRun(NewJSONLines(&b))
	golden(t, "apply.jsonl.golden", b.Bytes())
}

func TestFactory(t *testing.T) {
	if got := strings.Join(Formats(), ","); got != "text,json,markdown" {
		t.Errorf("formats %s", got)
	}
	if _, err := New("xml", Options{}); err == nil || err.Error() != `views: unknown format "xml" (want text, json or markdown)` {
		t.Errorf("unknown format: %v", err)
	}
	for _, tc := range []struct{ format, want string }{
		{"text", "would change [mq1] Tune TCP"},
		{"json", `{"event":"run_start","data":{"schema":1,`},
		{"markdown", "| host | ok | would change |"},
	} {
		var out, errb bytes.Buffer
		v, err := New(tc.format, Options{Stdout: &out, Stderr: &errb})
		if err != nil {
			t.Fatal(err)
		}
		checkRun(v)
		if !strings.Contains(out.String(), tc.want) {
			t.Errorf("%s: output lacks %q:\n%s", tc.format, tc.want, out.String())
		}
	}
}

// A warning given before the run starts (ssh_config is read first) comes
// after run_start, which names the schema; one given before a run that
// never starts is handed back to the caller.
func TestViewHoldsEarlyWarnings(t *testing.T) {
	var b bytes.Buffer
	v, err := New("json", Options{Stdout: &b})
	if err != nil {
		t.Fatal(err)
	}
	v.Warning(runner.Warning{Msg: "early"})
	if b.Len() != 0 || len(v.Unshown()) != 1 {
		t.Fatalf("warning written before run_start: %q", b.String())
	}
	v.RunStarted(runner.RunStart{Schema: runner.EventSchema, Playbook: "p.yml"})
	v.Warning(runner.Warning{Msg: "late"})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		`{"event":"run_start","data":{"schema":1,"playbook":"p.yml","check":false}}`,
		`{"event":"warning","data":{"msg":"early"}}`,
		`{"event":"warning","data":{"msg":"late"}}`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", b.String(), strings.Join(want, "\n"))
	}
	if len(v.Unshown()) != 0 {
		t.Errorf("warnings shown after the start are still unshown")
	}
}

// Warnings come from connection code on any goroutine while the runner
// reports results: a view from New never interleaves them (run with -race).
func TestViewConcurrentWarnings(t *testing.T) {
	var b bytes.Buffer
	v, _ := New("json", Options{Stdout: &b})
	v.RunStarted(runner.RunStart{Schema: runner.EventSchema})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				v.Warning(runner.Warning{Msg: "known_hosts: line 3 malformed"})
				v.TaskDone(runner.TaskResult{Host: "h", Task: "t", Status: runner.StatusOK})
			}
		}()
	}
	wg.Wait()
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("interleaved output: %q", line)
		}
	}
}
