package runner

import (
	"context"
	"fmt"
	"strings"

	"tend/runner/modules"
	"tend/runner/plan"
	"tend/runner/playbook"
	"tend/runner/transport"
)

// A play with rollback: true puts back, on a host where one of its tasks
// (or its recheck, or its verification) failed after the host changed in
// the play, what this run changed there: files from the backups tend made
// (or removed when tend created them), live sysctl values to what they
// held; each read back. Commands, shell and service restarts cannot be
// undone: the report says so, and services are not restarted again. The
// host still counts as failed.

// RollbackStatus is the outcome of one item of a rollback.
type RollbackStatus string

// Rollback item outcomes.
const (
	// RollbackRestored: put back and read back as it was.
	RollbackRestored RollbackStatus = "restored"
	// RollbackFailed: could not be put back; Detail says why.
	RollbackFailed RollbackStatus = "failed"
	// RollbackNotUndone: a change tend cannot undo (a command, a restart).
	RollbackNotUndone RollbackStatus = "not_undone"
	// RollbackWouldUndo: check mode, a planned change the rollback would undo.
	RollbackWouldUndo RollbackStatus = "would_undo"
)

// Rollback is what a play's rollback: did on a host (HostDone), or in
// check mode would do on verification failure.
type Rollback struct {
	// Planned is set in check mode: nothing was changed, so nothing was
	// undone; Items says what would be.
	Planned bool `json:"planned,omitempty"`
	// Outcome is "rolled back", "partly rolled back" (an item failed),
	// "not rolled back: ..." or, planned, "on verification failure, N
	// changes would be undone".
	Outcome string         `json:"outcome"`
	Items   []RollbackItem `json:"items"`
}

// RollbackItem is one thing a rollback put back, could not, or cannot.
type RollbackItem struct {
	Task   string         `json:"task"`
	Item   string         `json:"item,omitempty"`
	Status RollbackStatus `json:"status"`
	// Target is the file or the key; empty for a change with no undo.
	Target string `json:"target,omitempty"`
	// Detail says how it was found after the undo, why it failed, or what
	// the change was that is not undone.
	Detail string `json:"detail"`
}

// Line is the item as one line of a report.
func (it RollbackItem) Line() string {
	task := it.Task
	if it.Item != "" {
		task += " (" + it.Item + ")"
	}
	switch it.Status {
	case RollbackRestored:
		return it.Detail
	case RollbackFailed:
		return "could not restore " + it.Target + " (" + task + "): " + it.Detail
	case RollbackWouldUndo:
		return "would undo " + task + ": " + it.Detail
	}
	return "not undone: " + task + ": " + it.Detail
}

// undoEntry is one change the host had in the play, and how to undo it.
type undoEntry struct {
	task, item, module string
	change             plan.Change
	conn               transport.Conn // the task's own: through sudo when it used become
	noLog              bool
}

// noteChange remembers a change for the play's rollback: made, or planned
// in a dry run (dry says which).
func (hp *hostPlay) noteChange(t *playbook.Task, c plan.Change, conn transport.Conn, dry bool) {
	if !hp.play.Rollback || !c.Changed() || dry != hp.r.opts.Check {
		return // a check_mode: true task in a real run changed nothing
	}
	if c.Failed && c.Action == plan.Update && len(c.Undo) == 0 {
		return // refused before writing: the module left the host as it was
	}
	hp.undo = append(hp.undo, undoEntry{task: t.DisplayName(), item: hp.itemName, module: t.Module, change: c, conn: conn, noLog: hp.noLog(t)})
}

// rollbackContext is ctx for a rollback play's tasks: every file module
// keeps a backup to restore from.
func (hp *hostPlay) rollbackContext(ctx context.Context) context.Context {
	if !hp.play.Rollback {
		return ctx
	}
	return modules.WithBackups(ctx)
}

