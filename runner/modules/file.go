package modules

import (
	"context"
	"fmt"
	"path"
	"strings"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// fileSpec sets a path's state: Ansible's file module (file, directory,
// absent, touch, link, hard; mode, owner, group, recurse). Its dry run says
// what would be created or deleted (a directory: how many entries and bytes)
// and each attribute's old → new, read from the host.
var fileSpec = Spec{New: newFile, Verifiable: true}

type fileArgs struct {
	Path    string `yaml:"path"`
	Dest    string `yaml:"dest"`
	Name    string `yaml:"name"`
	State   string `yaml:"state"`
	Src     string `yaml:"src"`
	Mode    string `yaml:"mode"`
	Owner   string `yaml:"owner"`
	Group   string `yaml:"group"`
	Recurse bool   `yaml:"recurse"`
	Force   bool   `yaml:"force"`
	Follow  *bool  `yaml:"follow"`
}

// fileStates are the states file knows.
var fileStates = []string{"file", "directory", "absent", "touch", "link", "hard"}

type fileModule struct {
	path    string
	state   string // "" means: as the path is now (file when absent), as Ansible
	src     string
	attrs   fileAttrs
	recurse bool
	force   bool
	follow  bool
}

func newFile(a Args) (Module, error) {
	var args fileArgs
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	fail := func(key, format string, v ...any) (Module, error) {
		return nil, posErr(a.File, argNode(a.Node, key), "file", format, v...)
	}
	p, key, err := pickAlias(a, "file", alias{"path", args.Path}, alias{"dest", args.Dest}, alias{"name", args.Name})
	if err != nil {
		return nil, err
	}
	if key == "" {
		key = "path"
	}
	m := &fileModule{state: args.State, src: args.Src, recurse: args.Recurse, force: args.Force, follow: true,
		attrs: fileAttrs{owner: args.Owner, group: args.Group}}
	switch {
	case strings.HasPrefix(p, "~"):
		return fail(key, "%s %q: tend expands no ~ (give the absolute path)", key, p)
	case relativePath(p):
		m.path = path.Clean(p) // resolved on the host when the task runs (filecwd.go)
	default:
		if m.path, err = checkRemotePath(a, "file", key, p); err != nil {
			return nil, err
		}
	}
	if args.Follow != nil {
		m.follow = *args.Follow
	}
	if m.attrs.mode, err = modeArg(a, "file", args.Mode); err != nil {
		return nil, err
	}
	if m.state != "" && !templated(m.state) && !contains(fileStates, m.state) {
		return fail("state", "state must be one of %s, not %q", strings.Join(fileStates, ", "), m.state)
	}
	if m.state == "" {
		switch {
		case m.recurse:
			m.state = "directory"
		case m.src != "":
			m.state = "link"
		}
	}
	switch {
	case m.path == "/" && m.state == "absent":
		return fail(key, "refusing to delete /")
	case (m.state == "link" || m.state == "hard") && m.src == "":
		return fail("state", "state: %s needs src (what the link points to)", m.state)
	case m.src != "" && m.state != "link" && m.state != "hard" && !templated(m.state):
		return fail("src", "src is only for state: link or hard")
	case m.recurse && m.state != "directory" && !templated(m.state):
		return fail("recurse", "recurse is only for state: directory")
	case m.state == "absent" && !m.attrs.empty():
		return fail("state", "mode, owner and group have no meaning with state: absent")
	case strings.ContainsRune(m.src, 0):
		return fail("src", "src cannot hold a NUL byte")
	case m.state == "hard" && !templated(m.src) && !path.IsAbs(m.src):
		return fail("src", "src %q of a hard link must be an absolute path", m.src)
	}
	return m, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fileState is what Check found and would do; Apply consumes it.
type fileState struct {
	entry   fsEntry // lstat of path
	exists  bool
	steps   []fsStep
	changes []attrChange
	what    []string // what would be done, for the summary
	deleted *treeCount
	// srcMissing says why a link cannot be made yet (src absent, no force).
	srcMissing string
}

// treeCount is what deleting a path removes.
type treeCount struct {
	files, dirs, links, other int64
	bytes                     int64 // apparent size of regular files
	paths                     []string
}

// fileMaxListed bounds the paths a dry run lists (and registers) for a deletion.
const fileMaxListed = 1000

// Check reads the path, and what state and attributes need, in one remote
// command, and plans.
func (m *fileModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	st, err := m.inspect(ctx, conn)
	if err != nil {
		return plan.Change{}, fmt.Errorf("file: %s: %w", m.path, err)
	}
	c := m.change(st)
	c.Private = st
	return c, nil
}

func (m *fileModule) inspect(ctx context.Context, conn transport.Conn) (*fileState, error) {
	if err := m.resolvePath(ctx, conn); err != nil { // filecwd.go: a relative path
		return nil, err
	}
	ops, err := m.probeOps()
	if err != nil {
		return nil, err
	}
	ans, stderr, err := fsProbe(ctx, conn, ops)
	if err != nil {
		return nil, err
	}
	st := &fileState{exists: ans[0].status == "ok", entry: ans[0].entry}
	followed := ans[1]
	extra := ans[2 : len(ans)-len(m.attrs.ops())]
	ids, _, err := m.attrs.resolve(ans[len(ans)-len(m.attrs.ops()):])
	if err != nil {
		return nil, err
	}
	state := m.state
	if state == "" { // Ansible: the path's current state, else file
		state = "file"
		if st.exists && st.entry.Type == 'd' {
			state = "directory"
		}
	}
	switch state {
	case "absent":
		return st, m.planAbsent(st, extra[0], stderr)
	case "directory":
		return st, m.planDirectory(st, followed, extra, ids)
	case "link", "hard":
		return st, m.planLink(st, state, extra[0], ids)
	}
	return st, m.planFile(st, state, followed, ids)
}

// probeOps checks the path and state and returns the probe's operations:
// the path (as is and followed), what the state needs, the attributes'
// owner and group ids.
func (m *fileModule) probeOps() ([]fsOp, error) {
	if !path.IsAbs(m.path) || strings.ContainsRune(m.path, 0) {
		return nil, fmt.Errorf("path %q must be an absolute path", m.path)
	}
	m.path = path.Clean(m.path)
	if m.path == "/" && m.state == "absent" {
		return nil, fmt.Errorf("refusing to delete /")
	}
	if m.state != "" && !contains(fileStates, m.state) {
		return nil, fmt.Errorf("state must be one of %s, not %q", strings.Join(fileStates, ", "), m.state)
	}
	ops := []fsOp{{"lstat", m.path}, {"stat", m.path}}
	switch m.state {
	case "absent":
		ops = append(ops, fsOp{"tree", m.path})
	case "directory":
		ops = append(ops, fsOp{"missing", m.path})
		if m.recurse {
			ops = append(ops, fsOp{"tree", m.path})
		}
	case "link":
		ops = append(ops, fsOp{"lstat", m.linkSrcPath()})
	case "hard":
		ops = append(ops, fsOp{"stat", m.src})
	}
	return append(ops, m.attrs.ops()...), nil
}

// linkSrcPath is where src lies: relative to the link's directory.
func (m *fileModule) linkSrcPath() string {
	if path.IsAbs(m.src) {
		return m.src
	}
	return path.Join(path.Dir(m.path), m.src)
}

func (m *fileModule) planAbsent(st *fileState, tree fsAnswer, stderr string) error {
	if !st.exists {
		return nil
	}
	n := &treeCount{}
	count := func(e fsEntry) {
		switch e.Type {
		case 'f':
			n.files++
			n.bytes += e.Size
		case 'd':
			n.dirs++
		case 'l':
			n.links++
		default:
			n.other++
		}
		if len(n.paths) < fileMaxListed {
			n.paths = append(n.paths, e.Path)
		}
	}
	count(st.entry)
	if st.entry.Type == 'd' {
		if stderr != "" {
			return fmt.Errorf("cannot list everything a deletion would remove: %s", stderr)
		}
		for _, e := range tree.entries {
			count(e)
		}
	}
	st.deleted = n
	st.steps = []fsStep{{"rm", m.path, ""}}
	return nil
}

// planFile: state file (the path must exist) or touch (created when absent,
// times set to now).
func (m *fileModule) planFile(st *fileState, state string, followed fsAnswer, ids hostIDs) error {
	target, link := st.entry, false
	if st.exists && st.entry.Type == 'l' {
		if m.follow && followed.status == "ok" {
			target = followed.entry
			target.Path = m.path
		} else {
			link = true
		}
	}
	if state == "file" {
		if !st.exists {
			return fmt.Errorf("file is absent, cannot continue (state: touch creates it)")
		}
		if target.Type == 'd' {
			return fmt.Errorf("is a directory, not a file (state: directory)")
		}
	} else if !st.exists || (st.entry.Type == 'l' && m.follow && followed.status != "ok") {
		st.steps = append(st.steps, fsStep{"create", m.path, ""})
		st.what = append(st.what, "create an empty file")
		st.changes = append(st.changes, attrChange{m.path, "state", "absent", "file"})
		target = fsEntry{Type: 'f', Mode: 0o666 &^ ids.umask, UID: -1, GID: -1, Path: m.path}
	}
	if state == "touch" {
		op := "touch"
		if link {
			op = "ltouch"
		}
		st.steps = append(st.steps, fsStep{op, m.path, ""})
		st.what = append(st.what, "set its times to now")
	}
	steps, changes := m.attrs.attrPlan(target, ids, link)
	if target.UID == -1 {
		changes = newAttrs(changes)
	}
	st.steps, st.changes = append(st.steps, steps...), append(st.changes, changes...)
	return nil
}

func (m *fileModule) planDirectory(st *fileState, followed fsAnswer, extra []fsAnswer, ids hostIDs) error {
	dir := st.entry
	if st.exists && dir.Type == 'l' && m.follow && followed.status == "ok" {
		dir = followed.entry
		dir.Path = m.path
	}
	if !st.exists {
		missing := extra[0].list
		for i := len(missing) - 1; i >= 0; i-- {
			st.steps = append(st.steps, fsStep{"mkdir", missing[i], ""})
			e := fsEntry{Type: 'd', Mode: 0o777 &^ ids.umask, UID: -1, GID: -1, Path: missing[i]}
			steps, _ := m.attrs.attrPlan(e, ids, false)
			st.steps = append(st.steps, steps...)
		}
		what := "create the directory"
		if n := len(missing) - 1; n > 0 {
			what += fmt.Sprintf(" and %s", pluralize(int64(n), "missing parent"))
		}
		st.what = append(st.what, what)
		st.changes = append(st.changes, attrChange{m.path, "state", "absent", "directory"})
		e := fsEntry{Type: 'd', Mode: 0o777 &^ ids.umask, UID: -1, GID: -1, Path: m.path}
		_, changes := m.attrs.attrPlan(e, ids, false)
		st.changes = append(st.changes, newAttrs(changes)...)
		return nil
	}
	if dir.Type != 'd' {
		return fmt.Errorf("exists as a %s, not a directory", entryKind(dir.Type))
	}
	steps, changes := m.attrs.attrPlan(dir, ids, false)
	st.steps, st.changes = steps, changes
	if m.recurse {
		for _, e := range extra[1].entries {
			steps, changes := m.attrs.attrPlan(e, ids, e.Type == 'l')
			st.steps, st.changes = append(st.steps, steps...), append(st.changes, changes...)
		}
	}
	return nil
}

func (m *fileModule) planLink(st *fileState, state string, src fsAnswer, ids hostIDs) error {
	if src.status == "absent" && !m.force && state == "link" {
		// A dry run may come before the task that makes src: planned with
		// a warning; Apply refuses while it is still missing.
		st.srcMissing = fmt.Sprintf("src %s does not exist (force: true makes the link anyway)", m.linkSrcPath())
	}
	op := "symlink"
	if state == "hard" {
		op = "hardlink"
		if src.status != "ok" {
			return fmt.Errorf("src %s does not exist", m.src)
		}
		if src.entry.Type == 'd' {
			return fmt.Errorf("src %s is a directory: no hard link to a directory", m.src)
		}
	}
	same := false
	if st.exists {
		switch {
		case state == "link" && st.entry.Type == 'l':
			same = st.entry.LinkTarget == m.src
		case state == "hard" && st.entry.Type != 'd':
			same = st.entry.Inode == src.entry.Inode && st.entry.Dev == src.entry.Dev
			if !same && !m.force {
				return fmt.Errorf("exists as a %s, not a hard link to %s (force: true replaces it)", entryKind(st.entry.Type), m.src)
			}
		case st.entry.Type == 'd':
			if !m.force {
				return fmt.Errorf("refusing to replace a directory with a link (force: true replaces an empty one)")
			}
			st.steps = append(st.steps, fsStep{"rmdir", m.path, ""})
		case !m.force:
			return fmt.Errorf("exists as a %s, not a link (force: true replaces it)", entryKind(st.entry.Type))
		}
	}
	if !same {
		st.steps = append(st.steps, fsStep{op, m.path, m.src})
		before := "absent"
		if st.exists {
			before = entryKind(st.entry.Type)
			if st.entry.Type == 'l' {
				before = "symlink to " + st.entry.LinkTarget
			}
		}
		kind := "symlink to "
		if state == "hard" {
			kind = "hard link to "
		}
		st.changes = append(st.changes, attrChange{m.path, "state", before, kind + m.src})
		st.what = append(st.what, "make it a "+kind+m.src)
	}
	// Owner and group of the link itself; a mode goes to the target (a
	// symlink has none), when it exists.
	e := st.entry
	if !same {
		e = fsEntry{Type: 'l', UID: -1, GID: -1, Path: m.path}
	}
	if state == "hard" {
		e = src.entry
		e.Path = m.path
	}
	steps, changes := fileAttrs{owner: m.attrs.owner, group: m.attrs.group}.attrPlan(e, ids, state == "link")
	if e.UID == -1 {
		changes = newAttrs(changes)
	}
	st.steps, st.changes = append(st.steps, steps...), append(st.changes, changes...)
	if m.attrs.mode != nil && state == "link" && src.status == "ok" && src.entry.Type != 'l' {
		t := src.entry
		steps, changes := fileAttrs{mode: m.attrs.mode}.attrPlan(t, ids, false)
		st.steps, st.changes = append(st.steps, steps...), append(st.changes, changes...)
	}
	return nil
}

// newAttrs marks attribute changes of a path that does not exist yet.
func newAttrs(cs []attrChange) []attrChange {
	for i := range cs {
		cs[i].before = "(new)"
	}
	return cs
}
