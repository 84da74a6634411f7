package runner

import (
	"context"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"tend/internal/memhost"
	"tend/runner/transport"
)

// Engine tests on runner.Run with in-memory hosts (memhost_helpers_test.go):
// how a run goes on, or stops, across hosts.

// failOn answers name on every host of f: exit 1 on the hosts in bad, 0 elsewhere.
func failOn(f *fleet, name string, bad ...string) {
	for n, h := range f.hosts {
		code := 0
		if slices.Contains(bad, n) {
			code = 1
		}
		h.Handle(memhost.Argv(name), exits(code))
	}
}

// TestEngineUnreachableFailedStopped: a host that cannot be reached, or
// drops mid-run, is unreachable; a task that fails fails its host; neither
// stops the other hosts (no any_errors_fatal), and a host out of the run
// takes no part in later plays. A host that dropped keeps the record of
// what it had changed.
func TestEngineUnreachableFailedStopped(t *testing.T) {
	const src = `
- hosts: all
  tasks:
    - name: one
      memfile: {path: /etc/one, content: "1"}
    - name: step two
      command: step-two
    - name: three
      memfile: {path: /etc/three, content: "3"}
- hosts: all
  tasks:
    - name: after
      memfile: {path: /etc/after, content: "a"}
`
	f := newFleet("h1", "h2", "h3", "h4")
	f.down["h1"] = true
	failOn(f, "step-two", "h2")
	h3 := f.hosts["h3"]
	h3.Handle(memhost.Argv("step-two"), func(context.Context, *memhost.Host, transport.Command) (transport.Result, error) {
		return transport.Result{}, h3.Unreachable("connection reset by peer")
	})
	sum, rec := runOn(t, f, src, Options{})

	if !reflect.DeepEqual(sum.Unreachable, []string{"h1", "h3"}) || !reflect.DeepEqual(sum.Failed, []string{"h2"}) || len(sum.Stopped) > 0 {
		t.Errorf("unreachable %v failed %v stopped %v, want [h1 h3] [h2] []", sum.Unreachable, sum.Failed, sum.Stopped)
	}
	// Err: one line per host that did not succeed, sorted; h4 succeeded.
	if err := sum.Err(); err == nil {
		t.Error("Err() is nil with three hosts out of the run")
	} else if lines := strings.Split(err.Error(), "\n"); len(lines) != 4 || lines[0] != "3 hosts did not succeed:" ||
		!strings.HasPrefix(lines[1], "  host h1: task \"connect\"") || !strings.HasPrefix(lines[2], "  host h2: task \"step two\"") ||
		!strings.HasPrefix(lines[3], "  host h3: task \"step two\"") {
		t.Errorf("Err() =\n%s\nwant a count line, then h1, h2, h3 one per line", err)
	}
	if r := rec.result(t, "h1", "connect", PhaseTask); r.Status != StatusUnreachable || !strings.Contains(r.Error, "connection refused") {
		t.Errorf("h1: connect %s %q, want unreachable with the cause", r.Status, r.Error)
	}
	if r := rec.result(t, "h2", "step two", PhaseTask); r.Status != StatusFailed || !strings.Contains(r.Error, "non-zero return code 1") {
		t.Errorf("h2: step two %s %q, want failed with the exit code", r.Status, r.Error)
	}
	if r := rec.result(t, "h3", "step two", PhaseTask); r.Status != StatusUnreachable || !strings.Contains(r.Error, "connection reset") {
		t.Errorf("h3: step two %s %q, want unreachable with the cause", r.Status, r.Error)
	}
	for _, n := range []string{"h1", "h2", "h3"} {
		if rec.ran(n, "three") || rec.ran(n, "after") {
			t.Errorf("%s: ran a task after it was out of the run", n)
		}
	}
	for _, hr := range sum.Hosts {
		if hr.Host == "h3" && !reflect.DeepEqual(hr.Applied, []string{"one: /etc/one: written"}) {
			t.Errorf("h3: applied %q, want what it changed before it dropped", hr.Applied)
		}
	}
	if b, _ := f.hosts["h4"].File("/etc/after"); string(b) != "a" {
		t.Errorf("h4: the second play did not run on the healthy host")
	}
}

