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
// written and leaves the file untouched. Apply re-inspects the host and
// refuses (*transport.StaleError) when the file is no longer the one planned.
func (m *sysctlModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	st, err := m.inspect(ctx, conn)
	if err != nil {
		return plan.Change{}, err
	}
	if len(planned.Files) > 0 && planned.Files[0].BeforeSHA256 != "" && planned.Files[0].BeforeSHA256 != st.sha {
		return plan.Change{}, &transport.StaleError{Path: m.file, Want: planned.Files[0].BeforeSHA256, Got: st.sha}
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
		c.Data = sysctlData(c, sysctlUnsupported(c))
		return c, nil
	}

	// 1. Live values first: a value the kernel refuses must not be persisted.
	if len(writes) > 0 {
		done, refused, err := sysctlWriteLive(ctx, conn, writes, false)
		if err != nil {
			return plan.Change{}, err
		}
		if refused != "" {
			refused = fmt.Sprintf("the kernel refused %q (%s)", writes[done].value, refused)
		} else {
			refused, done = m.checkWritten(ctx, conn, writes)
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

	// 3. sysctl -p FILE; its complaints are reported, its exit code not trusted.
	if m.reload && (st.fileChanged() || (!m.liveSet && liveDiffers)) {
		w, err := m.reloadFile(ctx, conn, st)
		if err != nil {
			return plan.Change{}, err
		}
		c.Warnings = append(c.Warnings, w...)
	}

	// 4. Every supported key must hold its value now.
	if m.liveTracked() {
		if bad := m.verify(ctx, conn, st, &c); len(bad) > 0 {
			return fail(bad, "values did not hold after apply: "+strings.Join(bad, ", "))
		}
	}
	c.Data = sysctlData(c, sysctlUnsupported(c))
	c.Summary = strings.Replace(c.Summary, " to change,", " changed,", 1) // done, no longer planned
	return c, nil
}

// checkWritten reads the written keys back: the kernel may accept a value
// and store another (0755 is octal to some handlers). It returns a message
// and the index of the first key that does not hold.
func (m *sysctlModule) checkWritten(ctx context.Context, conn transport.Conn, ws []sysctlWrite) (string, int) {
	paths := make([]string, len(ws))
	for i, w := range ws {
		paths[i] = w.path
	}
	p, err := sysctlProbeLive(ctx, conn, paths, nil)
	if err != nil {
		return err.Error(), 0
	}
	for i, w := range ws {
		if !sysctlconf.ValuesEqual(p.keys[i].value, w.value) {
			return fmt.Sprintf("wrote %q, the kernel holds %q", w.value, sysctlconf.NormalizeValue(p.keys[i].value)), i
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
	done, refused, err := sysctlWriteLive(ctx, conn, rev, true)
	switch {
	case err != nil:
		return fmt.Sprintf("; restoring live values failed: %v", err)
	case refused != "":
		return fmt.Sprintf("; restoring %s to %q failed: %s", rev[done].key, rev[done].before, refused)
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

// reloadFile runs sysctl -p on the file and turns each stderr line into a
// warning, saying whether it concerns a key this task sets.
func (m *sysctlModule) reloadFile(ctx context.Context, conn transport.Conn, st *sysctlState) ([]string, error) {
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", sysctlReloadScript, "sh", m.file}, Timeout: sysctlTimeout})
	if err != nil {
		return nil, fmt.Errorf("sysctl: sysctl -p %s: %w", m.file, err)
	}
	ours := map[string]bool{} // canonical key → supported
	for _, k := range st.keys {
		ours[k.id] = k.supported
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(res.Stderr)), "\n") {
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
	if res.ExitCode != 0 && len(out) == 0 {
		out = append(out, fmt.Sprintf("sysctl -p %s exited %d without a message", m.file, res.ExitCode))
	}
	return out, nil
}

// verify reads every supported key back and marks those that do not hold.
func (m *sysctlModule) verify(ctx context.Context, conn transport.Conn, st *sysctlState, c *plan.Change) []string {
	var keys []sysctlKeyPlan
	var paths []string
	for _, k := range st.keys {
		if k.supported {
			keys, paths = append(keys, k), append(paths, k.path)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	p, err := sysctlProbeLive(ctx, conn, paths, nil)
	if err != nil {
		c.Warnings = append(c.Warnings, err.Error())
		return sysctlKeys(sysctlSettings(keys))
	}
	var bad []string
	for i, k := range keys {
		if got := sysctlconf.NormalizeValue(p.keys[i].value); !sysctlconf.ValuesEqual(got, k.Value) {
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
				v.Status, v.Note = sysctlStatusChange, strings.Join(notes, "; ")
				nChange++
			} else {
				nOK++
			}
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
	if fileChanged {
		n := map[sysctlconf.EditKind]int{}
		for _, e := range st.edits {
			n[e.Kind]++
		}
		c.Summary += fmt.Sprintf("; %s: %d lines changed, %d added, %d removed", m.file,
			n[sysctlconf.Changed], n[sysctlconf.Appended], n[sysctlconf.Removed])
	}
	c.Data = sysctlData(c, unsupported)
	return c
}

// fileChanged reports whether the file must be written.
func (st *sysctlState) fileChanged() bool {
	return string(st.content) != string(st.newContent) || (!st.exists && len(st.newContent) > 0)
}

// sysctlData is what register: stores: {changed, file, values: {key:
// {before, after, status, note}}, unsupported: [...], backup, in_place}.
func sysctlData(c plan.Change, unsupported []string) map[string]any {
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
	return d
}
