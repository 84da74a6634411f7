package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"tend/internal/yamlnode"
	"tend/runner/playbook"
	"tend/runner/template"
)

// A task's budget: (playbook.Budget) is kept on the host, in the state
// dir beside the pending-handler markers (pending.go): one JSON file per
// task, budget-ID.json, listing when the task changed the host. It is
// written atomically (a temporary file renamed over it), survives reboots
// and reads as plain text. A record tend cannot read — unreadable,
// corrupt, or written by a newer tend — fails the task closed: it never
// runs, and the record is never reset silently.

// budgetVersion is the record format this tend writes and reads.
const budgetVersion = 1

// The budget scripts, run as /bin/sh -c SCRIPT sh ARGS (named so that the
// engine tests' in-memory host can answer them).
const (
	// loadBudgetScript prints the record $1/$2, nothing when there is none.
	loadBudgetScript = `f="$1/$2"; [ -e "$f" ] || [ -L "$f" ] || exit 0; cat -- "$f"`
	// saveBudgetScript writes $3 to the record $1/$2 atomically: a temporary
	// file of this shell's own (two runs on one host never share it), synced,
	// then renamed over the record; on failure the temporary file is removed.
	saveBudgetScript = `mkdir -p -- "$1" && t="$1/.$2.$$.tmp" && { printf '%s\n' "$3" > "$t" && sync -- "$t" && mv -f -- "$t" "$1/$2"; } || { rm -f -- "$t"; exit 1; }`
)

// budgetRecord is the file's content.
type budgetRecord struct {
	Version  int    `json:"version"`
	Playbook string `json:"playbook"`
	Play     string `json:"play"`
	Task     string `json:"task"`
	// Changes are the times (UTC) the task changed the host, oldest first.
	Changes []time.Time `json:"changes"`
}

// decodeBudget reads a record; empty means none yet.
func decodeBudget(data string) (budgetRecord, error) {
	if strings.TrimSpace(data) == "" {
		return budgetRecord{Version: budgetVersion}, nil
	}
	var rec budgetRecord
	if err := json.Unmarshal([]byte(data), &rec); err != nil {
		return rec, fmt.Errorf("corrupt: %w", err)
	}
	switch {
	case rec.Version > budgetVersion:
		return rec, fmt.Errorf("written by a newer tend (format version %d; this tend reads %d)", rec.Version, budgetVersion)
	case rec.Version < 1:
		return rec, fmt.Errorf("corrupt: no format version")
	}
	return rec, nil
}

// budgetWindow is what a record says about the window ending now.
type budgetWindow struct {
	// Used counts the changes within the window; changes dated after now
	// (the clock went back) count as inside it.
	Used int
	// Last is the latest change counted (zero when Used is 0).
	Last time.Time
	// Future counts changes dated after now.
	Future int
}

// window counts rec's changes in the window of length per ending at now.
func (rec budgetRecord) window(now time.Time, per time.Duration) budgetWindow {
	var w budgetWindow
	start := now.Add(-per)
	for _, c := range rec.Changes {
		if !c.After(start) {
			continue
		}
		w.Used++
		if c.After(now) {
			w.Future++
		}
		if c.After(w.Last) {
			w.Last = c
		}
	}
	return w
}

// add records a change at now, dropping the changes that left the window
// (those dated in the future stay).
func (rec budgetRecord) add(now time.Time, per time.Duration) budgetRecord {
	start := now.Add(-per)
	kept := []time.Time{}
	for _, c := range rec.Changes {
		if c.After(start) {
			kept = append(kept, c)
		}
	}
	kept = append(kept, now.UTC())
	sort.Slice(kept, func(i, j int) bool { return kept[i].Before(kept[j]) })
	rec.Version, rec.Changes = budgetVersion, kept
	return rec
}

// ago says how long ago t was, or how far in the future it is.
func ago(now, t time.Time) string {
	if t.After(now) {
		return shortDuration(t.Sub(now)) + " in the future: the host's clock went back"
	}
	return shortDuration(now.Sub(t)) + " ago"
}

