package modules

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"tend/runner/plan"
	"tend/runner/transport"
)

// unarchiveState is what Check read of the host (one probe).
type unarchiveState struct {
	skip string // creates exists: the task is skipped with this reason
	fail string // Ansible's failure before any unpacking
	kind string // archiveKind
	dest fsEntry
	ids  hostIDs
	// same is set by Check when its comparison counted nothing: an apply
	// right after it then need not send the archive again (nothing to
	// extract, no attributes to set, no listing to register).
	same bool
}

// inspect reads dest, creates, the host's archive (remote_src) and the
// owner and group asked, in one command.
func (m *unarchiveModule) inspect(ctx context.Context, conn transport.Conn) (*unarchiveState, error) {
	if templated(m.src) || !path.IsAbs(m.dest) {
		return nil, fmt.Errorf("src and dest must be rendered, dest absolute")
	}
	ops := []fsOp{{"stat", m.dest}}
	if m.creates != "" {
		ops = append(ops, fsOp{"stat", m.creates})
	}
	if m.remote {
		ops = append(ops, fsOp{"stat", m.src}, fsOp{"magic", m.src})
	}
	ops = append(ops, m.attrs.ops()...)
	ans, _, err := fsProbe(ctx, conn, ops)
	if err != nil {
		return nil, err
	}
	st := &unarchiveState{kind: m.localKind, dest: ans[0].entry}
	rest := ans[1:]
	if m.creates != "" {
		if rest[0].status == "ok" {
			st.skip = fmt.Sprintf("skipped, since %s exists", m.creates)
			return st, nil
		}
		rest = rest[1:]
	}
	if ans[0].status != "ok" || ans[0].entry.Type != 'd' {
		st.fail = fmt.Sprintf("dest '%s' must be an existing dir", m.dest)
		return st, nil
	}
	if m.remote {
		switch src := rest[0]; {
		case src.status != "ok":
			st.fail = fmt.Sprintf("Source '%s' does not exist", m.src)
		case src.entry.Type != 'f':
			st.fail = fmt.Sprintf("Source '%s' not readable, it is not a regular file", m.src)
		case src.entry.Size == 0:
			st.fail = fmt.Sprintf("Invalid archive '%s', the file is 0 bytes", m.src)
		case rest[1].value == "":
			st.fail = fmt.Sprintf("Source '%s' not readable", m.src)
		}
		st.kind = archiveKind(rest[1].value)
		rest = rest[2:]
	}
	if st.fail == "" && st.kind == "zip" && m.keepNewer {
		st.fail = "keep_newer is supported for tar archives only (tend); remove it for a zip"
	}
	if st.fail == "" {
		if st.ids, _, err = m.attrs.resolve(rest); err != nil {
			st.fail = err.Error()
		}
	}
	return st, nil
}

// handlerFailure is Ansible's message when no handler can unpack src.
func (m *unarchiveModule) handlerFailure(why string) string {
	return fmt.Sprintf("Failed to find handler for \"%s\". Make sure the required command to extract the file is installed.\n%s", m.src, why)
}

