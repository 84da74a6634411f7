package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"tend/internal/memhost"
	"tend/runner/modules"
	"tend/runner/plan"
	"tend/runner/playbook"
	"tend/runner/transport"
)

// Engine tests on runner.Run with in-memory hosts (memhost_helpers_test.go):
// what a run does to a host, and when.

// TestEngineDryRunWritesNothing: --check runs only reads (no Apply, no
// pending marker, no command), leaves every file as it was, and still
// reports what would change.
func TestEngineDryRunWritesNothing(t *testing.T) {
	const src = `
- hosts: all
  handlers:
    - name: restart app
      command: restart-app
  tasks:
    - name: write config
      memfile: {path: /etc/app.conf, content: "new\n"}
      notify: restart app
    - name: clean up
      command: rm -rf /var/cache/app
`
	f := newFleet("h1", "h2")
	f.hosts["h1"].SetFile("/etc/app.conf", []byte("old\n")) // h2 has no file at all
	before := map[string]map[string][]byte{}
	for n, h := range f.hosts {
		before[n] = h.Files()
	}
	sum, rec := runOn(t, f, src, Options{Check: true})
	reads := []memhost.Matcher{memhost.Argv("cat"), memhost.Script(loadPendingScript), memhost.Script(modules.FactsScript)}
	for _, n := range f.names {
		h := f.hosts[n]
		if got := h.Files(); !reflect.DeepEqual(got, before[n]) {
			t.Errorf("%s: files changed by a dry run: %q, want %q", n, got, before[n])
		}
		for _, c := range h.Calls() {
			if !slices.ContainsFunc(reads, func(m memhost.Matcher) bool { return m(c.Argv) }) {
				t.Errorf("%s: a dry run ran %q, which is not a read", n, c.Argv)
			}
		}
		if r := rec.result(t, n, "write config", PhaseTask); r.Status != StatusChanged || !r.DryRun {
			t.Errorf("%s: write config is %s (dry run %v), want a planned change", n, r.Status, r.DryRun)
		}
		if r := rec.result(t, n, "restart app", PhaseHandler); r.Status != StatusSkipped {
			t.Errorf("%s: the notified handler is %s, want skipped (would run)", n, r.Status)
		}
	}
	if !sum.Changed || len(sum.Failed)+len(sum.Unreachable)+len(sum.Stopped) > 0 {
		t.Errorf("summary %+v, want changes planned and no host failed", sum)
	}
}

// TestEngineRecheckChangeDidNotHold: after apply, Check runs again; a host
// where it still finds the change fails, the message names the task and
// what did not hold, and its verify tasks do not run.
func TestEngineRecheckChangeDidNotHold(t *testing.T) {
	const src = `
- hosts: all
  tasks:
    - name: write config
      memfile: {path: /etc/app.conf, content: "new\n"}
  verify:
    - name: app answers
      command: check-app
`
	f := newFleet("h1", "h2")
	f.handle(memhost.Argv("check-app"), exits(0))
	// On h1 the write "succeeds" but does not stick (as a value the kernel resets).
	f.hosts["h1"].Handle(memhost.Argv("tee", "/etc/app.conf"), func(context.Context, *memhost.Host, transport.Command) (transport.Result, error) {
		return memhost.OK(""), nil
	})
	sum, rec := runOn(t, f, src, Options{})

	if r := rec.result(t, "h1", "write config", PhaseTask); r.Status != StatusChanged {
		t.Errorf("h1: write config is %s, want changed (Apply reported success)", r.Status)
	}
	r := rec.result(t, "h1", "write config", PhaseRecheck)
	if r.Status != StatusFailed || !strings.Contains(r.Error, "did not hold") || !strings.Contains(r.Error, "/etc/app.conf: content differs") {
		t.Errorf("h1: recheck %s %q, want failed naming what did not hold", r.Status, r.Error)
	}
	if rec.ran("h1", "app answers") {
		t.Errorf("h1: verify ran after the recheck failed")
	}
	if !reflect.DeepEqual(sum.Failed, []string{"h1"}) {
		t.Errorf("failed hosts %v, want [h1]", sum.Failed)
	}

	if r := rec.result(t, "h2", "write config", PhaseRecheck); r.Status != StatusOK {
		t.Errorf("h2: recheck %s %q, want ok", r.Status, r.Error)
	}
	if r := rec.result(t, "h2", "app answers", PhaseVerify); r.Status != StatusChanged {
		t.Errorf("h2: verify %s, want run", r.Status)
	}
	if b, _ := f.hosts["h2"].File("/etc/app.conf"); string(b) != "new\n" {
		t.Errorf("h2: /etc/app.conf = %q, want written", b)
	}
}

