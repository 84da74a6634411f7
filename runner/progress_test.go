package runner

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand: Advance runs the timers that
// come due, in order, on the test's goroutine.
type fakeClock struct {
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// Advance moves the time on by d, firing each timer due on the way.
func (c *fakeClock) Advance(d time.Duration) {
	end := c.now.Add(d)
	for {
		i := slices.IndexFunc(c.timers, func(t *fakeTimer) bool { return !t.stopped && !t.at.After(end) })
		if i < 0 {
			break
		}
		for j, t := range c.timers { // the earliest due first
			if !t.stopped && t.at.Before(c.timers[i].at) {
				i = j
			}
		}
		t := c.timers[i]
		t.stopped = true
		c.now = t.at
		t.f()
	}
	c.now = end
}

// TestTaskProgressPacing drives the pacing of one task's reports with a
// fake clock: reports come whenever the module has news (here several a
// second), events at most once a second, the first a second into the wait,
// each with the latest message and the task's elapsed time; a wait that
// ends, or a task that ends, stops them; a wait shorter than a second
// says nothing.
func TestTaskProgressPacing(t *testing.T) {
	type step struct {
		advance time.Duration
		report  string // "-" reports nothing; "" reports the end of a wait
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range []struct {
		name  string
		steps []step
		stop  time.Duration // when the task ends (after the steps)
		want  []string      // "elapsed msg"
	}{
		{"short wait says nothing", []step{{0, "restarting mq"}, {ms(900), ""}}, ms(2000), nil},
		{"a beat a second with the latest message",
			[]step{{ms(300), "restarting mq"}, {ms(400), "waiting for :61616 greeting"}, {ms(100), "waiting for :61616 greeting (nothing listens)"},
				{ms(300), "-"}, {ms(200), "waiting for :61616 greeting (accepts, no greeting yet)"}, {ms(100), "waiting for :61616 greeting (accepts, no greeting yet)"},
				{ms(1500), "-"}},
			ms(100), // the task ends at 3s
			[]string{"1.3s waiting for :61616 greeting (nothing listens)", "2.3s waiting for :61616 greeting (accepts, no greeting yet)"}},
		{"many reports, one event a second",
			func() []step {
				var s []step
				for i := 0; i < 30; i++ {
					s = append(s, step{ms(100), fmt.Sprintf("probe %d", i)})
				}
				return s
			}(), ms(500),
			[]string{"1.1s probe 9", "2.1s probe 19", "3.1s probe 29"}},
		{"a new wait after an end waits a second again",
			// first: its beat at 1s; second reported at 1.3s: its first
			// beat at 2.3s, then one a second until the task ends at 7.4s.
			[]step{{0, "first"}, {ms(1000), "-"}, {ms(200), ""}, {ms(100), "second"}, {ms(500), "-"}, {ms(600), "-"}},
			ms(5000), []string{"1s first", "2.3s second", "3.3s second", "4.3s second", "5.3s second", "6.3s second", "7.3s second"}},
		{"nothing after the task ended", []step{{0, "waiting"}, {ms(1500), "-"}}, 0, []string{"1s waiting"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{now: time.Unix(1000, 0)}
			var got []string
			var last time.Time
			p := newTaskProgress(clk, func(e Progress) {
				if !last.IsZero() && clk.Now().Sub(last) < time.Second {
					t.Errorf("two events %s apart", clk.Now().Sub(last))
				}
				last = clk.Now()
				if e.Host != "lab1" || e.Play != "p" || e.Task != "restart" {
					t.Errorf("event context %+v", e)
				}
				got = append(got, fmt.Sprintf("%s %s", e.Elapsed, e.Msg))
			}, Progress{Host: "lab1", Play: "p", Task: "restart"}, clk.Now())
			for _, s := range tc.steps {
				clk.Advance(s.advance)
				if s.report != "-" {
					p.report(s.report)
				}
			}
			clk.Advance(tc.stop)
			p.stop()
			p.report("after the end")
			clk.Advance(10 * time.Second)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestTaskProgressStaleBeat: a beat whose timer fired just as the wait was
// ended and begun again (it ran late, after the cancel) emits nothing: one
// chain of beats, never two events within a second.
func TestTaskProgressStaleBeat(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1000, 0)}
	var got []time.Duration
	p := newTaskProgress(clk, func(e Progress) { got = append(got, e.Elapsed) }, Progress{Host: "h"}, clk.Now())
	p.report("one")
	stale := clk.timers[0].f
	clk.Advance(time.Second - time.Millisecond)
	p.report("") // cancels the beat; its timer already fired, say
	p.report("two")
	clk.Advance(time.Millisecond)
	stale() // the fired beat runs now, late
	clk.Advance(time.Second)
	if len(got) != 1 || got[0] != 2*time.Second-time.Millisecond {
		t.Errorf("events at %v, want one at 1.999s", got)
	}
}