// Check reads the host and compares the archive with dest (tar --diff;
// for a zip, its unpacked copy in a private temporary directory). A tar
// archive plans plan.Run, which a dry run reports skipped as Ansible 2.14
// does; a zip plans an update only when something differs. An archive
// the host cannot unpack (no unzip, not an archive) plans plan.Run too:
// Ansible then falls back to its tar handlers, which skip in check mode;
// applied, it fails.
func (m *unarchiveModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	st, err := m.inspect(ctx, conn)
	if err != nil {
		return plan.Change{}, fmt.Errorf("unarchive: %s: %w", m.dest, err)
	}
	switch {
	case st.skip != "":
		return plan.Change{Action: plan.None, Skipped: true, Summary: st.skip}, nil
	case st.fail != "":
		return plan.Change{Action: plan.None, Failed: true, Msg: st.fail, Summary: "unarchive: " + st.fail}, nil
	}
	// A zip's dry run registers what Ansible's does, the listing included.
	listed := st.kind == "zip" && m.listFiles
	run, err := m.runUnarchive(ctx, conn, "check", st.kind, listed)
	if err != nil {
		return plan.Change{}, fmt.Errorf("unarchive: %s: %w", m.src, err)
	}
	var names []string
	if listed && run.listRC == "0" {
		names = filterNames(archiveNames(run.listOut), m.include, m.exclude)
	}
	c := plan.Change{Action: plan.Run, Private: st, Data: m.data(st, names)}
	st.same = run.missing == "" && run.diffRC != "2" && run.counted == 0 && len(run.countedLines()) == 0
	what := fmt.Sprintf("%s into %s (%s)", m.src, m.dest, archiveHandlers[st.kind])
	if run.missing != "" {
		// Ansible then tries its tar handlers, which skip in check mode.
		c.Summary = fmt.Sprintf("%s: would fail: the host has no %s", what, run.missing)
		return c, nil
	}
	lines := run.countedLines()
	switch {
	case len(lines) == 0 && run.diffRC == "2":
		c.Summary = fmt.Sprintf("%s: would fail: the host cannot read it: %s", what, firstLine(run.diff))
	case len(lines) > 0:
		c.Summary = fmt.Sprintf("%s: would extract: %s", what, describeDiff(lines, 20))
		if st.kind == "zip" {
			c.Action = plan.Update
		}
	case st.kind == "zip":
		c.Action, c.Summary = plan.None, what+": already unpacked"
	default:
		c.Summary = what + ": already unpacked (tar --diff), nothing to extract"
	}
	if !m.attrs.empty() {
		c.Summary += "; mode, owner and group are then set on every file of the archive"
	}
	return c, nil
}

// describeDiff says what the comparison found, for a reviewer: the
// members missing from dest, then the other differences.
func describeDiff(lines []string, n int) string {
	var missing, other []string
	for _, l := range lines {
		l = strings.TrimPrefix(l, "./")
		if name, ok := strings.CutSuffix(l, ": Warning: Cannot stat: No such file or directory"); ok {
			missing = append(missing, name)
		} else {
			other = append(other, l)
		}
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, fmt.Sprintf("%d missing (%s)", len(missing), strings.ReplaceAll(listSome(missing, n), "; ", ", ")))
	}
	if len(other) > 0 {
		parts = append(parts, listSome(other, n))
	}
	return strings.Join(parts, "; ")
}

// firstLine is s's first line.
func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

