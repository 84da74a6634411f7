package views

import (
	"fmt"
	"io"
	"strings"

	"tend/runner"
)

// clearLine returns the cursor to the start of the line and erases it.
const clearLine = "\r\x1b[K"

// progress is the state behind the live progress line of a terminal:
// hosts done of the current play's total, and hosts failed so far.
type progress struct {
	play           string
	batch, batches int
	total, done    int
	failed         map[string]bool // failed or unreachable, over the run
	shown          bool            // the line is on screen
	ended          bool            // RunDone: never draw again
}

// write writes a block to the output: the progress line is cleared first
// and redrawn after, so it never ends up inside the line-based output.
func (h *Human) write(s string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clearProgress()
	io.WriteString(h.w, s)
	h.drawProgress()
}

// Warning prints a warning on Stderr, around the progress line. It is
// safe to call from any goroutine (connection warnings are).
func (h *Human) Warning(msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.Stderr == nil {
		return
	}
	h.clearProgress()
	fmt.Fprintln(h.Stderr, "tend: warning:", msg)
	h.drawProgress()
}

func (h *Human) clearProgress() {
	if h.prog.shown {
		io.WriteString(h.Stderr, clearLine)
		h.prog.shown = false
	}
}

func (h *Human) drawProgress() {
	p := &h.prog
	if !h.Progress || h.Stderr == nil || p.ended || p.total == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s%d/%d hosts done, %d failed", clearLine, p.done, p.total, len(p.failed))
	if p.batches > 1 {
		fmt.Fprintf(&b, " — batch %d/%d", p.batch, p.batches)
	}
	if play := []rune(p.play); len(play) > 0 {
		if len(play) > 30 { // one line, so that clearing it clears all of it
			play = append(play[:29], '…')
		}
		fmt.Fprintf(&b, " — %s", string(play))
	}
	io.WriteString(h.Stderr, b.String())
	p.shown = true
}

// playStarted resets the counts for a new play. Hosts that failed in an
// earlier play do not run this one: they count as done.
func (h *Human) playStarted(e runner.PlayStart) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := &h.prog
	p.play, p.batch, p.batches, p.total, p.done = e.Name, 0, 0, len(e.Hosts), 0
	for _, n := range e.Hosts {
		if p.failed[n] {
			p.done++
		}
	}
}

func (h *Human) endProgress() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clearProgress()
	h.prog.ended = true
}

// BatchStarted prints the batch header when the play has several batches.
func (h *Human) BatchStarted(e runner.BatchStart) {
	h.mu.Lock()
	h.prog.batch, h.prog.batches = e.Batch, e.Batches
	h.mu.Unlock()
	if e.Batches > 1 {
		h.write(fmt.Sprintf("BATCH %d/%d: %s\n", e.Batch, e.Batches, strings.Join(e.Hosts, ", ")))
	}
}

// HostStopped prints one line for a host the run stopped early.
func (h *Human) HostStopped(e runner.HostStop) {
	what := "before " + e.Task
	if e.Task == "" {
		what = "play " + e.Play
	}
	h.write(fmt.Sprintf("%-12s [%s] %s (%s)\n", "stopped", e.Host, what, e.Reason))
}

// HostDone counts the host in the progress line.
func (h *Human) HostDone(e runner.HostDone) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := &h.prog
	p.done++
	if e.Status == runner.StatusFailed || e.Status == runner.StatusUnreachable {
		if p.failed == nil {
			p.failed = map[string]bool{}
		}
		p.failed[e.Host] = true
	}
	h.drawProgress()
}

// writeOutcomes names, under the recap, the hosts that did not succeed,
// why the run stopped early, and the retry file.
func writeOutcomes(b *strings.Builder, s runner.Summary) {
	for _, l := range []struct {
		label string
		hosts []string
	}{{"FAILED", s.Failed}, {"UNREACHABLE", s.Unreachable}, {"HOST KEY UNKNOWN", s.HostKeyUnknown}, {"STOPPED", s.Stopped}} {
		if len(l.hosts) > 0 {
			fmt.Fprintf(b, "%s: %s\n", l.label, strings.Join(l.hosts, ", "))
		}
	}
	if s.Aborted != "" {
		fmt.Fprintf(b, "run stopped early: %s\n", s.Aborted)
	}
	switch {
	case s.RetryFileError != "":
		fmt.Fprintf(b, "could not write the retry file: %s\n", s.RetryFileError)
	case s.RetryFile != "" && len(s.RetryHosts()) > 0:
		fmt.Fprintf(b, "to retry these hosts: --limit @%s\n", s.RetryFile)
	}
}
