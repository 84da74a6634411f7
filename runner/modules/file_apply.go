package modules

import (
	"context"
	"fmt"
	"strings"

	"tend/runner/plan"
	"tend/runner/transport"
)

// Verifiable: touch always changes the times, so its recheck would always
// find a change; every other state is re-checked after apply.
func (m *fileModule) Verifiable() bool { return m.state != "touch" }

// change renders the plan: each attribute as `old → new`, a deletion with
// what it removes.
func (m *fileModule) change(st *fileState) plan.Change {
	c := plan.Change{Action: plan.None, Summary: m.path + ": ok"}
	state := m.state
	if state == "" {
		state = "file"
		if st.exists && st.entry.Type == 'd' {
			state = "directory"
		}
	}
	c.Data = map[string]any{"path": m.path, "state": state}
	if len(st.steps) == 0 {
		if state == "absent" {
			c.Summary = m.path + ": already absent"
		}
		return c
	}
	c.Action = plan.Update
	if st.srcMissing != "" {
		c.Warnings = append(c.Warnings, st.srcMissing+": an earlier task must create it")
	}
	if n := st.deleted; n != nil {
		what := entryKind(st.entry.Type)
		if st.entry.Type == 'l' {
			what = "symlink to " + st.entry.LinkTarget + " (the link only; its target is kept)"
		}
		before := what
		if st.entry.Type == 'd' {
			before = fmt.Sprintf("directory: %s", n.describe())
		} else if st.entry.Type == 'f' {
			before = fmt.Sprintf("file, %s", humanBytes(n.bytes))
		}
		c.Values = append(c.Values, plan.ValueChange{Key: m.path, Before: before, After: "absent", Status: sysctlStatusChange})
		c.Summary = fmt.Sprintf("would delete %s (%s)", m.path, before)
		if st.entry.Type == 'd' {
			c.Summary = fmt.Sprintf("would delete %s: %s", m.path, n.describe())
			c.Values[0].Note = "would delete:\n  " + strings.Join(n.paths, "\n  ")
			if total := n.files + n.dirs + n.links + n.other; total > int64(len(n.paths)) {
				c.Values[0].Note += fmt.Sprintf("\n  ... and %d more", total-int64(len(n.paths)))
			}
		}
		paths := make([]any, len(n.paths))
		for i, p := range n.paths {
			paths[i] = p
		}
		c.Data["deleted"] = map[string]any{"files": n.files, "directories": n.dirs, "links": n.links,
			"other": n.other, "bytes": n.bytes, "paths": paths}
		return c
	}
	for _, ch := range st.changes {
		key := ch.attr
		if ch.path != m.path {
			key = ch.path + ": " + ch.attr
		}
		c.Values = append(c.Values, plan.ValueChange{Key: key, Before: ch.before, After: ch.after, Status: sysctlStatusChange})
	}
	var parts []string
	parts = append(parts, st.what...)
	if n := len(st.changes); n > 0 && len(st.what) == 0 {
		parts = append(parts, fmt.Sprintf("change %s", pluralize(int64(n), "attribute")))
	}
	if len(parts) == 0 {
		parts = []string{"change"}
	}
	c.Summary = fmt.Sprintf("%s: would %s", m.path, strings.Join(parts, ", "))
	return c
}

// describe says what a directory deletion removes.
func (n *treeCount) describe() string {
	s := fmt.Sprintf("%s, %s, %s", pluralize(n.files, "file"), pluralize(n.dirs, "directory"), pluralize(n.links, "symlink"))
	s = strings.Replace(s, "directorys", "directories", 1)
	if n.other > 0 {
		s += ", " + pluralize(n.other, "other entry")
	}
	return s + ", freeing " + humanBytes(n.bytes) + " (symlinks not followed)"
}

// Apply makes the planned steps in one remote command. Without a plan from
// Check (a saved plan) it inspects the host again.
func (m *fileModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	st, _ := planned.Private.(*fileState)
	if st == nil {
		var err error
		if st, err = m.inspect(ctx, conn); err != nil {
			return plan.Change{}, fmt.Errorf("file: %s: %w", m.path, err)
		}
	}
	c := m.change(st)
	if st.srcMissing != "" {
		c.Failed, c.Msg = true, fmt.Sprintf("file: %s: %s", m.path, st.srcMissing)
		return c, nil
	}
	if err := fsChange(ctx, conn, st.steps); err != nil {
		c.Failed, c.Msg = true, fmt.Sprintf("file: %s: %v", m.path, err)
		return c, nil
	}
	c.Summary = strings.Replace(c.Summary, "would ", "done: ", 1)
	return c, nil
}
