package views

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"tend/runner"
	"tend/runner/plan"
)

// restartRun is the event stream of a broker restart on two hosts where
// lab1's broker takes a while to greet again: Progress events while the
// hosts wait, then the results (the restart command's output in stdout).
func restartRun(o runner.Observer) {
	const play, task = "Restart the MQ", "Restart the MQ"
	sec := func(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
	o.RunStarted(runner.RunStart{Schema: runner.EventSchema, Playbook: "playbooks/mq-closewait.yml"})
	o.PlayStarted(runner.PlayStart{Name: play, Hosts: []string{"lab1", "lab2", "lab3"}})
	for _, h := range []string{"lab1", "lab2", "lab3"} {
		o.HostStarted(runner.HostStart{Host: h, Play: play})
		o.TaskStarted(runner.TaskStart{Host: h, Play: play, Task: task, Module: "service", Phase: runner.PhaseTask})
	}
	o.TaskDone(runner.TaskResult{Host: "lab3", Play: play, Task: task, Module: "service", Status: runner.StatusChanged,
		Change: plan.Change{Action: plan.Restart, Summary: "restarted activemq: pid 10 -> 11; 127.0.0.1:61616 accepts, ActiveMQ greeting seen",
			Data: map[string]any{"stdout": "Restarting ActiveMQ: done.", "stderr": ""}}})
	o.HostDone(runner.HostDone{Host: "lab3", Play: play, Status: runner.StatusOK})
	o.Progress(runner.Progress{Host: "lab1", Play: play, Task: task, Msg: "restarting activemq", Elapsed: sec(1010)})
	o.Progress(runner.Progress{Host: "lab2", Play: play, Task: task, Msg: "restarting activemq", Elapsed: sec(1200)})
	o.Progress(runner.Progress{Host: "lab1", Play: play, Task: task, Msg: "waiting for :61616 greeting (nothing listens)", Elapsed: sec(2010)})
	o.Progress(runner.Progress{Host: "lab2", Play: play, Task: task, Msg: "waiting for :61616 greeting (accepts, no greeting yet)", Elapsed: sec(2200)})
	o.TaskDone(runner.TaskResult{Host: "lab2", Play: play, Task: task, Module: "service", Status: runner.StatusChanged,
		Change: plan.Change{Action: plan.Restart, Summary: "restarted activemq: pid 20 -> 21; 127.0.0.1:61616 accepts, ActiveMQ greeting seen",
			Data: map[string]any{"stdout": "Restarting ActiveMQ: done.", "stderr": ""}}})
	o.HostDone(runner.HostDone{Host: "lab2", Play: play, Status: runner.StatusOK})
	o.Progress(runner.Progress{Host: "lab1", Play: play, Task: task, Msg: "waiting for :61616 greeting (accepts, no greeting yet)", Elapsed: sec(7020)})
	o.TaskDone(runner.TaskResult{Host: "lab1", Play: play, Task: task, Module: "service", Status: runner.StatusChanged,
		Change: plan.Change{Action: plan.Restart, Summary: "restarted activemq: pid 30 -> 31; 127.0.0.1:61616 accepts, ActiveMQ greeting seen",
			Data: map[string]any{"stdout": "Stopping ActiveMQ: done.\nStarting ActiveMQ: done.", "stderr": "warning: slow start"}}})
	o.HostDone(runner.HostDone{Host: "lab1", Play: play, Status: runner.StatusOK})
	o.RunDone(runner.Summary{Changed: true, Hosts: []runner.HostRecap{{Host: "lab1", Changed: 1}, {Host: "lab2", Changed: 1}, {Host: "lab3", Changed: 1}}})
}

// drawnLines records the progress lines a terminal showed, one per draw.
type drawnLines struct{ lines []string }

func (d *drawnLines) Write(p []byte) (int, error) {
	if s := string(p); strings.HasPrefix(s, clearLine) && len(s) > len(clearLine) {
		d.lines = append(d.lines, strings.TrimPrefix(s, clearLine))
	}
	return len(p), nil
}

// TestRestartProgressGolden: on a terminal the progress line shows each
// waiting host, what it waits for and for how long, until its task ends;
// on a pipe the text view shows nothing of it, and without -v nothing of
// the restart command's output, which -v shows; JSON has progress events;
// markdown is the same as without them.
func TestRestartProgressGolden(t *testing.T) {
	var out bytes.Buffer
	drawn := &drawnLines{}
	h := NewHuman(&out, false)
	h.Stderr, h.Live = drawn, true
	restartRun(h)
	golden(t, "restart.progress.golden", []byte(strings.Join(drawn.lines, "\n")+"\n"))
	golden(t, "restart.human.golden", out.Bytes())

	var pipe, errb bytes.Buffer
	h = NewHuman(&pipe, false)
	h.Stderr, h.Verbose = &errb, true
	restartRun(h)
	golden(t, "restart.verbose.human.golden", pipe.Bytes())
	if errb.Len() != 0 {
		t.Errorf("a pipe's stderr got %q", errb.String())
	}

	var j bytes.Buffer
	restartRun(NewJSONLines(&j))
	golden(t, "restart.jsonl.golden", j.Bytes())

	var md, mdPlain bytes.Buffer
	restartRun(NewMarkdown(&md))
	restartRun(withoutProgress{NewMarkdown(&mdPlain)})
	if md.String() != mdPlain.String() {
		t.Errorf("progress events changed the markdown document:\n%s\n---- without them:\n%s", md.String(), mdPlain.String())
	}
}

// withoutProgress drops Progress events on their way to a view.
type withoutProgress struct{ runner.Observer }

func (withoutProgress) Progress(runner.Progress) {}

// TestWaitingLine: the progress line while hosts wait, exactly, within 79
// columns: hosts in order, as many as fit, the rest counted; a long
// message is cut, never the time.
func TestWaitingLine(t *testing.T) {
	w := func(msg string, secs float64) runner.Progress {
		return runner.Progress{Msg: msg, Elapsed: time.Duration(secs * float64(time.Second))}
	}
	for _, tc := range []struct {
		name    string
		done    int
		failed  int
		waiting map[string]runner.Progress
		want    string
	}{
		{"one", 0, 0, map[string]runner.Progress{"lab1": w("waiting for :61616 greeting", 7.4)},
			"0/3 done — lab1: waiting for :61616 greeting, 7s"},
		{"two fit", 1, 1, map[string]runner.Progress{"lab2": w("restarting mq", 1), "lab1": w("waiting for :61616", 2)},
			"1/3 done, 1 failed — lab1: waiting for :61616, 2s; lab2: restarting mq, 1s"},
		{"the rest counted", 0, 0, map[string]runner.Progress{"lab1": w("waiting for :61616 greeting", 75), "lab2": w("waiting for :61616 greeting", 3),
			"lab3": w("restarting activemq", 1)},
			"0/3 done — lab1: waiting for :61616 greeting, 1m15s (+2 waiting)"},
		{"long message cut, time kept", 0, 0, map[string]runner.Progress{"lab1": w("waiting for 10.20.30.40:61616 greeting (accepts, no greeting yet) and more words", 12)},
			"0/3 done — lab1: waiting for 10.20.30.40:61616 greeting (accepts, no gree…, 12s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := progress{total: 3, done: tc.done, waiting: tc.waiting, failed: map[string]bool{}}
			for i := 0; i < tc.failed; i++ {
				p.failed[string(rune('a'+i))] = true
			}
			got := p.waitingLine(progressWidth)
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			if n := len([]rune(got)); n > progressWidth {
				t.Errorf("%d columns", n)
			}
		})
	}
}
