package runner

import (
	"context"
	"sync"
	"testing"

	"tend/internal/memhost"
	"tend/runner/transport"
)

// openCounter answers "work" on every host of f, noting how many of f's
// hosts hold an open connection at that moment (connected, not closed).
type openCounter struct {
	f   *fleet
	mu  sync.Mutex
	max int
	// closedAt records, per host that ran "work", which other hosts were
	// closed when it ran.
	closedAt map[string]map[string]bool
}

func countOpen(f *fleet) *openCounter {
	c := &openCounter{f: f, closedAt: map[string]map[string]bool{}}
	for name, h := range f.hosts {
		h.Handle(memhost.Argv("work"), func(context.Context, *memhost.Host, transport.Command) (transport.Result, error) {
			c.note(name)
			return memhost.OK("ok\n"), nil
		})
	}
	return c
}

func (c *openCounter) note(running string) {
	c.f.mu.Lock()
	connected := map[string]bool{}
	for _, n := range c.f.connects {
		connected[n] = true
	}
	c.f.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	open, closed := 0, map[string]bool{}
	for n := range connected {
		if c.f.hosts[n].Closed() {
			closed[n] = true
		} else {
			open++
		}
	}
	c.max = max(c.max, open)
	c.closedAt[running] = closed
}

// workPlays is a playbook of n plays, each running "work" on hosts.
func workPlays(hosts ...string) string {
	src := ""
	for _, h := range hosts {
		src += "- hosts: " + h + "\n  gather_facts: false\n  tasks:\n    - command: work\n"
	}
	return src
}

// runClean runs src on f with opts and fails the test unless every host succeeded.
func runClean(t *testing.T, f *fleet, src string, opts Options) *recorder {
	t.Helper()
	sum, rec := runOn(t, f, src, opts)
	if len(sum.Failed)+len(sum.Unreachable) > 0 {
		t.Fatalf("failed %v unreachable %v", sum.Failed, sum.Unreachable)
	}
	return rec
}

// TestEngineConnectionsBoundedByForks: a host's connection closes once it
// has finished the last play that selects it, before its fork slot goes to
// the next host, so a run holds at most --forks connections, not one per
// host of the inventory (the memory of a 1,000-host run).
func TestEngineConnectionsBoundedByForks(t *testing.T) {
	f := newFleet("h1", "h2", "h3", "h4", "h5")
	c := countOpen(f)
	runClean(t, f, workPlays("all"), Options{Forks: 2})
	if c.max > 2 {
		t.Errorf("%d connections open at once with --forks 2, want at most 2", c.max)
	}
	for _, h := range f.hosts {
		if !h.Closed() {
			t.Errorf("%s: connection still open after the run", h.Name())
		}
	}
}

// TestEngineConnectionKeptForLaterPlay: a host a later play selects keeps
// its connection (one connect for the run); a host no later play selects
// is closed before that play runs.
func TestEngineConnectionKeptForLaterPlay(t *testing.T) {
	f := newFleet("keep", "done")
	c := countOpen(f)
	runClean(t, f, workPlays("all", "keep"), Options{Forks: 5})
	connects := map[string]int{}
	for _, n := range f.connects {
		connects[n]++
	}
	if connects["keep"] != 1 || connects["done"] != 1 {
		t.Errorf("connects %v, want one each (keep's kept for the second play)", connects)
	}
	// keep's "work" of the second play ran last: done was closed by then.
	if !c.closedAt["keep"]["done"] {
		t.Errorf("when keep ran in the second play, closed hosts were %v: want done closed", c.closedAt["keep"])
	}
	if c.closedAt["keep"]["keep"] {
		t.Error("keep's own connection was closed between its plays")
	}
}

// TestEngineIdleConnectionsCapped: between plays at most --forks finished
// hosts keep their connections; the others reconnect when the next play
// reaches them, and every host still runs both plays.
func TestEngineIdleConnectionsCapped(t *testing.T) {
	f := newFleet("h1", "h2", "h3", "h4", "h5")
	c := countOpen(f)
	rec := runClean(t, f, workPlays("all", "all"), Options{Forks: 2})
	if c.max > 4 {
		t.Errorf("%d connections open at once with --forks 2, want at most 2 working and 2 kept", c.max)
	}
	if len(f.connects) != 5+3 {
		t.Errorf("%d connects, want 8: 5 for the first play, 3 again for the second (2 kept)", len(f.connects))
	}
	for _, n := range f.names {
		got := 0
		for _, r := range rec.results {
			if r.Host == n && r.Task == "command" && r.Status == StatusChanged {
				got++
			}
		}
		if got != 2 {
			t.Errorf("%s: %d command results, want one per play", n, got)
		}
	}
}

// TestEngineIdleKeptOnlyWhereTheNextPlayStarts: a finished host keeps its
// connection only when the next play starts with it (its first batch, within
// --forks); with serial: 2 that is h1 and h2, and h3-h5 reconnect when their
// batches come, however many --forks would allow to stay idle.
func TestEngineIdleKeptOnlyWhereTheNextPlayStarts(t *testing.T) {
	f := newFleet("h1", "h2", "h3", "h4", "h5")
	countOpen(f)
	src := workPlays("all") + "- hosts: all\n  gather_facts: false\n  serial: 2\n  tasks:\n    - command: work\n"
	runClean(t, f, src, Options{Forks: 5})
	again := map[string]int{}
	for _, n := range f.connects[len(f.names):] {
		again[n]++
	}
	want := map[string]int{"h3": 1, "h4": 1, "h5": 1}
	if len(again) != len(want) || again["h3"] != 1 || again["h4"] != 1 || again["h5"] != 1 {
		t.Errorf("reconnected for the second play: %v, want %v (h1 and h2 start it: kept)", again, want)
	}
}
