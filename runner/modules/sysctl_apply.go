package modules

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"tend/runner/modules/sysctlconf"
	"tend/runner/plan"
	"tend/runner/transport"
)

// Apply writes the live values first, then the file, reloads it and reads
// every value back. A refused live write restores the values already
// written and leaves the file untouched. Apply works from what Check saw
// (planned.Private), or inspects the host again when the plan carries none
// (a saved plan); either way it refuses (*transport.StaleError) when the file
// is no longer the one planned, before anything is written: the live writes
// check it first, and WriteFileAtomic again.
//
// Three commands at most: the live writes with their read-back, the file,
// and sysctl -p with the final read-back.
func (m *sysctlModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	st, _ := planned.Private.(*sysctlState)
	if st == nil || st.file != m.file || (len(planned.Files) > 0 && planned.Files[0].BeforeSHA256 != st.sha) {
		var err error
		if st, err = m.inspect(ctx, conn); err != nil {
			return plan.Change{}, err
		}
		if len(planned.Files) > 0 && planned.Files[0].BeforeSHA256 != "" && planned.Files[0].BeforeSHA256 != st.sha {
			return plan.Change{}, &transport.StaleError{Path: m.file, Want: planned.Files[0].BeforeSHA256, Got: st.sha}
		}
	}
	c := m.change(st)
	if !c.Action.Changes() {
		return c, nil
	}

	var writes []sysctlWrite
	liveDiffers := false
	for _, k := range st.keys {
		if k.supported && k.liveChange {
			liveDiffers = true
			if m.liveSet {
				writes = append(writes, sysctlWrite{key: k.Key, path: k.path, value: k.Value, before: st.live[k.id].value})
			}
		}
	}
	fail := func(keys []string, msg string) (plan.Change, error) {
		c.Failed, c.Msg = true, msg
		sysctlMarkFailed(&c, keys)
		c.Data = sysctlData(c, sysctlUnsupported(c), st)
		return c, nil
	}

	// 1. Live values first: a value the kernel refuses must not be persisted.
	if len(writes) > 0 {
		w, err := sysctlWriteLive(ctx, conn, writes, false, true, &sysctlFileGuard{path: m.file, sha: st.sha})
		if err != nil {
			return plan.Change{}, err // a *transport.StaleError (the file changed) wrote nothing
		}
		done, refused := w.done, w.refused
		switch {
		case refused != "":
			refused = fmt.Sprintf("the kernel refused %q (%s)", writes[done].value, refused)
		case w.readErr != nil:
			refused, done = w.readErr.Error(), 0
		default:
			refused, done = checkWritten(writes, w.back)
		}
		if refused != "" {
			// Restoring a key that was never written rewrites its own value.
			msg := fmt.Sprintf("%s: %s; %s left unchanged", writes[done].key, refused, m.file)
			return fail([]string{writes[done].key}, msg+m.restore(ctx, conn, writes))
		}
	}

	// 2. The file, atomically, only if the plan's content is still there.
	if st.fileChanged() {
		res, err := transport.WriteFileAtomic(ctx, conn, m.file, st.newContent,
			transport.WriteOptions{Backup: true, ExpectSHA256: st.sha, Mode: 0o644})
		if err != nil {
			restored := m.restore(ctx, conn, writes)
			var fe *transport.FileError
			if errors.As(err, &fe) {
				return fail(nil, err.Error()+restored)
			}
			return plan.Change{}, fmt.Errorf("sysctl: %w%s", err, restored)
		}
		c.Files[0].Backup, c.Files[0].InPlace = res.BackupPath, res.InPlace
	}
	c.Undo = m.undo(st, c.Files[0]) // undo.go: for a play's rollback:

	// 3. sysctl -p FILE; its complaints are reported, its exit code not
	// trusted. 4. Every supported key must hold its value now: read in the
	// same command as sysctl -p, or alone.
	var check []sysctlKeyPlan
	var paths []string
	if m.liveTracked() {
		for _, k := range st.keys {
			if k.supported {
				check, paths = append(check, k), append(paths, k.path)
			}
		}
	}
	var values []sysctlLive
	var readErr error
	switch {
	case m.reload && (st.fileChanged() || (!m.liveSet && liveDiffers)):
		r, err := sysctlReload(ctx, conn, m.file, m.ignoreErrors, paths)
		if err != nil {
			return plan.Change{}, err
		}
		c.Warnings = append(c.Warnings, m.reloadWarnings(st, r)...)
		values, readErr = r.values, r.readErr
	case len(paths) > 0:
		var p *sysctlProbe
		if p, readErr = sysctlProbeLive(ctx, conn, paths, nil, false); p != nil {
			values = p.keys
		}
	}
	if len(check) > 0 {
		if bad := verifyValues(check, values, readErr, &c); len(bad) > 0 {
			return fail(bad, "values did not hold after apply: "+strings.Join(bad, ", "))
		}
	}
	c.Data = sysctlData(c, sysctlUnsupported(c), st)
	c.Summary = strings.Replace(c.Summary, " to change,", " changed,", 1) // done, no longer planned
	return c, nil
}

