package metrics

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tend/runner"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var end = time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)

// okRun: mq1 changed, mq2 ok, with the shipped runbook's kind of values.
func okRun(r *Recorder) {
	r.TaskDone(runner.TaskResult{Host: "mq1", Task: "count", Status: runner.StatusOK, Metrics: []runner.MetricValue{
		{Name: "tend_mq_closewait_sockets", Labels: map[string]string{"port": "61616", "phase": "before"}, Value: 412},
		{Name: "tend_mq_fds", Value: 900},
	}})
	r.TaskDone(runner.TaskResult{Host: "mq1", Task: "recount", Status: runner.StatusOK, Metrics: []runner.MetricValue{
		{Name: "tend_mq_closewait_sockets", Labels: map[string]string{"port": "61616", "phase": "after"}, Value: 0},
	}})
	r.TaskDone(runner.TaskResult{Host: "mq2", Task: "count", Status: runner.StatusOK, Metrics: []runner.MetricValue{
		{Name: "tend_mq_closewait_sockets", Labels: map[string]string{"port": "61616", "phase": "before"}, Value: 3},
		// a clashing label set is left out, with a warning
		{Name: "tend_mq_fds", Labels: map[string]string{"pid": "7"}, Value: 1},
	}})
	// a budgeted restart that changed mq1 again within its window
	r.TaskDone(runner.TaskResult{Host: "mq1", Task: "restart", Status: runner.StatusChanged, Budget: &runner.BudgetUse{Max: 3, Per: "24h", Used: 1, Relapse: true}})
	r.RunDone(runner.Summary{Duration: 2500 * time.Millisecond, Changed: true,
		Hosts: []runner.HostRecap{{Host: "mq1", OK: 3, Changed: 1}, {Host: "mq2", OK: 3}}})
}

func failedRun(r *Recorder) {
	r.TaskDone(runner.TaskResult{Host: "mq1", Task: "restart", Status: runner.StatusFailed, Budget: &runner.BudgetUse{Max: 3, Per: "24h", Used: 3, Spent: true}})
	r.RunDone(runner.Summary{Duration: time.Second, Failed: []string{"mq1"}, Unreachable: []string{"mq3"}, Stopped: []string{"mq4"},
		Hosts: []runner.HostRecap{{Host: "mq1", Failed: 1}, {Host: "mq2", Changed: 2}, {Host: "mq3", Unreachable: 1}, {Host: "mq4", Stopped: true}}})
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update):\n--- got\n%s--- want\n%s", name, got, want)
	}
}

// TestWriteFile: the metric set of a run as written for node_exporter,
// and a failed run after it keeping the last success time.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tend.prom")
	steps := []struct {
		name   string
		run    func(*Recorder)
		golden string
		warns  []string
	}{
		{"success", okRun, "success.prom", []string{"metrics: tend_mq_fds on mq2 has labels host,pid, not host as before: left out"}},
		{"failure keeps the last success", failedRun, "failed.prom", nil},
		{"a second failure still keeps it", failedRun, "failed.prom", nil},
	}
	for _, s := range steps {
		r := NewRecorder("mq-closewait", func() time.Time { return end })
		s.run(r)
		warns, err := r.WriteFile(path)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if strings.Join(warns, "\n") != strings.Join(s.warns, "\n") {
			t.Errorf("%s: warnings %q, want %q", s.name, warns, s.warns)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, s.golden, string(got))
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("%s: %d files in the directory, want only tend.prom (temporary file left?)", s.name, len(entries))
		}
	}
}

// TestFailureWithoutPreviousFile: a first run that fails has no success
// time to keep.
func TestFailureWithoutPreviousFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tend.prom")
	r := NewRecorder("mq-closewait", func() time.Time { return end })
	failedRun(r)
	if _, err := r.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if strings.Contains(string(got), LastSuccess) {
		t.Errorf("a failed first run wrote %s:\n%s", LastSuccess, got)
	}
}

// TestExportUnwritable: a directory that cannot be written is a warning
// saying the metrics were not written.
func TestExportUnwritable(t *testing.T) {
	r := NewRecorder("mq-closewait", func() time.Time { return end })
	okRun(r)
	warns := r.Export(Targets{File: "/nonexistent-dir/tend.prom"})
	if len(warns) == 0 || !strings.Contains(warns[len(warns)-1], "metrics were not written") {
		t.Errorf("warnings %q, want one saying metrics were not written", warns)
	}
}

func TestName(t *testing.T) {
	for in, want := range map[string]string{"mq-closewait": "mq-closewait", "playbooks/mq-closewait.yml": "mq-closewait", "/x/site.yaml": "site"} {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSucceeded: any host not ok or changed, or an aborted run, is not a
// success (the last success time stays).
func TestSucceeded(t *testing.T) {
	hosts := []runner.HostRecap{{Host: "h", OK: 1}}
	for _, tc := range []struct {
		name string
		sum  runner.Summary
		want bool
	}{
		{"all ok", runner.Summary{Hosts: hosts}, true},
		{"changed", runner.Summary{Hosts: []runner.HostRecap{{Host: "h", Changed: 1}}, Changed: true}, true},
		{"failed", runner.Summary{Hosts: hosts, Failed: []string{"h"}}, false},
		{"unreachable", runner.Summary{Hosts: hosts, Unreachable: []string{"h"}}, false},
		{"host key unknown", runner.Summary{Hosts: hosts, HostKeyUnknown: []string{"h"}}, false},
		{"host key mismatch", runner.Summary{Hosts: hosts, HostKeyMismatch: []string{"h"}}, false},
		{"stopped", runner.Summary{Hosts: hosts, Stopped: []string{"h"}}, false},
		{"aborted", runner.Summary{Hosts: hosts, Aborted: "interrupted"}, false},
	} {
		r := NewRecorder("p", func() time.Time { return end })
		if r.Succeeded() {
			t.Errorf("%s: a run not done succeeded", tc.name)
		}
		r.RunDone(tc.sum)
		if got := r.Succeeded(); got != tc.want {
			t.Errorf("%s: Succeeded() = %v, want %v", tc.name, got, tc.want)
		}
	}
}
