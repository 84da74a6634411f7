package modules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"tend/runner/plan"
	"tend/runner/transport"
)

// treePlan is what a directory copy would do on one host.
type treePlan struct {
	root    string
	mkdirs  []fsStep // directories to make, parents first, each with its chmod/chown
	writes  []treeWrite
	steps   []fsStep // mode, owner and group after the writes
	changes []attrChange
	newDirs []string
}

// treeWrite is one file a directory copy writes.
type treeWrite struct {
	dest    string
	item    treeItem
	exists  bool
	oldSHA  string // or transport.ExpectAbsent
	old     []byte // the current content of a controller copy's rewritten file, for the diff
	newMode uint32
}

// Check reads the source (on the host with remote_src) and the
// destination tree, and plans every directory, file and attribute.
func (m *copyTreeModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	t, isFile, err := m.source(ctx, conn)
	if err != nil {
		return plan.Change{}, fmt.Errorf("copy: %s: %w", m.src, err)
	}
	if isFile {
		return m.file.Check(ctx, conn)
	}
	p, err := m.plan(ctx, conn, t)
	if err != nil {
		return plan.Change{}, fmt.Errorf("copy: %s: %w", m.root(), err)
	}
	c := m.change(p)
	c.Private = p
	return c, nil
}

func (m *copyTreeModule) source(ctx context.Context, conn transport.Conn) (*treeSrc, bool, error) {
	if m.remote {
		return m.remoteTree(ctx, conn)
	}
	return m.local, false, nil
}

// dirAttrs are the attributes a directory of the copy is given: with
// remote_src the source's mode (Python's copytree), else directory_mode.
func (m *copyTreeModule) dirAttrs(srcMode uint32) fileAttrs {
	a := fileAttrs{owner: m.attrs.owner, group: m.attrs.group, mode: m.dirMode}
	if m.remote {
		a.mode = &fileMode{octal: true, value: srcMode}
	}
	return a
}

// plan compares the source with the destination, in one remote command.
func (m *copyTreeModule) plan(ctx context.Context, conn transport.Conn, t *treeSrc) (*treePlan, error) {
	p := &treePlan{root: m.root()}
	ops := []fsOp{{"missing", p.root}, {"stat", p.root}}
	for _, d := range t.dirs {
		ops = append(ops, fsOp{"stat", path.Join(p.root, d.rel)})
	}
	for _, f := range t.files {
		dst := path.Join(p.root, f.rel)
		ops = append(ops, fsOp{"stat", dst}, fsOp{"sha256", dst})
	}
	ops = append(ops, m.attrs.ops()...)
	ans, _, err := fsProbe(ctx, conn, ops)
	if err != nil {
		return nil, err
	}
	n := 2 + len(t.dirs) + 2*len(t.files)
	ids, _, err := m.attrs.resolve(ans[n:])
	if err != nil {
		return nil, err
	}
	rootSt := ans[1]
	if rootSt.status == "ok" && rootSt.entry.Type != 'd' {
		return nil, fmt.Errorf("exists as a %s, not a directory", entryKind(rootSt.entry.Type))
	}
	if m.remote && !m.force && rootSt.status == "ok" {
		return p, nil // Ansible: "file already exists", nothing done
	}
	base := 0o777 &^ ids.umask
	// The missing directories down to the root, then the source's.
	missing := ans[0].list
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		a := fileAttrs{owner: m.attrs.owner, group: m.attrs.group, mode: m.dirMode}
		if m.remote {
			// Python's copytree gives the root the source's mode, when
			// Ansible uses it: "src/" to a dest given without "/", or
			// "src" to a dest that exists or is given with "/"; else the
			// root is made with the default mode, as are its parents.
			a.mode = nil
			if d == p.root && (m.slash && !m.destSlash || !m.slash && (len(missing) == 1 || m.destSlash)) {
				a = m.dirAttrs(t.mode)
			}
		}
		m.mkdir(p, d, a, base, ids)
	}
	for i, d := range t.dirs {
		dst := path.Join(p.root, d.rel)
		st := ans[2+i]
		switch {
		case st.status != "ok":
			m.mkdir(p, dst, m.dirAttrs(d.mode), base, ids)
		case st.entry.Type != 'd':
			return nil, fmt.Errorf("%s exists as a %s, not a directory", dst, entryKind(st.entry.Type))
		default:
			a := m.dirAttrs(d.mode)
			if m.remote {
				a.mode = nil // Ansible keeps an existing directory's mode
			}
			e := st.entry
			e.Path = dst
			s, ch := a.attrPlan(e, ids, false)
			p.steps, p.changes = append(p.steps, s...), append(p.changes, ch...)
		}
	}
	if m.remote && rootSt.status == "ok" {
		// Owner and group go to the whole tree (chown_recursive), the root included.
		e := rootSt.entry
		e.Path = p.root
		s, ch := fileAttrs{owner: m.attrs.owner, group: m.attrs.group}.attrPlan(e, ids, false)
		p.steps, p.changes = append(p.steps, s...), append(p.changes, ch...)
	}
	for i, f := range t.files {
		dst := path.Join(p.root, f.rel)
		st, sum := ans[2+len(t.dirs)+2*i], ans[3+len(t.dirs)+2*i]
		w := treeWrite{dest: dst, item: f, oldSHA: transport.ExpectAbsent}
		if st.status == "ok" {
			if st.entry.Type != 'f' {
				return nil, fmt.Errorf("%s exists as a %s, not a regular file", dst, entryKind(st.entry.Type))
			}
			if !m.force {
				continue
			}
			w.exists, w.oldSHA = true, sum.value
		}
		a := m.attrs
		if m.remote {
			a.mode = &fileMode{octal: true, value: f.mode} // copymode
		}
		write := !w.exists || w.oldSHA != f.sha
		if m.remote && !write {
			a.mode = nil // an unchanged file keeps its mode
		}
		e := st.entry
		e.Path = dst
		var s []fsStep
		var ch []attrChange
		w.newMode, s, ch = a.newFilePlan(dst, w.exists, e, ids)
		if write && w.exists && !m.remote {
			if w.old, err = transport.ReadFile(ctx, conn, dst); err != nil {
				return nil, fmt.Errorf("reading %s: %w", dst, err)
			}
		}
		if write {
			p.writes = append(p.writes, w)
		}
		p.steps, p.changes = append(p.steps, s...), append(p.changes, ch...)
	}
	if m.remote && m.attrs.mode != nil {
		// Ansible applies mode to the root only.
		e := fsEntry{Type: 'd', Mode: base, UID: -1, GID: -1, Path: p.root}
		if rootSt.status == "ok" {
			e = rootSt.entry
			e.Path = p.root
		}
		s, ch := fileAttrs{mode: m.attrs.mode}.attrPlan(e, ids, false)
		p.steps, p.changes = append(p.steps, s...), append(p.changes, ch...)
	}
	return p, nil
}

