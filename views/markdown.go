package views

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"tend/runner"
	"tend/runner/plan"
)

// Markdown renders a run as a change-review document: per host, what
// changes (or would), with diffs in fenced blocks and live values in
// tables. It buffers events and writes once at the end, grouped by host,
// so parallel hosts read in order.
type Markdown struct {
	w       io.Writer
	start   runner.RunStart
	plays   []runner.PlayStart
	results map[string][]runner.TaskResult
}

var _ runner.Observer = (*Markdown)(nil)

// NewMarkdown returns a markdown view writing to w.
func NewMarkdown(w io.Writer) *Markdown {
	return &Markdown{w: w, results: map[string][]runner.TaskResult{}}
}

// RunStarted records the run's mode.
func (m *Markdown) RunStarted(e runner.RunStart) { m.start = e }

// PlayStarted records the play.
func (m *Markdown) PlayStarted(e runner.PlayStart) { m.plays = append(m.plays, e) }

// TaskDone records the result under its host.
func (m *Markdown) TaskDone(e runner.TaskResult) { m.results[e.Host] = append(m.results[e.Host], e) }

// RunDone writes the whole document.
func (m *Markdown) RunDone(s runner.Summary) {
	var b strings.Builder
	mode := "Applied"
	if m.start.Check {
		mode = "Plan (dry run: nothing was changed)"
	}
	fmt.Fprintf(&b, "# %s — `%s`\n\n", mode, m.start.Playbook)
	b.WriteString("| host | ok | changed | failed | skipped | unreachable |\n|---|---|---|---|---|---|\n")
	for _, r := range s.Hosts {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", r.Host, r.OK, r.Changed, r.Failed, r.Skipped, r.Unreachable)
	}
	hosts := make([]string, 0, len(m.results))
	for h := range m.results {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		fmt.Fprintf(&b, "\n## %s\n", h)
		for _, r := range m.results[h] {
			writeMarkdownResult(&b, r)
		}
	}
	io.WriteString(m.w, b.String())
}

func writeMarkdownResult(b *strings.Builder, r runner.TaskResult) {
	label := string(r.Status)
	if r.DryRun && r.Status == runner.StatusChanged {
		label = "would change"
	}
	name := r.Task
	if r.Phase != "" && r.Phase != runner.PhaseTask {
		name = string(r.Phase) + ": " + name
	}
	fmt.Fprintf(b, "\n- **%s** — %s", label, mdEscape(name))
	if r.Change.Summary != "" && r.Status != runner.StatusSkipped {
		fmt.Fprintf(b, ": %s", mdEscape(r.Change.Summary))
	}
	if r.Reason != "" {
		fmt.Fprintf(b, " (%s)", mdEscape(r.Reason))
	}
	b.WriteString("\n")
	if r.Error != "" {
		fmt.Fprintf(b, "\n  ```\n%s\n  ```\n", indentLines("  ", r.Error))
	}
	var rows []plan.ValueChange
	for _, v := range r.Change.Values {
		if v.Status != plan.ValueOK {
			rows = append(rows, v)
		}
	}
	if len(rows) > 0 {
		b.WriteString("\n  | key | now | wanted | status |\n  |---|---|---|---|\n")
		for _, v := range rows {
			status := string(v.Status)
			if v.Note != "" {
				status += ": " + v.Note
			}
			fmt.Fprintf(b, "  | `%s` | %s | %s | %s |\n", v.Key, mdEscape(v.Before), mdEscape(v.After), mdEscape(status))
		}
	}
	for _, w := range r.Change.Warnings {
		fmt.Fprintf(b, "\n  > warning: %s\n", mdEscape(w))
	}
	for _, f := range r.Change.Files {
		if f.Diff != "" {
			fmt.Fprintf(b, "\n  ```diff\n%s\n  ```\n", indentLines("  ", strings.TrimRight(f.Diff, "\n")))
		}
		if f.Backup != "" {
			fmt.Fprintf(b, "\n  backup: `%s`\n", f.Backup)
		}
	}
}

func indentLines(prefix, s string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// mdEscape keeps table cells and inline text from breaking the markup.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "`", "'").Replace(s)
}