// checkWritten compares the written keys with what they hold now (back): the
// kernel may accept a value and store another (0755 is octal to some
// handlers). It returns a message and the index of the first key that does
// not hold.
func checkWritten(ws []sysctlWrite, back []sysctlLive) (string, int) {
	for i, w := range ws {
		if !sysctlconf.ValuesEqual(back[i].value, w.value) {
			return fmt.Sprintf("wrote %q, the kernel holds %q", w.value, sysctlconf.NormalizeValue(back[i].value)), i
		}
	}
	return "", 0
}

// restore writes back the values live keys had before this task, last
// written first, and says how that went (for the failure message).
func (m *sysctlModule) restore(ctx context.Context, conn transport.Conn, ws []sysctlWrite) string {
	if len(ws) == 0 {
		return ""
	}
	rev := make([]sysctlWrite, len(ws))
	for i, w := range ws {
		rev[len(ws)-1-i] = w
	}
	w, err := sysctlWriteLive(ctx, conn, rev, true, false, nil)
	switch {
	case err != nil:
		return fmt.Sprintf("; restoring live values failed: %v", err)
	case w.refused != "":
		return fmt.Sprintf("; restoring %s to %q failed: %s", rev[w.done].key, rev[w.done].before, w.refused)
	}
	return fmt.Sprintf("; live values restored (%s)", strings.Join(sysctlWriteKeys(ws), ", "))
}

func sysctlWriteKeys(ws []sysctlWrite) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.key
	}
	return out
}

// reloadWarnings turns each stderr line of sysctl -p into a warning, saying
// whether it concerns a key this task sets.
func (m *sysctlModule) reloadWarnings(st *sysctlState, r sysctlReloaded) []string {
	ours := map[string]bool{} // canonical key → supported
	for _, k := range st.keys {
		ours[k.id] = k.supported
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if supported, mine := ours[sysctlStderrKey(line)]; mine && supported {
			out = append(out, fmt.Sprintf("sysctl -p %s: %s (a key this task sets; its live value is checked separately)", m.file, line))
		} else if mine {
			out = append(out, fmt.Sprintf("sysctl -p %s: %s (a key this task wants but this host lacks; the line was already in the file)", m.file, line))
		} else {
			out = append(out, fmt.Sprintf("sysctl -p %s: %s (not a key this task sets)", m.file, line))
		}
	}
	if r.exitCode != 0 && len(out) == 0 {
		out = append(out, fmt.Sprintf("sysctl -p %s exited %d without a message", m.file, r.exitCode))
	}
	return out
}

