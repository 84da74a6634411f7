package runner

import (
	"sync"
	"time"
)

// Progress pacing. A module says what it waits for whenever that changes
// (modules.Reporter: a remote wait loop's state lines, as they arrive); the
// engine, not the views, turns that into Progress events, so every view and
// every consumer of the JSON lines gets the same promise: the first event a
// second into the wait (a wait shorter than that says nothing), then one a
// second per host while it waits, each with the latest message and the
// task's elapsed time, none after the task's TaskDone. The beat is the
// engine's own timer, so the elapsed time advances while a remote command
// stays silent, and no view needs a clock of its own.

// progressEvery is the pace of Progress events of one host.
const progressEvery = time.Second

// clock is the time source of the pacing: the real one in runs, a fake one
// in tests.
type clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d; stop cancels it.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// taskProgress paces the reports of one task on one host.
type taskProgress struct {
	clk   clock
	emit  func(Progress) // the observer's Progress
	base  Progress       // host, play, task
	start time.Time      // the task's start: Elapsed counts from it

	mu    sync.Mutex
	msg   string      // the latest report; "" when not waiting
	timer func() bool // the next beat's stop, nil when none is due
	// gen numbers the beats: a beat whose timer fired just as it was
	// cancelled finds a newer gen and does nothing (one beat chain only).
	gen  int
	done bool // the task ended: nothing more is emitted
}

// newTaskProgress returns the pacer of one task started at start.
func newTaskProgress(clk clock, emit func(Progress), base Progress, start time.Time) *taskProgress {
	return &taskProgress{clk: clk, emit: emit, base: base, start: start}
}

// report records what the task waits for ("" when it no longer waits); the
// next beat, a second after the first report, shows it. It never blocks on
// the observer and may be called from any goroutine.
func (p *taskProgress) report(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.msg = msg
	switch {
	case msg == "":
		p.cancel()
	case p.timer == nil:
		p.schedule()
	}
}

// schedule sets the next beat a second from now; the lock is held.
func (p *taskProgress) schedule() {
	p.gen++
	gen := p.gen
	p.timer = p.clk.AfterFunc(progressEvery, func() { p.beat(gen) })
}

// cancel drops the next beat; the lock is held.
func (p *taskProgress) cancel() {
	if p.timer != nil {
		p.timer()
		p.timer = nil
	}
	p.gen++
}

// beat emits the latest report and schedules the next beat a second on.
// Emitting under the lock keeps an event from following stop.
func (p *taskProgress) beat(gen int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.gen || p.done {
		return
	}
	e := p.base
	e.Msg, e.Elapsed = p.msg, p.clk.Now().Sub(p.start)
	p.emit(e)
	p.schedule()
}

// stop ends the pacing: called before the task's TaskDone.
func (p *taskProgress) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = true
	p.cancel()
}