// TestEngineRecheckJudgedFailed: a recheck whose Check finds nothing to
// change but judges the host failed (sysctl persist: strict on a value that
// reverts at boot) fails the host with the module's message.
func TestEngineRecheckJudgedFailed(t *testing.T) {
	const src = `
- hosts: all
  tasks:
    - name: write config
      memfile: {path: /etc/app.conf, content: "new\n", judge: "reverts at boot"}
`
	f := newFleet("h1")
	sum, rec := runOn(t, f, src, Options{})
	if r := rec.result(t, "h1", "write config", PhaseTask); r.Status != StatusChanged {
		t.Errorf("write config is %s, want changed", r.Status)
	}
	if r := rec.result(t, "h1", "write config", PhaseRecheck); r.Status != StatusFailed || r.Error != "verification: reverts at boot" {
		t.Errorf("recheck %s %q, want failed with the module's message", r.Status, r.Error)
	}
	if !reflect.DeepEqual(sum.Failed, []string{"h1"}) {
		t.Errorf("failed hosts %v, want [h1]", sum.Failed)
	}
}

// handlersPlay notifies "restart c" (one), "restart b" from a task that
// changes nothing (two), then "restart a" and "restart c" again (three).
const handlersPlay = `
- hosts: all
  name: handlers
  handlers:
    - name: restart a
      command: restart-a
    - name: restart b
      command: restart-b
    - name: restart c
      command: restart-c
  tasks:
    - name: one
      memfile: {path: /etc/one, content: "1"}
      notify: restart c
    - name: two
      memfile: {path: /etc/two, content: "2"}
      notify: restart b
    - name: three
      memfile: {path: /etc/three, content: "3"}
      notify: [restart a, restart c]
`

// markers lists the pending-handler markers on h.
func markers(h *memhost.Host) []string {
	var out []string
	for _, p := range h.Paths() {
		if strings.HasPrefix(p, DefaultStateDir+"/") {
			out = append(out, p)
		}
	}
	return out
}

// restarts answers restart-* on h and records, per restart, how many
// pending markers the host held when it ran.
func restarts(h *memhost.Host) *[]string {
	var log []string
	var mu sync.Mutex
	h.Handle(func(argv []string) bool { return strings.HasPrefix(argv[0], "restart-") },
		func(_ context.Context, h *memhost.Host, c transport.Command) (transport.Result, error) {
			mu.Lock()
			defer mu.Unlock()
			log = append(log, fmt.Sprintf("%s (%d pending)", c.Argv[0], len(markers(h))))
			return memhost.OK(""), nil
		})
	return &log
}

// TestEngineHandlers: notified handlers run once each, in the order they
// are defined, after the tasks; a handler nobody notified (or only a task
// that changed nothing) does not run. Each notification is recorded on the
// host before its handler runs and cleared after; a marker left by an
// interrupted run makes the next run run that handler.
func TestEngineHandlers(t *testing.T) {
	t.Run("notified", func(t *testing.T) {
		f := newFleet("h1")
		h := f.hosts["h1"]
		h.SetFile("/etc/two", []byte("2"))
		log := restarts(h)
		sum, _ := runOn(t, f, handlersPlay, Options{})
		want := []string{"restart-a (2 pending)", "restart-c (1 pending)"}
		if !reflect.DeepEqual(*log, want) {
			t.Errorf("handlers ran %q, want %q", *log, want)
		}
		if n := h.Ran(memhost.Script(markPendingScript)); n != 2 {
			t.Errorf("%d pending markers written, want 2 (restart c, restart a)", n)
		}
		if m := markers(h); len(m) > 0 {
			t.Errorf("markers left after the handlers ran: %q", m)
		}
		if len(sum.Failed) > 0 {
			t.Errorf("failed: %v", sum.Failed)
		}
	})
	t.Run("pending from an interrupted run", func(t *testing.T) {
		f := newFleet("h1")
		h := f.hosts["h1"]
		for p, c := range map[string]string{"/etc/one": "1", "/etc/two": "2", "/etc/three": "3"} {
			h.SetFile(p, []byte(c)) // nothing to change this time
		}
		h.SetFile(DefaultStateDir+"/"+markerID(t, handlersPlay, "restart b"), []byte("left by a run that died\n"))
		log := restarts(h)
		_, rec := runOn(t, f, handlersPlay, Options{})
		if want := []string{"restart-b (1 pending)"}; !reflect.DeepEqual(*log, want) {
			t.Errorf("handlers ran %q, want %q", *log, want)
		}
		if m := markers(h); len(m) > 0 {
			t.Errorf("markers left after the handler ran: %q", m)
		}
		if w := rec.warnings("h1", "pending handlers"); len(w) != 1 || !strings.Contains(w[0], "restart b will run") {
			t.Errorf("warning %q, want it to say restart b will run", w)
		}
	})
}