// TestEngineUntilRetries: until: repeats a task at most retries more
// times; the task succeeds at the first attempt that satisfies it, or
// fails after retries+1 attempts.
func TestEngineUntilRetries(t *testing.T) {
	for _, c := range []struct {
		name          string
		retries, okAt int // okAt: the probe succeeds from this call on
		want          Status
		attempts      int
	}{
		{"first try", 2, 1, StatusOK, 1},
		{"third try", 2, 3, StatusOK, 3},
		{"retries exhausted", 1, 3, StatusFailed, 2},
		{"no retries", 0, 2, StatusFailed, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := `
- hosts: all
  tasks:
    - name: probe
      command: probe
      register: p
      until: p.rc == 0
      retries: ` + strconv.Itoa(c.retries) + `
      delay: 0
      changed_when: false
`
			f := newFleet("h1")
			f.hosts["h1"].Handle(memhost.Argv("probe"), func(_ context.Context, h *memhost.Host, _ transport.Command) (transport.Result, error) {
				if h.Ran(memhost.Argv("probe")) >= c.okAt { // this call is recorded already
					return memhost.OK("up\n"), nil
				}
				return memhost.Exit(1, "down\n"), nil
			})
			_, rec := runOn(t, f, src, Options{})
			r := rec.result(t, "h1", "probe", PhaseTask)
			if r.Status != c.want || r.Attempts != c.attempts {
				t.Errorf("probe %s after %d attempts (%q), want %s after %d", r.Status, r.Attempts, r.Error, c.want, c.attempts)
			}
			if n := f.hosts["h1"].Ran(memhost.Argv("probe")); n != c.attempts {
				t.Errorf("probe ran %d times, want %d", n, c.attempts)
			}
			if c.want == StatusFailed && !strings.Contains(r.Error, "still false after") {
				t.Errorf("error %q, want it to say until stayed false", r.Error)
			}
		})
	}
}