// listSome joins the first n of lines, saying how many more there are.
func listSome(lines []string, n int) string {
	if len(lines) <= n {
		return strings.Join(lines, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(lines[:n], "; "), len(lines)-n)
}

// Apply compares and, when something differs, extracts (one command, the
// archive sent once), then sets mode, owner and group on every file of
// the archive and its top directories, as Ansible does.
func (m *unarchiveModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	st, _ := planned.Private.(*unarchiveState)
	if st == nil {
		var err error
		if st, err = m.inspect(ctx, conn); err != nil {
			return plan.Change{}, fmt.Errorf("unarchive: %s: %w", m.dest, err)
		}
	}
	fail := func(msg string, data map[string]any) (plan.Change, error) {
		return plan.Change{Action: plan.None, Failed: true, Msg: msg, Summary: "unarchive: " + msg, Data: data}, nil
	}
	switch {
	case st.skip != "":
		return plan.Change{Action: plan.None, Skipped: true, Summary: st.skip}, nil
	case st.fail != "":
		return fail(st.fail, nil)
	}
	if st.same && m.attrs.empty() && !m.listFiles {
		return plan.Change{Action: plan.None, Data: m.data(st, nil), Summary: fmt.Sprintf("%s: already unpacked in %s", m.src, m.dest)}, nil
	}
	run, err := m.runUnarchive(ctx, conn, "apply", st.kind, true)
	if err != nil {
		return plan.Change{}, fmt.Errorf("unarchive: %s: %w", m.src, err)
	}
	if run.missing != "" {
		return fail(m.handlerFailure("the host has no "+run.missing), nil)
	}
	tool := "tar"
	if st.kind == "zip" {
		tool = "unzip"
	}
	if run.listRC != "0" {
		return fail(m.handlerFailure(fmt.Sprintf("Command \"%s\" could not handle archive: %s", tool, strings.TrimSpace(run.listOut))), nil)
	}
	include := m.include
	if st.kind != "zip" {
		include = nil // tar itself lists only the members asked
	}
	names := filterNames(archiveNames(run.listOut), include, m.exclude)
	if len(names) == 0 && st.kind != "zip" {
		return fail(m.handlerFailure(fmt.Sprintf("Command \"%s\" found no files in archive. Empty archive files are not supported.", tool)), nil)
	}
	data := m.data(st, names)
	changed := run.extRC != "-"
	if changed {
		cmd := run.cmdsUsed.extract
		rc, _ := strconv.Atoi(run.extRC)
		data["extract_results"] = map[string]any{"cmd": cmd, "rc": rc, "out": run.extOut, "err": ""}
		if run.extRC != "0" {
			return fail(fmt.Sprintf("failed to unpack %s to %s", m.src, m.dest), data)
		}
	}
	attrChanges, err := m.setAttrs(ctx, conn, st, names)
	if err != nil {
		return fail(err.Error(), data)
	}
	c := plan.Change{Action: plan.None, Data: data, Summary: fmt.Sprintf("%s: already unpacked in %s", m.src, m.dest)}
	for _, ch := range attrChanges {
		c.Values = append(c.Values, plan.ValueChange{Key: ch.path + " " + ch.attr, Before: ch.before, After: ch.after, Status: sysctlStatusChange})
	}
	if changed || len(attrChanges) > 0 {
		c.Action = plan.Update
		c.Summary = fmt.Sprintf("%s: unpacked into %s (%s)", m.src, m.dest, describeDiff(run.countedLines(), 10))
		if !changed {
			c.Summary = fmt.Sprintf("%s: %s of the archive's files changed in %s", m.src, pluralize(int64(len(attrChanges)), "attribute"), m.dest)
		}
	}
	return c, nil
}

// setAttrs gives every file of the archive (and its top directories) the
// mode, owner and group asked: one read, one change.
func (m *unarchiveModule) setAttrs(ctx context.Context, conn transport.Conn, st *unarchiveState, names []string) ([]attrChange, error) {
	if m.attrs.empty() {
		return nil, nil
	}
	seen := map[string]bool{}
	var ops []fsOp
	add := func(rel string) {
		p := path.Join(m.dest, rel)
		// "" is dest itself: a member --strip-components emptied, to which
		// Ansible applies the attributes too.
		if !seen[p] && (p == m.dest || strings.HasPrefix(p, m.dest+"/")) {
			seen[p] = true
			ops = append(ops, fsOp{"lstat", p})
		}
	}
	for _, n := range names {
		add(n)
	}
	for _, n := range names {
		if top, _, ok := strings.Cut(n, "/"); ok {
			add(top)
		}
	}
	if len(ops) == 0 {
		return nil, nil
	}
	ans, _, err := fsProbe(ctx, conn, ops)
	if err != nil {
		return nil, err
	}
	var steps []fsStep
	var changes []attrChange
	for _, a := range ans {
		if a.status != "ok" {
			continue // excluded, or kept newer
		}
		s, c := m.attrs.attrPlan(a.entry, st.ids, a.entry.Type == 'l')
		steps, changes = append(steps, s...), append(changes, c...)
	}
	if err := fsChange(ctx, conn, steps); err != nil {
		return nil, err
	}
	return changes, nil
}

// data is what unarchive registers: Ansible's keys, dest's own stat
// among them.
func (m *unarchiveModule) data(st *unarchiveState, names []string) map[string]any {
	d := map[string]any{
		"dest": m.dest, "src": m.src, "handler": archiveHandlers[st.kind],
		"state": "directory", "uid": st.dest.UID, "gid": st.dest.GID,
		"owner": st.dest.User, "group": st.dest.Group, "mode": octalMode(st.dest.Mode), "size": st.dest.Size,
	}
	if m.listFiles && names != nil {
		files := make([]any, len(names))
		for i, n := range names {
			files[i] = n
		}
		d["files"] = files
	}
	return d
}
