package views

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"sync"

	"tend/runner"
	"tend/runner/plan"
)

// Human renders events as text: one line per task per host, details
// indented below it, and a recap per host at the end.
type Human struct {
	w io.Writer
	// ShowDiff prints file diffs and live value changes (always in check mode).
	ShowDiff bool
	// Verbose prints the output of every command, not only of failures.
	Verbose bool
	// Stderr receives the warnings without a host (connections') and, when
	// Live is set, the live progress line (see progress.go). Nil: neither
	// is written.
	Stderr io.Writer
	// Live shows live progress on Stderr; set it only when Stderr is a
	// terminal.
	Live  bool
	check bool
	// noted holds "host\x00key" of the unsupported keys already shown for
	// a host: their note is shown once per host and run, not again on the
	// recheck or in a later play.
	noted map[string]bool

	mu   sync.Mutex // Warning may come from any goroutine
	prog progress
}

var _ runner.Observer = (*Human)(nil)

// NewHuman returns a human view writing to w.
func NewHuman(w io.Writer, showDiff bool) *Human { return &Human{w: w, ShowDiff: showDiff} }

// RunStarted prints the mode.
func (h *Human) RunStarted(e runner.RunStart) {
	h.check = e.Check
	if e.Check {
		h.ShowDiff = true
		h.write(fmt.Sprintf("CHECK MODE (dry run): nothing will be changed — %s\n", e.Playbook))
	}
}

// PlayStarted prints the play header and its hosts.
func (h *Human) PlayStarted(e runner.PlayStart) {
	hosts := strings.Join(e.Hosts, ", ")
	if hosts == "" {
		hosts = "(no hosts matched)"
	}
	h.playStarted(e)
	h.write(fmt.Sprintf("\nPLAY [%s] on %s\n", cmp.Or(e.Name, "unnamed"), hosts))
}

// TaskDone prints one line for the task on the host, then its details.
func (h *Human) TaskDone(e runner.TaskResult) {
	h.doneWaiting(e.Host)
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s [%s] %s", resultLabel(e), e.Host, phaseName(e))
	s := summary(e)
	if s != "" {
		fmt.Fprintf(&b, " — %s", s)
	}
	if e.Reason != "" && !(s != "" && e.Change.Action == plan.Run) { // "would run: X" says it already
		fmt.Fprintf(&b, " (%s)", e.Reason)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (attempts: %d)", e.Attempts)
	}
	if n := budgetNote(e); n != "" {
		fmt.Fprintf(&b, " (%s)", n)
	}
	b.WriteByte('\n')
	indent := "    "
	if e.Error != "" {
		writeIndented(&b, indent, e.Error)
	}
	if e.Status == runner.StatusFailed || h.Verbose {
		for _, k := range []string{"stdout", "stderr"} {
			if s, _ := e.Change.Data[k].(string); s != "" && !strings.Contains(e.Error, s) {
				writeIndented(&b, indent+k+": ", s)
			}
		}
	}
	writeChangeDetails(&b, indent, e.Change, h.ShowDiff, h.firstNote(e.Host))
	h.write(b.String())
}

// resultLabel is the outcome word of a task line: "would change" for a
// dry run's change, and why a host was refused for its key rather than
// just "unreachable".
func resultLabel(e runner.TaskResult) string {
	switch {
	case e.Ignored && e.Status == runner.StatusUnreachable:
		return "unreachable (ignored)" // ignore_unreachable
	case e.Ignored:
		return "failed (ignored)"
	case e.Rescued:
		return "failed (rescued)"
	case e.Budget != nil && e.Budget.Spent:
		return "budget spent"
	case e.Budget != nil && e.Budget.Relapse:
		return "RELAPSE"
	case e.Status == runner.StatusChanged && e.DryRun:
		return "would change"
	case e.HostKey == runner.HostKeyMismatch:
		return "HOST KEY MISMATCH"
	case e.HostKey == runner.HostKeyUnknown:
		return "host key unknown"
	}
	return string(e.Status)
}

// phaseName is the task's name, prefixed by its phase outside tasks:,
// then "on HOST (delegated)" for a delegate_to task, followed by
// "=> (item=label)" for one item of a loop, as Ansible shows it.
func phaseName(e runner.TaskResult) string {
	name := e.Task
	if e.Phase != "" && e.Phase != runner.PhaseTask {
		name = string(e.Phase) + ": " + e.Task
	}
	if e.Delegate != "" {
		name += " on " + e.Delegate + " (delegated)" // delegate_to: where it ran
	}
	if e.Item != "" {
		name += " => (item=" + e.Item + ")"
	}
	return name
}

// summary is what a result line says after its name: the change's
// summary, or for a loop task how its items ended.
func summary(e runner.TaskResult) string {
	if l := e.Loop; l != nil {
		parts := []string{fmt.Sprintf("%d items", l.Items)}
		for _, c := range []struct {
			n    int
			word string
		}{{l.Changed, "changed"}, {l.OK, "ok"}, {l.Failed, "failed"}, {l.Skipped, "skipped"}} {
			if c.n > 0 {
				if c.word == "changed" && e.DryRun {
					c.word = "would change"
				}
				parts = append(parts, fmt.Sprintf("%d %s", c.n, c.word))
			}
		}
		return "loop: " + strings.Join(parts, ", ")
	}
	// A skipped task says nothing of what it would have done, except a
	// dry run's "would run": the reviewer reads what would be sent.
	if e.Change.Summary != "" && (e.Status != runner.StatusSkipped || e.Change.Action == plan.Run) {
		return e.Change.Summary
	}
	return ""
}