// mkdir plans making directory d with attributes a.
func (m *copyTreeModule) mkdir(p *treePlan, d string, a fileAttrs, base uint32, ids hostIDs) {
	p.mkdirs = append(p.mkdirs, fsStep{"mkdir", d, ""})
	p.newDirs = append(p.newDirs, d)
	s, ch := a.attrPlan(fsEntry{Type: 'd', Mode: base, UID: -1, GID: -1, Path: d}, ids, false)
	p.mkdirs = append(p.mkdirs, s...)
	ch = newAttrs(ch)
	if a.mode == nil || a.mode.apply(base, true, ids.umask) == base {
		ch = append(ch, attrChange{d, "mode", "(new)", octalMode(base)})
	} else {
		for i := range ch {
			if ch[i].attr == "mode" {
				ch[i].before = "(new)"
			}
		}
	}
	p.changes = append(p.changes, ch...)
}

// change renders the plan: one diff per file written, every attribute
// old → new, and a summary counting them.
func (m *copyTreeModule) change(p *treePlan) plan.Change {
	c := plan.Change{Action: plan.None, Summary: p.root + ": ok"}
	var created, rewritten int64
	for _, w := range p.writes {
		var diff string
		switch {
		case w.exists && !m.remote:
			rewritten++
			diff = copyDiff(w.dest, w.old, true, w.item.content)
		case w.exists:
			rewritten++
			diff = fmt.Sprintf("rewrite %s: sha256 %s → %s (from %s)\n", w.dest, shortSHA(w.oldSHA), shortSHA(w.item.sha), w.item.path)
		case m.remote:
			created++
			diff = fmt.Sprintf("create %s: a copy of %s (sha256 %s)\n", w.dest, w.item.path, shortSHA(w.item.sha))
		default:
			created++
			diff = copyDiff(w.dest, nil, false, w.item.content)
		}
		c.Files = append(c.Files, plan.FileChange{Path: w.dest, BeforeSHA256: w.oldSHA, Diff: diff})
	}
	for _, ch := range p.changes {
		c.Values = append(c.Values, plan.ValueChange{Key: ch.path + " " + ch.attr, Before: ch.before, After: ch.after, Status: sysctlStatusChange})
	}
	var parts []string
	if len(p.newDirs) > 0 {
		parts = append(parts, "create "+pluralize(int64(len(p.newDirs)), "directory"))
	}
	if created > 0 {
		parts = append(parts, "create "+pluralize(created, "file"))
	}
	if rewritten > 0 {
		parts = append(parts, "rewrite "+pluralize(rewritten, "file"))
	}
	if k := countAttrChanges(p); k > 0 || len(p.steps) > 0 && len(p.writes)+len(p.newDirs) == 0 {
		parts = append(parts, fmt.Sprintf("change %s", pluralize(int64(max(k, 1)), "attribute")))
	}
	if len(parts) > 0 {
		c.Action = plan.Update
		c.Summary = fmt.Sprintf("%s/: would %s", p.root, strings.Join(parts, ", "))
		c.Summary = strings.ReplaceAll(c.Summary, "directorys", "directories")
	}
	files := []string{}
	for _, w := range p.writes {
		files = append(files, w.dest)
	}
	sort.Strings(files)
	c.Data = map[string]any{"dest": m.dest, "src": m.src, "files": files}
	return c
}