// verifyValues checks that every key holds its value (values as read back,
// in keys' order, or readErr) and marks those that do not.
func verifyValues(keys []sysctlKeyPlan, values []sysctlLive, readErr error, c *plan.Change) []string {
	if readErr != nil || len(values) != len(keys) {
		if readErr != nil {
			c.Warnings = append(c.Warnings, readErr.Error())
		}
		return sysctlKeys(sysctlSettings(keys))
	}
	var bad []string
	for i, k := range keys {
		if got := sysctlconf.NormalizeValue(values[i].value); !sysctlconf.ValuesEqual(got, k.Value) {
			bad = append(bad, fmt.Sprintf("%s (want %q, holds %q)", k.Key, k.Value, got))
			for j := range c.Values {
				if c.Values[j].Key == k.Key {
					c.Values[j].Note = strings.TrimPrefix(c.Values[j].Note+"; reads back "+strconv.Quote(got), "; ")
				}
			}
		}
	}
	return bad
}

func sysctlSettings(ks []sysctlKeyPlan) []sysctlconf.Setting {
	out := make([]sysctlconf.Setting, len(ks))
	for i, k := range ks {
		out[i] = k.Setting
	}
	return out
}

// sysctlMarkFailed sets Status failed on the values of keys (a key may be given
// with a " (...)" explanation after it).
func sysctlMarkFailed(c *plan.Change, keys []string) {
	for _, k := range keys {
		k, _, _ = strings.Cut(k, " (")
		for i := range c.Values {
			if c.Values[i].Key == k {
				c.Values[i].Status = plan.ValueFailed
			}
		}
	}
}

func sysctlUnsupported(c plan.Change) []string {
	var out []string
	for _, v := range c.Values {
		if v.Status == plan.ValueUnsupported {
			out = append(out, v.Key)
		}
	}
	return out
}

// sysctlDiff is the unified diff of the file, 3 lines of context, headed
// "--- FILE" / "+++ FILE (tend)". A last line without a newline is marked
// as diff(1) does.
func sysctlDiff(file string, before []byte, existed bool, after []byte) string {
	from := file
	if !existed {
		from = "/dev/null"
	}
	s, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: sysctlDiffLines(before), B: sysctlDiffLines(after),
		FromFile: from, ToFile: file + " (tend)", Context: 3,
	})
	if err != nil {
		return fmt.Sprintf("(diff unavailable: %v)\n", err)
	}
	return s
}

func sysctlDiffLines(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, string(b)+"\n\\ No newline at end of file\n")
			break
		}
		out = append(out, string(b[:i+1]))
		b = b[i+1:]
	}
	return out
}

