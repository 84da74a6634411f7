package views

import (
	"fmt"
	"io"
	"slices"
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
	runner.NopObserver // progress events: a document written at the end has no use for them
	w                  io.Writer
	start              runner.RunStart
	plays              []runner.PlayStart
	entries            map[string][]mdEntry // per host, in order
	// warnings are those without a host (connections), shown first.
	warnings []string
}

// mdEntry is one item of a host's section: a task's result or a warning.
type mdEntry struct {
	result   *runner.TaskResult
	warning  *runner.Warning
	rollback *runner.Rollback
}

var _ runner.Observer = (*Markdown)(nil)

// NewMarkdown returns a markdown view writing to w.
func NewMarkdown(w io.Writer) *Markdown {
	return &Markdown{w: w, entries: map[string][]mdEntry{}}
}

// RunStarted records the run's mode.
func (m *Markdown) RunStarted(e runner.RunStart) { m.start = e }

// PlayStarted records the play.
func (m *Markdown) PlayStarted(e runner.PlayStart) { m.plays = append(m.plays, e) }

// TaskDone records the result under its host.
func (m *Markdown) TaskDone(e runner.TaskResult) {
	m.entries[e.Host] = append(m.entries[e.Host], mdEntry{result: &e})
}

// HostDone records a rollback under its host.
func (m *Markdown) HostDone(e runner.HostDone) {
	if e.Rollback != nil {
		m.entries[e.Host] = append(m.entries[e.Host], mdEntry{rollback: e.Rollback})
	}
}

// Warning records a warning under its host, or for the whole run.
func (m *Markdown) Warning(e runner.Warning) {
	if e.Host == "" {
		m.warnings = append(m.warnings, e.Msg)
		return
	}
	m.entries[e.Host] = append(m.entries[e.Host], mdEntry{warning: &e})
}

// RunDone writes the whole document.
func (m *Markdown) RunDone(s runner.Summary) {
	var b strings.Builder
	mode, changed := "Applied", "changed"
	if m.start.Check {
		mode, changed = "Plan (dry run: nothing was changed)", "would change"
	}
	fmt.Fprintf(&b, "# %s — `%s`\n\n", mode, m.start.Playbook)
	for _, w := range m.warnings {
		fmt.Fprintf(&b, "> warning: %s\n\n", mdEscape(w))
	}
	// A relapsed column only when a budgeted remedy relapsed somewhere.
	relapsed := slices.ContainsFunc(s.Hosts, func(r runner.HostRecap) bool { return r.Relapsed > 0 })
	relCol, relSep := "", ""
	if relapsed {
		relCol, relSep = " relapsed |", "---|"
	}
	fmt.Fprintf(&b, "| host | ok | %s | failed | skipped | unreachable |%s\n|---|---|---|---|---|---|%s\n", changed, relCol, relSep)
	for _, r := range s.Hosts {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |", r.Host, r.OK, r.Changed, r.Failed, r.Skipped, r.Unreachable)
		if relapsed {
			fmt.Fprintf(&b, " %d |", r.Relapsed)
		}
		b.WriteByte('\n')
	}
	if len(s.BudgetSpent) > 0 {
		fmt.Fprintf(&b, "\n**Budget spent** (not changed again): %s\n", mdEscape(strings.Join(s.BudgetSpent, ", ")))
	}
	hosts := make([]string, 0, len(m.entries))
	for h := range m.entries {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		fmt.Fprintf(&b, "\n## %s\n", h)
		noted := map[string]bool{} // unsupported keys already in a table of this host
		for _, e := range m.entries[h] {
			if e.rollback != nil {
				writeMarkdownRollback(&b, e.rollback) // rollback.go
				continue
			}
			if w := e.warning; w != nil {
				msg := w.Msg
				if w.Task != "" {
					msg = w.Task + ": " + msg
				}
				fmt.Fprintf(&b, "\n- **warning** — %s\n", mdEscape(msg))
				continue
			}
			writeMarkdownResult(&b, *e.result, noted)
		}
	}
	io.WriteString(m.w, b.String())
}

// writeMarkdownResult writes one result; noted holds the unsupported keys
// already shown for the host, which are not shown again.
func writeMarkdownResult(b *strings.Builder, r runner.TaskResult, noted map[string]bool) {
	fmt.Fprintf(b, "\n- **%s** — %s", resultLabel(r), mdEscape(phaseName(r)))
	if s := summary(r); s != "" {
		fmt.Fprintf(b, ": %s", mdEscape(s))
	}
	if r.Reason != "" {
		fmt.Fprintf(b, " (%s)", mdEscape(r.Reason))
	}
	if n := budgetNote(r); n != "" {
		fmt.Fprintf(b, " (%s)", mdEscape(n))
	}
	b.WriteString("\n")
	if r.Error != "" {
		fmt.Fprintf(b, "\n  ```\n%s\n  ```\n", indentLines("  ", r.Error))
	}
	var rows []plan.ValueChange
	for _, v := range r.Change.Values {
		if v.Status == plan.ValueUnsupported {
			if noted[v.Key] {
				continue
			}
			noted[v.Key] = true
		}
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