func countAttrChanges(p *treePlan) int {
	n := 0
	for _, ch := range p.changes {
		if ch.before != "(new)" {
			n++
		}
	}
	return n
}

func shortSHA(s string) string {
	if len(s) > 16 {
		return s[:16]
	}
	return s
}

// Apply makes the directories, writes each file atomically (refused when
// the file or, with remote_src, its source changed since Check), then sets
// mode, owner and group.
func (m *copyTreeModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	if _, ok := planned.Private.(*copyState); ok || (planned.Private == nil && m.remote) {
		t, isFile, err := m.source(ctx, conn)
		if err != nil {
			return plan.Change{}, fmt.Errorf("copy: %s: %w", m.src, err)
		}
		if isFile {
			return m.file.Apply(ctx, conn, planned)
		}
		return m.applyPlan(ctx, conn, planned, t)
	}
	return m.applyPlan(ctx, conn, planned, m.local)
}

func (m *copyTreeModule) applyPlan(ctx context.Context, conn transport.Conn, planned plan.Change, t *treeSrc) (plan.Change, error) {
	p, _ := planned.Private.(*treePlan)
	if p == nil {
		var err error
		if p, err = m.plan(ctx, conn, t); err != nil {
			return plan.Change{}, fmt.Errorf("copy: %s: %w", m.root(), err)
		}
		before := map[string]string{}
		for _, f := range planned.Files {
			before[f.Path] = f.BeforeSHA256
		}
		for _, w := range p.writes {
			if b, ok := before[w.dest]; ok && b != w.oldSHA {
				return plan.Change{}, &transport.StaleError{Path: w.dest, Want: b, Got: w.oldSHA}
			}
		}
	}
	c := m.change(p)
	if !c.Action.Changes() {
		return c, nil
	}
	failed := func(err error) (plan.Change, error) {
		c.Failed, c.Msg = true, fmt.Sprintf("copy: %s: %v", p.root, err)
		return c, nil
	}
	if err := fsChange(ctx, conn, p.mkdirs); err != nil {
		return failed(err)
	}
	for i, w := range p.writes {
		content := w.item.content
		if m.remote {
			b, err := readRemoteSrc(ctx, conn, w.item.path)
			if err != nil {
				return failed(err)
			}
			if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != w.item.sha {
				return plan.Change{}, &transport.StaleError{Path: w.item.path, Want: w.item.sha, Got: hex.EncodeToString(sum[:])}
			}
			content = b
		}
		mode := fs.FileMode(0o644)
		if w.newMode&0o777 != 0 {
			mode = fs.FileMode(w.newMode & 0o777)
		}
		res, err := transport.WriteFileAtomic(ctx, conn, w.dest, content, transport.WriteOptions{Backup: m.backup, ExpectSHA256: w.oldSHA, Mode: mode})
		if err != nil {
			if _, ok := err.(*transport.StaleError); ok {
				return plan.Change{}, err
			}
			return failed(err)
		}
		c.Files[i].Backup, c.Files[i].InPlace = res.BackupPath, res.InPlace
	}
	if err := fsChange(ctx, conn, p.steps); err != nil {
		return failed(err)
	}
	c.Summary = strings.Replace(c.Summary, "would ", "done: ", 1)
	return c, nil
}