// firstNote returns a filter that is true for an unsupported key the
// first time it is shown for host.
func (h *Human) firstNote(host string) func(key string) bool {
	return func(key string) bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		k := host + "\x00" + key
		if h.noted[k] {
			return false
		}
		if h.noted == nil {
			h.noted = map[string]bool{}
		}
		h.noted[k] = true
		return true
	}
}

// writeChangeDetails renders values, warnings and diffs of a change; an
// unsupported key is shown when first says it was not shown before.
func writeChangeDetails(b *strings.Builder, indent string, c plan.Change, showDiff bool, first func(key string) bool) {
	for _, v := range c.Values {
		switch v.Status {
		case plan.ValueUnsupported:
			if first(v.Key) {
				fmt.Fprintf(b, "%sunsupported: %s — not written (%s)\n", indent, v.Key, v.Note)
			}
		case plan.ValueFailed:
			fmt.Fprintf(b, "%sFAILED: %s is %q, want %q %s\n", indent, v.Key, v.Before, v.After, v.Note)
		case plan.ValueChanged:
			if showDiff && v.Before != v.After { // equal: only the file changes, the diff shows it
				fmt.Fprintf(b, "%s%s: %s → %s\n", indent, v.Key, v.Before, v.After)
			}
		}
	}
	for _, w := range c.Warnings {
		fmt.Fprintf(b, "%swarning: %s\n", indent, w)
	}
	for _, f := range c.Files {
		if f.Backup != "" {
			fmt.Fprintf(b, "%sbackup: %s\n", indent, f.Backup)
		}
		if f.InPlace {
			fmt.Fprintf(b, "%snote: %s is a mount point; rewritten in place (same inode)\n", indent, f.Path)
		}
		if showDiff && f.Diff != "" {
			writeIndented(b, indent, strings.TrimRight(f.Diff, "\n"))
		}
	}
}

func writeIndented(b *strings.Builder, prefix, text string) {
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString(prefix)
		b.WriteString(line)
		b.WriteByte('\n')
	}
}

// RunDone prints the recap.
func (h *Human) RunDone(s runner.Summary) {
	h.endProgress()
	var b strings.Builder
	b.WriteString("\nRECAP\n")
	width := 4
	for _, r := range s.Hosts {
		width = max(width, len(r.Host))
	}
	for _, r := range s.Hosts {
		changedLabel := "changed"
		if h.check {
			changedLabel = "would_change"
		}
		fmt.Fprintf(&b, "%-*s  ok=%d %s=%d failed=%d skipped=%d unreachable=%d ignored=%d",
			width, r.Host, r.OK, changedLabel, r.Changed, r.Failed, r.Skipped, r.Unreachable, r.Ignored)
		if r.Rescued > 0 { // only where a block rescued a failure: recaps without blocks stay as they were
			fmt.Fprintf(&b, " rescued=%d", r.Rescued)
		}
		if r.Relapsed > 0 { // only where a budgeted remedy relapsed
			fmt.Fprintf(&b, " relapsed=%d", r.Relapsed)
		}
		b.WriteByte('\n')
	}
	writeOutcomes(&b, s)
	if len(s.Failed)+len(s.Unreachable)+len(s.HostKeyMismatch)+len(s.HostKeyUnknown)+len(s.Stopped) > 0 {
		for _, r := range s.Hosts {
			if when := appliedBefore(r); len(r.Applied) > 0 && when != "" {
				fmt.Fprintf(&b, "%s: applied before %s:\n", r.Host, when)
				for _, a := range r.Applied {
					fmt.Fprintf(&b, "    %s\n", a)
				}
			}
			if len(r.RolledBack) > 0 {
				fmt.Fprintf(&b, "%s: rollback after the failure:\n", r.Host)
				for _, a := range r.RolledBack {
					fmt.Fprintf(&b, "    %s\n", a)
				}
			}
		}
	}
	for _, n := range s.HostKeyMismatch {
		fmt.Fprintf(&b, "HOST KEY MISMATCH: %s (refused; see above)\n", n)
	}
	h.write(b.String())
}

// appliedBefore names the event that ended a host's run, for the list of
// what it had applied: "the failure" (a task, a handler or the
// verification after the change), "it became unreachable", "the run
// stopped it"; "" for a host that finished.
func appliedBefore(r runner.HostRecap) string {
	switch {
	case r.Failed > 0:
		return "the failure"
	case r.Unreachable > 0:
		return "it became unreachable"
	case r.Stopped:
		return "the run stopped it"
	}
	return ""
}

// budgetNote is what a task line adds about its budget: the relapse or
// how much is used (a spent budget is the task's error, shown already).
func budgetNote(e runner.TaskResult) string {
	if e.Budget == nil || e.Budget.Spent {
		return ""
	}
	return e.Budget.Note
}
