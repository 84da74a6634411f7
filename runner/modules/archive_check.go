package modules

import (
	"context"
	"fmt"
	"strings"

	"tend/runner/plan"
	"tend/runner/transport"
)

// Check reads the sources and dest and says what Apply would do. Where
// dest exists and there is something to archive, the members of the
// archive the sources would make are compared with dest's, read-only (the
// sources are read, nothing is written): the module's own check mode
// says changed for every archive of several paths and ok for an existing
// compressed file, whatever they hold; tend says what its apply will find.
func (m *archiveModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	st, err := m.inspect(ctx, conn)
	if err != nil {
		return plan.Change{}, fmt.Errorf("archive: %w", err)
	}
	if st.fail != "" {
		return m.failed(st, st.fail, nil), nil
	}
	var dest *fsEntry
	if st.destExists {
		dest = &st.dest0
	}
	if len(st.targets) == 0 {
		return m.attrsOnly(ctx, conn, st, true)
	}
	c := plan.Change{Action: plan.Update, Data: m.data(st, []any{}, "absent", dest)}
	verb := "would write"
	if st.destExists {
		run, err := runArchive(ctx, conn, "check", m.format, m.kind(st), st.dest, st.root, "", "", false, m.pairs(st))
		if err != nil {
			return plan.Change{}, fmt.Errorf("archive: %s: %w", st.dest, err)
		}
		if run.fail != "" {
			return m.failed(st, run.fail, nil), nil
		}
		verb = "would rewrite"
		if run.same {
			_, _, changes := m.newMode(st)
			if len(changes) == 0 && !m.remove {
				// Nothing to do: what an apply registers (the module's
				// apply rewrites dest with the same members).
				return plan.Change{Action: plan.None, Data: m.data(st, m.archived(st), m.destState(st), dest),
					Summary: fmt.Sprintf("%s already holds %s", st.dest, m.what(st))}, nil
			}
			verb = "would keep (same members) and set attributes of"
			if len(changes) == 0 {
				verb = "would keep (same members)"
			}
			c.Values = attrValues(changes)
		}
	}
	c.Summary = fmt.Sprintf("%s %s", verb, m.what(st))
	if m.remove {
		c.Summary += "; then remove the sources"
		if m.kind(st) != "compress" {
			var dirs []string
			for _, t := range st.targets {
				if t.isDir {
					dirs = append(dirs, t.path)
				}
			}
			if len(dirs) > 0 {
				c.Summary += fmt.Sprintf(" (directories whole, as the module does, excluded files with them: %s)", strings.Join(dirs, ", "))
			}
		}
	}
	return c, nil
}

// Verifiable is false with remove: the sources are gone after apply, and
// a glob that matched them then matches nothing, which the module (and
// so tend's Check) fails; there is nothing left to re-check.
func (m *archiveModule) Verifiable() bool { return !m.remove }

// destState is the module's dest_state after writing the archive.
func (m *archiveModule) destState(st *archiveState) string {
	switch {
	case m.kind(st) == "compress":
		return "compress"
	case st.must && len(st.missing) > 0:
		return "incomplete"
	}
	return "archive"
}

// attrValues are attribute changes as plan values.
func attrValues(changes []attrChange) []plan.ValueChange {
	var out []plan.ValueChange
	for _, ch := range changes {
		out = append(out, plan.ValueChange{Key: ch.path + " " + ch.attr, Before: ch.before, After: ch.after, Status: plan.ValueChanged})
	}
	return out
}

// failed is a failed result with the module's keys.
func (m *archiveModule) failed(st *archiveState, msg string, data map[string]any) plan.Change {
	if data == nil {
		data = map[string]any{"expanded_paths": strings.Join(st.expanded, ", "), "expanded_exclude_paths": strings.Join(st.expandedExcl, ", ")}
	}
	return plan.Change{Action: plan.None, Failed: true, Msg: msg, Summary: "archive: " + msg, Data: data}
}

// attrsOnly is the plan (dry) or the result when nothing is to be
// archived: an existing dest keeps its content and gets the mode, owner
// and group asked.
func (m *archiveModule) attrsOnly(ctx context.Context, conn transport.Conn, st *archiveState, dry bool) (plan.Change, error) {
	if !st.destExists {
		return plan.Change{Action: plan.None, Data: m.data(st, []any{}, "absent", nil),
			Summary: fmt.Sprintf("nothing to archive (missing: %s) and no %s", strings.Join(st.missing, ", "), st.dest)}, nil
	}
	state := archiveDestState(st.dest)
	steps, changes := m.attrs.attrPlan(st.dest0, st.ids, false)
	c := plan.Change{Action: plan.None, Summary: fmt.Sprintf("nothing to archive (missing: %s); %s is there", strings.Join(st.missing, ", "), st.dest)}
	e := st.dest0
	if len(changes) > 0 {
		c.Action, c.Values = plan.Update, attrValues(changes)
		if !dry {
			if err := fsChange(ctx, conn, steps); err != nil {
				return m.failed(st, err.Error(), m.data(st, []any{}, state, &e)), nil
			}
			ans, _, err := fsProbe(ctx, conn, []fsOp{{"stat", st.dest}})
			if err != nil {
				return plan.Change{}, fmt.Errorf("archive: %s: %w", st.dest, err)
			}
			e = ans[0].entry
		}
	}
	c.Data = m.data(st, []any{}, state, &e)
	return c, nil
}

// Apply reads the host again (the sources may have changed since the
// plan), writes the archive to a temporary file beside dest, renames it
// over dest when its members differ, and only then removes the sources
// when asked: one command. A failure leaves dest as it was and deletes
// nothing.
func (m *archiveModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	st, err := m.inspect(ctx, conn)
	if err != nil {
		return plan.Change{}, fmt.Errorf("archive: %w", err)
	}
	if st.fail != "" {
		return m.failed(st, st.fail, nil), nil
	}
	if len(st.targets) == 0 {
		return m.attrsOnly(ctx, conn, st, false)
	}
	mode, own, attrChanges := m.newMode(st)
	run, err := runArchive(ctx, conn, "apply", m.format, m.kind(st), st.dest, st.root, mode, own, m.remove, m.pairs(st))
	if err != nil {
		return plan.Change{}, fmt.Errorf("archive: %s: %w", st.dest, err)
	}
	destState := m.destState(st)
	if run.fail != "" {
		return m.failed(st, run.fail, m.data(st, []any{}, "absent", nil)), nil
	}
	data := m.data(st, m.archived(st), destState, &run.dest)
	if len(run.notRemove) > 0 {
		files := make([]any, len(run.notRemove))
		for i, f := range run.notRemove {
			files[i] = f
		}
		data["files"] = files
		msg := "Error deleting some source files: "
		if m.kind(st) == "compress" {
			msg = "Unable to remove source file: " + run.notRemove[0]
		}
		c := m.failed(st, msg, data)
		c.Action = plan.Update
		return c, nil
	}
	c := plan.Change{Action: plan.None, Data: data, Values: attrValues(attrChanges)}
	switch {
	case !run.same:
		c.Action, c.Summary = plan.Update, "wrote "+m.what(st)
	case len(attrChanges) > 0:
		c.Action, c.Summary = plan.Update, fmt.Sprintf("%s already held the same members; attributes set", st.dest)
	default:
		c.Summary = fmt.Sprintf("%s already holds %s", st.dest, m.what(st))
	}
	if m.remove {
		c.Summary += "; sources removed"
		if run.same && len(attrChanges) == 0 {
			c.Action = plan.Update // the module says changed only from the archive; a removal is a change to tend
		}
	}
	return c, nil
}