// shortDuration prints d the way a person writes it: 24h, 14m, 1h30m, 45s.
func shortDuration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		s := (d / time.Minute * time.Minute).String()
		return strings.TrimSuffix(s, "0s")
	case d >= time.Minute:
		s := d.Round(time.Minute).String()
		return strings.TrimSuffix(s, "0s")
	}
	return d.Round(time.Second).String()
}

// budgetVerb names what the task does in the messages: a service task
// restarts, anything else changes.
func budgetVerb(t *playbook.Task) (past, inf string) {
	if t.Module == "service" || t.Module == "systemd" || t.Module == "ansible.builtin.service" || t.Module == "ansible.builtin.systemd" {
		return "restarted", "restarting"
	}
	return "changed", "changing"
}

// spentMsg is the failure of a task whose budget is spent.
func spentMsg(t *playbook.Task, w budgetWindow, per time.Duration, now time.Time, dry bool) string {
	past, inf := budgetVerb(t)
	times := "times"
	if w.Used == 1 {
		times = "time"
	}
	not := "not " + inf
	if dry {
		not = "would not be " + past
	}
	return fmt.Sprintf("budget spent: %s %d %s in %s (last %s); %s", past, w.Used, times, shortDuration(per), ago(now, w.Last), not)
}

// relapseMsg reports a change made again within the window.
func relapseMsg(t *playbook.Task, last, now time.Time) string {
	past, _ := budgetVerb(t)
	if last.After(now) {
		return fmt.Sprintf("%s again, after a change recorded %s: the remedy is not holding", past, ago(now, last))
	}
	return fmt.Sprintf("%s again %s after the last time: the remedy is not holding", past, shortDuration(now.Sub(last)))
}

// BudgetUse is how a budgeted task stood against its budget on a host,
// on its TaskResult.
type BudgetUse struct {
	Max int `json:"max"`
	// Per is the window, as written after rendering ("24h").
	Per string `json:"per"`
	// Used counts the changes within the window before this run's.
	Used int `json:"used"`
	// Last is the latest change before this run's, if any.
	Last *time.Time `json:"last,omitempty"`
	// Spent is set when the budget did not allow the change (the task failed).
	Spent bool `json:"spent,omitempty"`
	// Relapse is set when the task changed the host again within the
	// window: the previous remedy did not hold.
	Relapse bool `json:"relapse,omitempty"`
	// Note says it in words (the failure, the relapse, or "1 of 3 used in 24h").
	Note string `json:"note,omitempty"`
}

// budgetFile names the record of task t of the play.
func (hp *hostPlay) budgetFile(t *playbook.Task) string {
	return budgetFileFor(hp.r.pb.File, hp.play.Name, t.DisplayName())
}

// budgetFileFor names the record of a task by playbook file, play and task.
func budgetFileFor(pbFile, play, task string) string {
	h := sha256.Sum256([]byte(filepath.Base(pbFile) + "\x00" + play + "\x00" + task))
	return "budget-" + hex.EncodeToString(h[:8]) + ".json"
}

// recordError is a budget record tend could not read: the budget counts
// as spent (fail closed).
type recordError struct{ error }

func (e recordError) Unwrap() error { return e.error }

// budgetCheck is the state a budgeted task's change is weighed against.
type budgetCheck struct {
	max int
	per time.Duration
	rec budgetRecord
	win budgetWindow
	now time.Time
}

