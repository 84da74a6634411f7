package views

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"tend/runner"
)

// screen records the writes of stdout and stderr in order, as a terminal
// shows both, and fails when a stdout write lands while the progress line
// is on screen (it would be glued to the progress text).
type screen struct {
	t      *testing.T
	shown  bool
	stdout strings.Builder
	stderr strings.Builder
	draws  int
}

type screenWriter struct {
	s   *screen
	err bool
}

func (w screenWriter) Write(p []byte) (int, error) {
	s, text := w.s, string(p)
	if !w.err {
		if s.shown {
			s.t.Errorf("stdout block %q written over the progress line", text)
		}
		s.stdout.WriteString(text)
		return len(p), nil
	}
	s.stderr.WriteString(text)
	switch {
	case text == clearLine:
		s.shown = false
	case strings.HasPrefix(text, clearLine) && !strings.HasSuffix(text, "\n"):
		s.shown = true
		s.draws++
	case strings.HasSuffix(text, "\n"):
		if s.shown {
			s.t.Errorf("stderr line %q written over the progress line", text)
		}
	}
	return len(p), nil
}

// serialRun is the event stream of a two-batch play where the first
// batch's only host fails and stops the second.
func serialRun(h *Human) {
	h.RunStarted(runner.RunStart{Playbook: "p.yml"})
	h.PlayStarted(runner.PlayStart{Name: "restart", Hosts: []string{"mq1", "mq2", "mq3"}})
	h.BatchStarted(runner.BatchStart{Play: "restart", Batch: 1, Batches: 2, Hosts: []string{"mq1"}})
	h.HostStarted(runner.HostStart{Host: "mq1", Play: "restart"})
	h.TaskStarted(runner.TaskStart{Host: "mq1", Play: "restart", Task: "restart", Phase: runner.PhaseTask})
	h.TaskDone(runner.TaskResult{Host: "mq1", Task: "restart", Status: runner.StatusFailed, Error: "did not come back", Attempts: 3})
	h.Warning(runner.Warning{Msg: "known_hosts: line 3 malformed"})
	h.Warning(runner.Warning{Host: "mq1", Play: "restart", Task: "pending handlers", Msg: "a previous run changed this host"})
	h.HostDone(runner.HostDone{Host: "mq1", Play: "restart", Status: runner.StatusFailed})
	for _, n := range []string{"mq2", "mq3"} {
		h.HostStopped(runner.HostStop{Host: n, Play: "restart", Reason: "not started: every host of batch 1/2 of play \"restart\" failed"})
		h.HostDone(runner.HostDone{Host: n, Play: "restart", Status: runner.StatusStopped})
	}
	h.RunDone(runner.Summary{Failed: []string{"mq1"}, Stopped: []string{"mq2", "mq3"},
		Aborted: "every host of batch 1/2 of play \"restart\" failed", RetryFile: "/tmp/r",
		Hosts: []runner.HostRecap{{Host: "mq1", Failed: 1}, {Host: "mq2", Stopped: true}, {Host: "mq3", Stopped: true}}})
}

func TestHumanProgressOnlyOnStderrAndNeverInsideOutput(t *testing.T) {
	s := &screen{t: t}
	h := NewHuman(screenWriter{s: s}, false)
	h.Stderr, h.Live = screenWriter{s: s, err: true}, true
	serialRun(h)
	if s.draws == 0 {
		t.Fatal("no progress line drawn on a terminal")
	}
	if s.shown {
		t.Error("progress line left on screen after the recap")
	}
	if strings.ContainsAny(s.stdout.String(), "\r\x1b") {
		t.Errorf("stdout holds terminal control bytes:\n%q", s.stdout.String())
	}
	if !strings.Contains(s.stderr.String(), "0/3 hosts done, 0 failed, 1 running — batch 1/2 — restart: restart") {
		t.Errorf("progress never showed the running host and its task:\n%q", s.stderr.String())
	}
	if !strings.Contains(s.stderr.String(), "3/3 hosts done, 1 failed") {
		t.Errorf("progress never reached 3/3 with 1 failure:\n%q", s.stderr.String())
	}
	if !strings.Contains(s.stderr.String(), "tend: warning: known_hosts: line 3 malformed\n") {
		t.Errorf("warning missing from stderr:\n%q", s.stderr.String())
	}
	out := s.stdout.String()
	for _, want := range []string{
		"BATCH 1/2: mq1\n",
		"warning      [mq1] pending handlers: a previous run changed this host\n",
		"failed       [mq1] restart (attempts: 3)\n",
		"stopped      [mq2] play restart (not started: every host",
		"FAILED: mq1\n",
		"STOPPED: mq2, mq3\n",
		"run stopped early: every host of batch 1/2",
		"to retry these hosts: --limit @/tmp/r\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

func TestHumanNoProgressOnAPipe(t *testing.T) {
	var out, errb bytes.Buffer
	h := NewHuman(&out, false)
	h.Stderr = &errb // Progress false: stderr is not a terminal
	serialRun(h)
	if got := errb.String(); got != "tend: warning: known_hosts: line 3 malformed\n" {
		t.Errorf("stderr of a pipe holds more than the warning: %q", got)
	}
}

func TestJSONLinesExecutionEvents(t *testing.T) {
	var b bytes.Buffer
	j := NewJSONLines(&b)
	j.BatchStarted(runner.BatchStart{Play: "p", Batch: 1, Batches: 2, Hosts: []string{"a"}})
	j.HostStopped(runner.HostStop{Host: "b", Play: "p", Task: "t2", Reason: "any_errors_fatal: a failed"})
	j.HostDone(runner.HostDone{Host: "b", Play: "p", Status: runner.StatusStopped})
	var kinds []string
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var e struct {
			Event string         `json:"event"`
			Data  map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not one JSON object per line: %q: %v", line, err)
		}
		kinds = append(kinds, e.Event)
	}
	if strings.Join(kinds, ",") != "batch_start,host_stopped,host_done" {
		t.Errorf("events %v", kinds)
	}
	if !strings.Contains(b.String(), `"reason":"any_errors_fatal: a failed"`) {
		t.Errorf("host_stopped lacks its reason:\n%s", b.String())
	}
}
