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
	// Stderr receives warnings (Warning) and, when Progress is set, the
	// live progress line (see progress.go). Nil: neither is written.
	Stderr io.Writer
	// Progress shows live progress on Stderr; set it only when Stderr is
	// a terminal.
	Progress bool
	check    bool

	mu   sync.Mutex // Warning may come from any goroutine
	prog progress
}

var (
	_ runner.Observer          = (*Human)(nil)
	_ runner.ExecutionObserver = (*Human)(nil)
)

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
	var b strings.Builder
	label := string(e.Status)
	if e.Status == runner.StatusChanged && e.DryRun {
		label = "would change"
	}
	if e.Ignored {
		label = "failed (ignored)"
	}
	name := e.Task
	if e.Phase != "" && e.Phase != runner.PhaseTask {
		name = string(e.Phase) + ": " + name
	}
	fmt.Fprintf(&b, "%-12s [%s] %s", label, e.Host, name)
	if e.Change.Summary != "" && e.Status != runner.StatusSkipped {
		fmt.Fprintf(&b, " — %s", e.Change.Summary)
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, " (%s)", e.Reason)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (attempts: %d)", e.Attempts)
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
	writeChangeDetails(&b, indent, e.Change, h.ShowDiff)
	h.write(b.String())
}

// writeChangeDetails renders values, warnings and diffs of a change.
func writeChangeDetails(b *strings.Builder, indent string, c plan.Change, showDiff bool) {
	for _, v := range c.Values {
		switch v.Status {
		case plan.ValueUnsupported:
			fmt.Fprintf(b, "%sunsupported: %s — not written (%s)\n", indent, v.Key, v.Note)
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
		fmt.Fprintf(&b, "%-*s  ok=%d %s=%d failed=%d skipped=%d unreachable=%d ignored=%d\n",
			width, r.Host, r.OK, changedLabel, r.Changed, r.Failed, r.Skipped, r.Unreachable, r.Ignored)
	}
	writeOutcomes(&b, s)
	if len(s.Failed)+len(s.Unreachable)+len(s.HostKeyMismatch)+len(s.HostKeyUnknown)+len(s.Stopped) > 0 {
		for _, r := range s.Hosts {
			if len(r.Applied) > 0 && (r.Failed > 0 || r.Unreachable > 0 || r.Stopped) {
				fmt.Fprintf(&b, "%s changed before it stopped:\n", r.Host)
				for _, a := range r.Applied {
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
