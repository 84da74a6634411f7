package views

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"tend/runner"
)

// Options are what a view may need from the command line. A view uses
// the fields that apply to it and ignores the others.
type Options struct {
	// Stdout receives the view's output.
	Stdout io.Writer
	// Stderr receives what is not the run's output: the text view's
	// warnings without a host and its live progress line.
	Stderr io.Writer
	// ShowDiff shows file diffs and live value changes when applying too
	// (a dry run always shows them).
	ShowDiff bool
	// Verbose shows the output of every command, not only of failures.
	Verbose bool
	// Progress draws live progress on Stderr; set it only when Stderr is a
	// terminal.
	Progress bool
}

// format is one output format: its name, what it is (for the flag's
// help), and its constructor. A new format is a file with its view and
// one line in formats.
type format struct {
	name, help string
	build      func(Options) runner.Observer
}

// formats lists the formats in the order the help gives them; the first
// is the default.
var formats = []format{
	{"text", "human text, live progress on a terminal", newText},
	{"json", "JSON lines, one event per line", func(o Options) runner.Observer { return NewJSONLines(o.Stdout) }},
	{"markdown", "a change-review document, written at the end", func(o Options) runner.Observer { return NewMarkdown(o.Stdout) }},
}

// Formats returns the names of the formats New knows, the default first.
func Formats() []string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.name
	}
	return names
}

// FormatHelp describes the formats for a flag's help: "text (…), json
// (…) or markdown (…)".
func FormatHelp() string {
	parts := make([]string, len(formats))
	for i, f := range formats {
		parts[i] = fmt.Sprintf("%s (%s)", f.name, f.help)
	}
	return orList(parts)
}

// orList joins "a", "b", "c" as "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// New returns the view of the named format, wrapped so that it is safe to
// call from any goroutine and that warnings given before the run starts
// (connection setup warns early) come after RunStarted, which names the
// event schema and so always comes first.
func New(name string, o Options) (*View, error) {
	for _, f := range formats {
		if f.name == name {
			return &View{v: f.build(o)}, nil
		}
	}
	return nil, CheckFormat(name)
}

// CheckFormat says whether name is a format New knows, without building a
// view: nil, or an error listing the formats.
func CheckFormat(name string) error {
	for _, f := range formats {
		if f.name == name {
			return nil
		}
	}
	return fmt.Errorf("views: unknown format %q (want %s)", name, orList(Formats()))
}

func newText(o Options) runner.Observer {
	h := NewHuman(o.Stdout, o.ShowDiff)
	h.Verbose, h.Stderr, h.Live = o.Verbose, o.Stderr, o.Progress
	return h
}

// View is a view built by New: every event passes through one lock to the
// format's observer.
type View struct {
	mu      sync.Mutex
	v       runner.Observer
	started bool
	held    []runner.Warning // warnings before RunStarted
}

var _ runner.Observer = (*View)(nil)

// Unshown returns the warnings given before a run that never started (bad
// input), which no view showed; the caller prints them with the error.
func (v *View) Unshown() []runner.Warning {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.started {
		return nil
	}
	return append([]runner.Warning(nil), v.held...)
}

func (v *View) call(f func(runner.Observer)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	f(v.v)
}

// RunStarted passes the event on, then the warnings held until it.
func (v *View) RunStarted(e runner.RunStart) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.started = true
	v.v.RunStarted(e)
	for _, w := range v.held {
		v.v.Warning(w)
	}
	v.held = nil
}

// Warning passes the event on, or holds it until RunStarted.
func (v *View) Warning(e runner.Warning) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.started {
		v.held = append(v.held, e)
		return
	}
	v.v.Warning(e)
}

// PlayStarted passes the event on.
func (v *View) PlayStarted(e runner.PlayStart) { v.call(func(o runner.Observer) { o.PlayStarted(e) }) }

// BatchStarted passes the event on.
func (v *View) BatchStarted(e runner.BatchStart) {
	v.call(func(o runner.Observer) { o.BatchStarted(e) })
}

// HostStarted passes the event on.
func (v *View) HostStarted(e runner.HostStart) { v.call(func(o runner.Observer) { o.HostStarted(e) }) }

// TaskStarted passes the event on.
func (v *View) TaskStarted(e runner.TaskStart) { v.call(func(o runner.Observer) { o.TaskStarted(e) }) }

// Progress passes the event on.
func (v *View) Progress(e runner.Progress) { v.call(func(o runner.Observer) { o.Progress(e) }) }

// TaskDone passes the event on.
func (v *View) TaskDone(e runner.TaskResult) { v.call(func(o runner.Observer) { o.TaskDone(e) }) }

// HostStopped passes the event on.
func (v *View) HostStopped(e runner.HostStop) { v.call(func(o runner.Observer) { o.HostStopped(e) }) }

// HostDone passes the event on.
func (v *View) HostDone(e runner.HostDone) { v.call(func(o runner.Observer) { o.HostDone(e) }) }

// RunDone passes the event on.
func (v *View) RunDone(e runner.Summary) { v.call(func(o runner.Observer) { o.RunDone(e) }) }
