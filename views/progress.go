package views

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"tend/runner"
)

// clearLine returns the cursor to the start of the line and erases it.
const clearLine = "\r\x1b[K"

// progressWidth bounds the progress line, so that it never wraps (clearing
// it clears one line).
const progressWidth = 79

// progress is the state behind the live progress line of a terminal:
// hosts done of the current play's total, hosts running and the task that
// started last, and hosts failed so far.
type progress struct {
	play           string
	batch, batches int
	total, done    int
	running        map[string]bool // started, not done
	task           string          // the task started last
	failed         map[string]bool // failed or unreachable, over the run
	// waiting holds each host's latest Progress, until its task ends.
	waiting map[string]runner.Progress
	shown   bool // the line is on screen
	ended   bool // RunDone: never draw again
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

// Warning prints a warning about a host's run in the output, as a line
// of its own; a warning without a host (a connection's: known_hosts,
// ssh_config) goes to Stderr, around the progress line. It is safe to call
// from any goroutine.
func (h *Human) Warning(w runner.Warning) {
	if w.Host != "" {
		task := ""
		if w.Task != "" {
			task = w.Task + ": "
		}
		h.write(fmt.Sprintf("%-12s [%s] %s%s\n", "warning", w.Host, task, w.Msg))
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.Stderr == nil {
		return
	}
	h.clearProgress()
	fmt.Fprintln(h.Stderr, "tend: warning:", w.Msg)
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
	if !h.Live || h.Stderr == nil || p.ended || p.total == 0 {
		return
	}
	if len(p.waiting) > 0 {
		io.WriteString(h.Stderr, clearLine+p.waitingLine(progressWidth))
		p.shown = true
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d hosts done, %d failed", p.done, p.total, len(p.failed))
	if len(p.running) > 0 {
		fmt.Fprintf(&b, ", %d running", len(p.running))
	}
	if p.batches > 1 {
		fmt.Fprintf(&b, " — batch %d/%d", p.batch, p.batches)
	}
	if p.play != "" {
		fmt.Fprintf(&b, " — %s", clip(p.play, 30))
	}
	if p.task != "" && len(p.running) > 0 {
		fmt.Fprintf(&b, ": %s", clip(p.task, 30))
	}
	io.WriteString(h.Stderr, clearLine+clip(b.String(), progressWidth))
	p.shown = true
}

// waitingLine is the progress line while hosts wait: the counts, short,
// then what each waiting host waits for and for how long, in host order,
// as many as fit in width; the others counted:
// "1/3 done — lab1: waiting for :61616 greeting, 7s; lab2: … (+1 waiting)".
func (p *progress) waitingLine(width int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d done", p.done, p.total)
	if len(p.failed) > 0 {
		fmt.Fprintf(&b, ", %d failed", len(p.failed))
	}
	b.WriteString(" — ")
	hosts := make([]string, 0, len(p.waiting))
	for n := range p.waiting {
		hosts = append(hosts, n)
	}
	slices.Sort(hosts)
	for i, n := range hosts {
		e := p.waiting[n]
		tail := ", " + e.Elapsed.Truncate(time.Second).String()
		entry := n + ": " + e.Msg + tail
		if i == 0 {
			// The first always shows: its message is cut, not its time.
			room := width - len([]rune(b.String())) - len([]rune(n+": "+tail))
			b.WriteString(n + ": " + clip(e.Msg, max(room, 8)) + tail)
			continue
		}
		more := ""
		if left := len(hosts) - i - 1; left > 0 {
			more = fmt.Sprintf(" (+%d waiting)", left)
		}
		if len([]rune(b.String()+"; "+entry+more)) > width {
			fmt.Fprintf(&b, " (+%d waiting)", len(hosts)-i)
			break
		}
		b.WriteString("; " + entry)
	}
	return clip(b.String(), width)
}

// Progress shows, on a terminal, what the host's task waits for and for
// how long in the progress line, until the task ends.
func (h *Human) Progress(e runner.Progress) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.prog.waiting == nil {
		h.prog.waiting = map[string]runner.Progress{}
	}
	h.prog.waiting[e.Host] = e
	h.drawProgress()
}

// doneWaiting forgets what host waited for: its task ended.
func (h *Human) doneWaiting(host string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.prog.waiting, host)
}

// clip shortens s to n runes, marking the cut with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(append(r[:n-1], '…'))
}

// playStarted resets the counts for a new play. Hosts that failed in an
// earlier play do not run this one: they count as done.
func (h *Human) playStarted(e runner.PlayStart) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := &h.prog
	p.play, p.batch, p.batches, p.total, p.done, p.running, p.task = e.Name, 0, 0, len(e.Hosts), 0, nil, ""
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

// HostStarted counts the host as running in the progress line.
func (h *Human) HostStarted(e runner.HostStart) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := &h.prog
	if p.running == nil {
		p.running = map[string]bool{}
	}
	p.running[e.Host] = true
	h.drawProgress()
}

// TaskStarted shows the task in the progress line.
func (h *Human) TaskStarted(e runner.TaskStart) {
	h.mu.Lock()
	defer h.mu.Unlock()
	name := e.Task
	if e.Phase != "" && e.Phase != runner.PhaseTask {
		name = string(e.Phase) + ": " + name
	}
	h.prog.task = name
	h.drawProgress()
}

// HostDone prints what the play's rollback: did on the host, if anything,
// and counts the host in the progress line.
func (h *Human) HostDone(e runner.HostDone) {
	if e.Rollback != nil {
		h.write(rollbackLines(e.Host, e.Rollback)) // rollback.go
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	p := &h.prog
	p.done++
	delete(p.running, e.Host)
	delete(p.waiting, e.Host)
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
	}{{"FAILED", s.Failed}, {"BUDGET SPENT (not changed again)", s.BudgetSpent}, {"UNREACHABLE", s.Unreachable}, {"HOST KEY UNKNOWN", s.HostKeyUnknown}, {"STOPPED", s.Stopped}} {
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