// markerID is the name of the pending marker of topic in src's first play.
func markerID(t *testing.T, src, topic string) string {
	t.Helper()
	registerMemfile()
	pb, err := playbook.Parse("play.yml", []byte(src), playbook.ParseOptions{Modules: modules.Names()})
	if err != nil {
		t.Fatal(err)
	}
	return (&hostPlay{r: &run{pb: pb}, play: pb.Plays[0]}).pendingID(topic)
}

// TestEngineApproveVeto: an approver (a saved plan's check) sees each
// change before it is made; a refusal fails the task with its reason,
// writes nothing of it, and stops the host; approved hosts go on.
func TestEngineApproveVeto(t *testing.T) {
	const src = `
- hosts: all
  tasks:
    - name: zero
      memfile: {path: /etc/zero, content: "0"}
    - name: one
      memfile: {path: /etc/one, content: "1"}
    - name: two
      memfile: {path: /etc/two, content: "2"}
    - name: three
      memfile: {path: /etc/three, content: "3"}
`
	f := newFleet("h1", "h2")
	f.handle(memhost.Argv("cat", "/etc/zero"), func(context.Context, *memhost.Host, transport.Command) (transport.Result, error) {
		return memhost.OK("0"), nil // already as wanted: nothing to approve
	})
	var mu sync.Mutex
	var asked []string
	approve := func(_ context.Context, host, play, task string, _ transport.Conn, c plan.Change) error {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, host+"/"+task+": "+c.Summary)
		if host == "h1" && task == "two" {
			return errors.New("plan is stale")
		}
		return nil
	}
	sum, rec := runOn(t, f, src, Options{Approve: approve})

	slices.Sort(asked)
	want := []string{
		"h1/one: /etc/one: content differs", "h1/two: /etc/two: content differs",
		"h2/one: /etc/one: content differs", "h2/three: /etc/three: content differs", "h2/two: /etc/two: content differs",
	}
	if !reflect.DeepEqual(asked, want) {
		t.Errorf("approver asked\n%q\nwant\n%q", asked, want)
	}
	if r := rec.result(t, "h1", "two", PhaseTask); r.Status != StatusFailed || r.Error != "not applied: plan is stale" {
		t.Errorf("h1: vetoed task %s %q, want failed with the veto's reason", r.Status, r.Error)
	}
	h1 := f.hosts["h1"]
	if _, ok := h1.File("/etc/two"); ok || h1.Ran(memhost.Argv("tee", "/etc/two")) > 0 {
		t.Errorf("h1: the vetoed change was written")
	}
	if rec.ran("h1", "three") {
		t.Errorf("h1: a task ran after the veto")
	}
	if b, _ := h1.File("/etc/one"); !bytes.Equal(b, []byte("1")) {
		t.Errorf("h1: approved /etc/one = %q, want written", b)
	}
	if b, _ := f.hosts["h2"].File("/etc/three"); !bytes.Equal(b, []byte("3")) {
		t.Errorf("h2: /etc/three = %q, want written", b)
	}
	if !reflect.DeepEqual(sum.Failed, []string{"h1"}) {
		t.Errorf("failed hosts %v, want [h1]", sum.Failed)
	}
}