// loadBudget renders t's budget and reads its record from the host.
func (hp *hostPlay) loadBudget(ctx context.Context, t *playbook.Task, vars map[string]any) (*budgetCheck, error) {
	b := t.Budget
	maxS, err := renderString(b.Max, vars)
	if err != nil {
		return nil, fmt.Errorf("%s: budget.max: %w", b.MaxPos, err)
	}
	max, err := playbook.ParseBudgetMax(maxS)
	if err != nil {
		return nil, fmt.Errorf("%s: budget.max: %w", b.MaxPos, err)
	}
	perS, err := renderString(b.Per, vars)
	if err != nil {
		return nil, fmt.Errorf("%s: budget.per: %w", b.PerPos, err)
	}
	per, err := playbook.ParseBudgetPer(perS)
	if err != nil {
		return nil, fmt.Errorf("%s: budget.per: %w", b.PerPos, err)
	}
	out, err := hp.runState(ctx, loadBudgetScript, hp.stateDir(), hp.budgetFile(t))
	if err != nil {
		return nil, recordError{fmt.Errorf("budget: cannot read the record of the last changes, so not changing anything: %w", err)}
	}
	rec, err := decodeBudget(out)
	if err != nil {
		return nil, recordError{fmt.Errorf("budget: record %s on the host is %w; not changing anything (fix or remove it by hand)", hp.stateDir()+"/"+hp.budgetFile(t), err)}
	}
	now := time.Now()
	return &budgetCheck{max: max, per: per, rec: rec, win: rec.window(now, per), now: now}, nil
}

// use describes the check on the task's result.
func (bc *budgetCheck) use() *BudgetUse {
	u := &BudgetUse{Max: bc.max, Per: shortDuration(bc.per), Used: bc.win.Used}
	if !bc.win.Last.IsZero() {
		last := bc.win.Last
		u.Last = &last
	}
	return u
}

// recordBudget adds a change made now to t's record on the host.
func (hp *hostPlay) recordBudget(ctx context.Context, t *playbook.Task, bc *budgetCheck) error {
	rec := bc.rec.add(bc.now, bc.per)
	rec.Playbook, rec.Play, rec.Task = filepath.Base(hp.r.pb.File), hp.play.Name, t.DisplayName()
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = hp.runState(ctx, saveBudgetScript, hp.stateDir(), hp.budgetFile(t), string(data))
	return err
}

func renderString(s string, vars map[string]any) (string, error) {
	if !yamlnode.IsTemplateText(s) {
		return s, nil
	}
	v, err := template.Render(s, vars)
	if err != nil {
		return "", err
	}
	return fmt.Sprint(v), nil
}

// budgetGate weighs a change t is about to make (or would, dry) against
// its budget: an error when the budget is spent or cannot be read, the
// check to record the change with otherwise.
func (hp *hostPlay) budgetGate(ctx context.Context, t *playbook.Task, vars map[string]any, res *TaskResult, dry bool) (*budgetCheck, error) {
	bc, err := hp.loadBudget(ctx, t, vars)
	if err != nil {
		var re recordError
		hp.s.budgetSpent = errors.As(err, &re) // a bad template is the playbook's failure, not the budget's
		return nil, err
	}
	res.Budget = bc.use()
	if bc.win.Used >= bc.max {
		res.Budget.Spent = true
		res.Budget.Note = spentMsg(t, bc.win, bc.per, bc.now, dry)
		hp.s.budgetSpent = true
		return nil, fmt.Errorf("%s", res.Budget.Note)
	}
	res.Budget.Note = fmt.Sprintf("budget: %d of %d used in %s", bc.win.Used, bc.max, shortDuration(bc.per))
	if dry {
		res.Budget.Note += ": would allow it"
	}
	return bc, nil
}

// budgetSpend records the change t made and says whether it is a relapse.
func (hp *hostPlay) budgetSpend(ctx context.Context, t *playbook.Task, res *TaskResult, bc *budgetCheck) error {
	if err := hp.recordBudget(ctx, t, bc); err != nil {
		return fmt.Errorf("budget: the change was made but could not be recorded, so the next run cannot count it: %w", err)
	}
	if bc.win.Used > 0 {
		res.Budget.Relapse = true
		res.Budget.Note = relapseMsg(t, bc.win.Last, bc.now)
	}
	return nil
}