// TestEngineSerialBatches: serial: runs the hosts in batches, one batch
// after the other; a batch whose every host failed ends the run, and the
// hosts of later batches are stopped without being contacted.
func TestEngineSerialBatches(t *testing.T) {
	const src = `
- hosts: all
  serial: 2
  tasks:
    - name: step
      command: step
`
	t.Run("batches", func(t *testing.T) {
		f := newFleet("h1", "h2", "h3", "h4", "h5")
		failOn(f, "step")
		sum, rec := runOn(t, f, src, Options{})
		var got [][]string
		for _, b := range rec.batches {
			got = append(got, b.Hosts)
		}
		want := [][]string{{"h1", "h2"}, {"h3", "h4"}, {"h5"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("batches %q, want %q", got, want)
		}
		// A batch's hosts are contacted only once the previous batch is done.
		for i, n := 0, 0; i < len(want); n, i = n+len(want[i]), i+1 {
			if c := slices.Sorted(slices.Values(f.connects[n : n+len(want[i])])); !reflect.DeepEqual(c, want[i]) {
				t.Errorf("connections %q, want batch %d (%q) together", f.connects, i+1, want[i])
			}
		}
		if len(sum.Failed)+len(sum.Stopped) > 0 {
			t.Errorf("failed %v stopped %v, want none", sum.Failed, sum.Stopped)
		}
	})
	t.Run("a failed batch ends the run", func(t *testing.T) {
		f := newFleet("h1", "h2", "h3", "h4", "h5")
		failOn(f, "step", "h1", "h2")
		sum, _ := runOn(t, f, src, Options{})
		if !reflect.DeepEqual(sum.Failed, []string{"h1", "h2"}) || !reflect.DeepEqual(sum.Stopped, []string{"h3", "h4", "h5"}) {
			t.Errorf("failed %v stopped %v, want [h1 h2] [h3 h4 h5]", sum.Failed, sum.Stopped)
		}
		if !strings.Contains(sum.Aborted, "every host of batch 1/3") {
			t.Errorf("aborted %q, want it to name the failed batch", sum.Aborted)
		}
		if !reflect.DeepEqual(f.connects, []string{"h1", "h2"}) && !reflect.DeepEqual(f.connects, []string{"h2", "h1"}) {
			t.Errorf("connected to %q, want only the first batch", f.connects)
		}
	})
}

// TestEngineMaxFailPercentage: the hosts of a batch stop after the current
// task once strictly more than max_fail_percentage of them failed.
func TestEngineMaxFailPercentage(t *testing.T) {
	const src = `
- hosts: all
  max_fail_percentage: 25
  tasks:
    - name: step
      command: step
    - name: after
      memfile: {path: /etc/after, content: "a"}
`
	for _, c := range []struct {
		bad     []string
		stopped []string
	}{
		{nil, nil},
		{[]string{"h1"}, nil}, // 1 of 4 = 25%: not more than 25%
		{[]string{"h1", "h2"}, []string{"h3", "h4"}}, // 2 of 4 = 50%
	} {
		t.Run(strings.Join(append([]string{"failing"}, c.bad...), " "), func(t *testing.T) {
			f := newFleet("h1", "h2", "h3", "h4")
			failOn(f, "step", c.bad...)
			sum, rec := runOn(t, f, src, Options{})
			if !reflect.DeepEqual(sum.Failed, c.bad) || !reflect.DeepEqual(sum.Stopped, c.stopped) {
				t.Errorf("failed %v stopped %v, want %v %v", sum.Failed, sum.Stopped, c.bad, c.stopped)
			}
			for _, n := range f.names {
				healthy := !slices.Contains(c.bad, n)
				if ran := rec.ran(n, "after"); ran != (healthy && c.stopped == nil) {
					t.Errorf("%s: ran the next task: %v", n, ran)
				}
			}
			if c.stopped != nil && !strings.Contains(sum.Aborted, "max_fail_percentage 25% exceeded: 2 of 4") {
				t.Errorf("aborted %q, want the percentage and the count", sum.Aborted)
			}
		})
	}
}

// TestEngineAnyErrorsFatal: one failed host stops every other host of the
// play after the task they are all on; they are stopped, not failed.
func TestEngineAnyErrorsFatal(t *testing.T) {
	const src = `
- hosts: all
  any_errors_fatal: true
  tasks:
    - name: step
      command: step
    - name: after
      memfile: {path: /etc/after, content: "a"}
`
	f := newFleet("h1", "h2", "h3")
	failOn(f, "step", "h2")
	sum, rec := runOn(t, f, src, Options{})
	if !reflect.DeepEqual(sum.Failed, []string{"h2"}) || !reflect.DeepEqual(sum.Stopped, []string{"h1", "h3"}) {
		t.Errorf("failed %v stopped %v, want [h2] [h1 h3]", sum.Failed, sum.Stopped)
	}
	if !strings.Contains(sum.Aborted, "any_errors_fatal: h2 failed") {
		t.Errorf("aborted %q, want it to name the failed host", sum.Aborted)
	}
	for _, n := range []string{"h1", "h3"} {
		if r := rec.result(t, n, "step", PhaseTask); r.Status != StatusChanged {
			t.Errorf("%s: step %s, want it finished", n, r.Status)
		}
		if rec.ran(n, "after") {
			t.Errorf("%s: ran a task after the fatal failure", n)
		}
	}
	for _, s := range rec.stops {
		if s.Task != "after" {
			t.Errorf("%s stopped before %q, want before the next task", s.Host, s.Task)
		}
	}
}

// TestEngineStopBetweenSteps: a stop request (SIGINT) while a task runs
// lets that task finish, its write whole, and runs no further task or play.
func TestEngineStopBetweenSteps(t *testing.T) {
	const src = `
- hosts: all
  tasks:
    - name: one
      memfile: {path: /etc/one, content: "1"}
    - name: two
      memfile: {path: /etc/two, content: "2"}
- hosts: all
  tasks:
    - name: later
      memfile: {path: /etc/later, content: "l"}
`
	stop := make(chan struct{})
	f := newFleet("h1")
	f.hosts["h1"].Handle(memhost.Argv("tee", "/etc/one"), func(_ context.Context, h *memhost.Host, c transport.Command) (transport.Result, error) {
		close(stop) // the signal arrives while the write runs
		h.SetFile(c.Argv[1], c.Stdin)
		return memhost.OK(""), nil
	})
	sum, rec := runOn(t, f, src, Options{Stop: stop})
	h := f.hosts["h1"]
	if b, _ := h.File("/etc/one"); string(b) != "1" || rec.result(t, "h1", "one", PhaseTask).Status != StatusChanged {
		t.Errorf("h1: the step in progress did not finish (/etc/one = %q)", b)
	}
	if rec.ran("h1", "two") || rec.ran("h1", "later") || h.Ran(memhost.Argv("cat", "/etc/two")) > 0 {
		t.Errorf("h1: a task ran after the stop request")
	}
	if !reflect.DeepEqual(sum.Stopped, []string{"h1"}) || sum.Aborted != "interrupted" || len(sum.Failed) > 0 {
		t.Errorf("stopped %v aborted %q failed %v, want [h1] interrupted []", sum.Stopped, sum.Aborted, sum.Failed)
	}
}