// rollback runs when the host leaves the play: on a host that failed after
// changing, it undoes the changes, last first, and keeps the report for
// HostDone and the recap; in check mode it says what it would undo.
func (hp *hostPlay) rollback(ctx context.Context) {
	if !hp.play.Rollback || len(hp.undo) == 0 {
		return
	}
	if hp.r.opts.Check {
		hp.rolled = hp.plannedRollback()
		return
	}
	rb := &Rollback{Outcome: "rolled back"}
	switch hp.status {
	case StatusFailed:
	case StatusUnreachable:
		rb.Outcome = "not rolled back: the host is unreachable"
		for i := len(hp.undo) - 1; i >= 0; i-- {
			e := hp.undo[i]
			for _, u := range e.change.Undo {
				rb.Items = append(rb.Items, RollbackItem{Task: e.task, Item: e.item, Status: RollbackFailed, Target: u.Target(), Detail: "the host is unreachable"})
			}
		}
		hp.keepRollback(rb)
		return
	default:
		return // ok, or stopped by the run: nothing failed here
	}
	// The undo finishes even when the run is being interrupted: it is what
	// leaves the host as it was.
	ctx = context.WithoutCancel(ctx)
	for i := len(hp.undo) - 1; i >= 0; i-- {
		e := hp.undo[i]
		if len(e.change.Undo) == 0 {
			rb.Items = append(rb.Items, RollbackItem{Task: e.task, Item: e.item, Status: RollbackNotUndone, Detail: notUndone(e)})
			continue
		}
		for j := len(e.change.Undo) - 1; j >= 0; j-- {
			u := e.change.Undo[j]
			it := RollbackItem{Task: e.task, Item: e.item, Status: RollbackRestored, Target: u.Target()}
			detail, err := modules.RunUndo(ctx, e.conn, u)
			if err != nil {
				it.Status, detail = RollbackFailed, err.Error()
				rb.Outcome = "partly rolled back"
			}
			if e.noLog && u.Kind == plan.UndoValue {
				detail = fmt.Sprintf("%s: %s", u.Key, NoLogText) // the value stays hidden
			}
			it.Detail = detail
			rb.Items = append(rb.Items, it)
		}
	}
	hp.keepRollback(rb)
}

// keepRollback keeps the report for HostDone and adds it to the recap.
func (hp *hostPlay) keepRollback(rb *Rollback) {
	hp.rolled = rb
	rc := &hp.s.recap
	rc.RolledBack = append(rc.RolledBack, playLabel(hp.play)+": "+rb.Outcome)
	for _, it := range rb.Items {
		rc.RolledBack = append(rc.RolledBack, it.Line())
	}
}

// plannedRollback is what a dry run says a rollback would do.
func (hp *hostPlay) plannedRollback() *Rollback {
	rb := &Rollback{Planned: true}
	n := 0
	for _, e := range hp.undo {
		if e.change.Action != plan.Update {
			rb.Items = append(rb.Items, RollbackItem{Task: e.task, Item: e.item, Status: RollbackNotUndone, Detail: notUndone(e)})
			continue
		}
		n++
		rb.Items = append(rb.Items, RollbackItem{Task: e.task, Item: e.item, Status: RollbackWouldUndo, Detail: plannedTargets(e.change)})
	}
	rb.Outcome = fmt.Sprintf("on verification failure, %d %s would be undone", n, plural(n, "change", "changes"))
	return rb
}

// plannedTargets names what a planned update would put back.
func plannedTargets(c plan.Change) string {
	var out []string
	for _, f := range c.Files {
		if f.Diff != "" {
			out = append(out, "restore "+f.Path)
		}
	}
	for _, v := range c.Values {
		if v.Status == plan.ValueChanged && strings.Contains(v.Note, "live:") {
			out = append(out, "reset "+v.Key+" to "+v.Before)
		}
	}
	if len(out) == 0 {
		return firstNonEmpty(c.Summary, string(c.Action))
	}
	return strings.Join(out, ", ")
}

// notUndone says what a change without an undo was, and why it stays.
func notUndone(e undoEntry) string {
	what := firstNonEmpty(e.change.Summary, string(e.change.Action))
	if e.change.Summary == "" && e.change.Action == plan.Run {
		what = "ran " + e.module
	}
	if e.noLog {
		what = NoLogText
	}
	switch e.change.Action {
	case plan.Restart:
		return what + " (services are not restarted again)"
	case plan.Run:
		return what + " (a command cannot be undone)"
	}
	return what + " (" + e.module + " leaves nothing to restore from)"
}