// change turns the inspected state into the plan shown to the reviewer.
func (m *sysctlModule) change(st *sysctlState) plan.Change {
	c := plan.Change{Action: plan.None, Warnings: append([]string(nil), st.warnings...)}
	fileChanged := st.fileChanged()
	fc := plan.FileChange{Path: m.file, BeforeSHA256: st.sha}
	if fileChanged {
		fc.Diff = sysctlDiff(m.file, st.content, st.exists, st.newContent)
		c.Action = plan.Update
	}
	c.Files = []plan.FileChange{fc}

	var unsupported []string
	nChange, nOK := 0, 0
	for _, k := range st.keys {
		v := plan.ValueChange{Key: k.Key, After: k.Value, Status: plan.ValueOK}
		switch {
		case !k.supported:
			v.Status, v.Note = plan.ValueUnsupported, k.unsupported
			unsupported = append(unsupported, k.Key) // the value line says it; no second warning
		default:
			v.Before = k.fileValue
			if m.liveTracked() {
				v.Before = k.live
			}
			var notes []string
			if k.fileChange {
				before := "not set"
				if k.inFile {
					before = k.fileValue
				}
				notes = append(notes, fmt.Sprintf("file: %s → %s", before, k.Value))
			}
			if k.liveChange {
				notes = append(notes, fmt.Sprintf("live: %s → %s", k.live, k.Value))
				c.Action = plan.Update
			}
			if len(notes) > 0 {
				v.Status = sysctlStatusChange
				nChange++
			} else {
				nOK++
			}
			if st.boot != nil && st.boot.notes[k.id] != "" {
				notes = append(notes, st.boot.notes[k.id])
			}
			v.Note = strings.Join(notes, "; ")
		}
		c.Values = append(c.Values, v)
	}
	eff := sysctlconf.Effective(st.content)
	for _, k := range m.absent {
		before, set := eff[sysctlconf.Canonical(k)]
		v := plan.ValueChange{Key: k, Before: before, Status: plan.ValueOK}
		if set {
			v.Status, v.Note = sysctlStatusChange, "removed from "+m.file+"; the running value is left as it is"
			nChange++
		} else {
			nOK++
		}
		c.Values = append(c.Values, v)
	}

	c.Summary = fmt.Sprintf("%d to change, %d ok", nChange, nOK)
	if len(unsupported) > 0 {
		c.Summary += fmt.Sprintf(", %d unsupported (%s)", len(unsupported), strings.Join(unsupported, ", "))
	}
	m.bootChange(&c, st)
	if fileChanged {
		n := map[sysctlconf.EditKind]int{}
		for _, e := range st.edits {
			n[e.Kind]++
		}
		c.Summary += fmt.Sprintf("; %s: %d lines changed, %d added, %d removed", m.file,
			n[sysctlconf.Changed], n[sysctlconf.Appended], n[sysctlconf.Removed])
	}
	c.Data = sysctlData(c, unsupported, st)
	return c
}

// bootChange adds the boot-time report to the plan: its warnings, the keys
// that revert in the summary, and, with persist: strict, the failure of a
// task left with nothing else to change (a recheck after Apply is one), or
// the warning that the recheck will fail.
func (m *sysctlModule) bootChange(c *plan.Change, st *sysctlState) {
	b := st.boot
	if b == nil {
		return
	}
	c.Warnings = append(c.Warnings, b.warnings()...)
	if len(b.reverts) == 0 {
		return
	}
	c.Summary += fmt.Sprintf(", %d reverts at boot (%s)", len(b.reverts), strings.Join(b.reverts, ", "))
	if !m.strict {
		return
	}
	if c.Action.Changes() {
		c.Warnings = append(c.Warnings, fmt.Sprintf("persist: strict: the recheck after apply will fail while %s reverts at boot (this task edits only %s)",
			strings.Join(b.reverts, ", "), m.file))
		return
	}
	c.Failed = true
	c.Msg = fmt.Sprintf("persist: strict: the values do not persist: %s; this task edits only %s: change the files named, or give file: one read at boot after them",
		strings.Join(b.reasons, "; "), m.file)
}

// fileChanged reports whether the file must be written.
func (st *sysctlState) fileChanged() bool {
	return string(st.content) != string(st.newContent) || (!st.exists && len(st.newContent) > 0)
}

// sysctlData is what register: stores: {changed, file, values: {key:
// {before, after, status, note}}, unsupported: [...], backup, in_place,
// boot: {key: {value, file, line}}, boot_reader, reverts_at_boot: [...]}.
func sysctlData(c plan.Change, unsupported []string, st *sysctlState) map[string]any {
	values := map[string]any{}
	for _, v := range c.Values {
		e := map[string]any{"before": v.Before, "after": v.After, "status": string(v.Status)}
		if v.Note != "" {
			e["note"] = v.Note
		}
		values[v.Key] = e
	}
	if unsupported == nil {
		unsupported = []string{}
	}
	d := map[string]any{
		"changed":     c.Action.Changes(),
		"values":      values,
		"unsupported": unsupported,
		"backup":      "",
		"in_place":    false,
	}
	if len(c.Files) > 0 {
		d["file"] = c.Files[0].Path
		d["backup"] = c.Files[0].Backup
		d["in_place"] = c.Files[0].InPlace
	}
	st.boot.data(d, st.keys)
	return d
}
