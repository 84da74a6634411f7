package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"tend/runner/transport"
)

// archiveState is what inspect read of the host and planned from it.
type archiveState struct {
	fail          string
	expanded      []string
	expandedExcl  []string
	paths         []string // sorted, exclude_path taken out
	root          string
	must          bool // an archive (tar, zip), not one compressed file
	dest          string
	destExists    bool
	dest0         fsEntry // dest (symlinks followed) when it exists
	targets       []archTarget
	missing       []string
	members       []archMember
	regular, size int64 // regular files among the members (followed for one file), their bytes
	ids           hostIDs
}

// inspect expands the paths, reads them, dest and the owner and group
// asked, and plans the members: the module's decisions, in its order.
func (m *archiveModule) inspect(ctx context.Context, conn transport.Conn) (*archiveState, error) {
	if anyTemplated(m.paths) || anyTemplated(m.exclude) || templated(m.dest) || templated(m.format) {
		return nil, fmt.Errorf("path, exclude_path, dest and format must be rendered")
	}
	var globs []string
	for _, p := range append(append([]string{}, m.paths...), m.exclude...) {
		if isGlob(p) {
			globs = append(globs, p)
		}
	}
	matches, err := expandGlobs(ctx, conn, globs)
	if err != nil {
		return nil, err
	}
	expand := func(v []string) []string {
		out := []string{}
		for _, p := range v {
			if isGlob(p) {
				out = append(out, matches[p]...)
			} else {
				out = append(out, p)
			}
		}
		return out
	}
	st := &archiveState{expanded: expand(m.paths), expandedExcl: expand(m.exclude)}
	excl := map[string]bool{}
	for _, p := range st.expandedExcl {
		excl[p] = true
	}
	var left []string
	for _, p := range st.expanded {
		if !excl[p] {
			left = append(left, p)
		}
	}
	st.paths = distinct(left)
	if len(st.paths) == 0 {
		st.fail = "Error, no source paths were found"
		return st, nil
	}
	st.root = archiveRoot(st.paths)
	st.dest = m.dest
	if st.dest == "" {
		st.dest = st.paths[0] + "." + m.format
	}
	var ops []fsOp
	for _, p := range st.paths {
		ops = append(ops, fsOp{"lstat", p}, fsOp{"stat", p})
	}
	ops = append(ops, fsOp{"stat", st.dest})
	ops = append(ops, m.attrs.ops()...)
	ans, _, err := fsProbe(ctx, conn, ops)
	if err != nil {
		return nil, err
	}
	isDir := map[string]bool{}
	var found []fsEntry
	for i, p := range st.paths {
		l, s := ans[2*i], ans[2*i+1]
		isDir[p] = s.status == "ok" && s.entry.Type == 'd'
		if l.status == "absent" {
			st.missing = append(st.missing, p)
			continue
		}
		st.targets = append(st.targets, archTarget{path: p, isDir: isDir[p]})
		found = append(found, s.entry)
	}
	d := ans[2*len(st.paths)]
	st.destExists, st.dest0 = d.status == "ok", d.entry
	st.must = m.force || anyGlob(m.paths) || isDir[st.paths[0]] || len(st.paths) > 1
	if m.dest == "" && st.must {
		st.fail = `Error, must specify "dest" when archiving multiple files or trees`
		return st, nil
	}
	if m.remove {
		for _, p := range st.paths {
			if isDir[p] && strings.HasPrefix(st.dest, pyJoinSlash(p)) {
				st.fail = "Error, created archive can not be contained in source paths when remove=true"
				return st, nil
			}
		}
	}
	if st.destExists && st.dest0.Type == 'd' {
		st.fail = fmt.Sprintf("Unable to write to %s: it is a directory", st.dest)
		return st, nil
	}
	if st.ids, _, err = m.attrs.resolve(ans[2*len(st.paths)+1:]); err != nil {
		st.fail = err.Error()
		return st, nil
	}
	if len(st.targets) == 0 {
		return st, nil
	}
	if !st.must && m.format != "zip" && m.format != "tar" {
		st.regular, st.size = 1, found[0].Size
		return st, nil
	}
	var trees []fsOp
	for _, t := range st.targets {
		if t.isDir {
			trees = append(trees, fsOp{"tree", t.path})
		}
	}
	if len(trees) > 0 {
		ans, _, err := fsProbe(ctx, conn, trees)
		if err != nil {
			return nil, err
		}
		for i, j := 0, 0; i < len(st.targets); i++ {
			if st.targets[i].isDir {
				st.targets[i].tree = ans[j].entries
				j++
			}
		}
	}
	st.members = archiveMembers(m.format, st.root, st.targets, m.patterns)
	sizes := map[string]fsEntry{}
	for i, t := range st.targets {
		sizes[t.path] = found[i]
		for _, e := range t.tree {
			sizes[strings.TrimSuffix(t.path, "/")+"/"+strings.TrimLeft(strings.TrimPrefix(e.Path, t.path), "/")] = e
		}
	}
	for _, mb := range st.members {
		if e := sizes[mb.path]; e.Type == 'f' {
			st.regular++
			st.size += e.Size
		}
	}
	return st, nil
}

// kind is how the archive is written: one file compressed, or a tar or
// zip of members.
func (m *archiveModule) kind(st *archiveState) string {
	switch {
	case m.format == "zip":
		return "zip"
	case !st.must && m.format != "tar":
		return "compress"
	}
	return "tar"
}

// pairs are archiveScript's FLAG PATH arguments.
func (m *archiveModule) pairs(st *archiveState) []archiveArg {
	if m.kind(st) == "compress" {
		return []archiveArg{{"s", st.targets[0].path}}
	}
	var out []archiveArg
	for _, mb := range st.members {
		f := "m"
		if mb.archived {
			f = "a"
		}
		out = append(out, archiveArg{f, mb.path})
	}
	for _, p := range st.paths {
		out = append(out, archiveArg{"p", p})
	}
	return out
}

// archived is the module's `archived`: what went into the archive.
func (m *archiveModule) archived(st *archiveState) []any {
	out := []any{}
	if m.kind(st) == "compress" {
		return append(out, st.targets[0].path)
	}
	for _, mb := range st.members {
		if mb.archived {
			out = append(out, mb.path)
		}
	}
	return out
}

// formatName is the archive's kind for a reviewer: tar.gz, zip, gz.
func (m *archiveModule) formatName(st *archiveState) string {
	if m.kind(st) == "tar" && m.format != "tar" {
		return "tar." + m.format
	}
	return m.format
}

// newMode is the mode, owner and group the written dest gets: an existing
// dest's (the module truncates it in place), else a new file's, then the
// task's mode, owner and group; and whether that changes an existing dest.
func (m *archiveModule) newMode(st *archiveState) (string, string, []attrChange) {
	var e fsEntry
	if st.destExists {
		e = st.dest0
	} else {
		e = fsEntry{Type: 'f', Mode: 0o666 &^ st.ids.umask, UID: -1, GID: -1, Path: st.dest}
	}
	_, changes := m.attrs.attrPlan(e, st.ids, false)
	mode := e.Mode
	if m.attrs.mode != nil {
		mode = m.attrs.mode.apply(e.Mode, false, st.ids.umask)
	}
	uid, gid := e.UID, e.GID
	if st.ids.uid >= 0 {
		uid = st.ids.uid
	}
	if st.ids.gid >= 0 {
		gid = st.ids.gid
	}
	own := ""
	if uid >= 0 {
		own = strconv.Itoa(uid)
	}
	if gid >= 0 {
		own += ":" + strconv.Itoa(gid)
	}
	if !st.destExists {
		changes = nil
	}
	return fmt.Sprintf("%04o", mode), own, changes
}

// data is what the module registers (dest's stat from entry e when it
// exists, as Ansible adds it to a result naming a dest).
func (m *archiveModule) data(st *archiveState, archived []any, destState string, e *fsEntry) map[string]any {
	strs := func(v []string) []any {
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	}
	d := map[string]any{
		"archived": archived, "dest": st.dest, "dest_state": destState, "arcroot": st.root,
		"missing": strs(st.missing), "expanded_paths": strs(st.expanded), "expanded_exclude_paths": strs(st.expandedExcl),
		"state": "absent",
	}
	if e != nil {
		d["state"] = map[byte]string{'d': "directory", 'l': "link"}[e.Type]
		if d["state"] == "" {
			d["state"] = "file"
		}
		d["uid"], d["gid"], d["owner"], d["group"] = e.UID, e.GID, e.User, e.Group
		d["mode"], d["size"] = octalMode(e.Mode), e.Size
	}
	return d
}

// what says what is archived where, for a reviewer.
func (m *archiveModule) what(st *archiveState) string {
	src := strings.Join(st.paths, ", ")
	if len(st.paths) > 3 {
		src = fmt.Sprintf("%s and %d more", strings.Join(st.paths[:3], ", "), len(st.paths)-3)
	}
	n := pluralize(st.regular, "file")
	if k := int64(len(st.members)) - st.regular; k > 0 && m.kind(st) != "compress" {
		n += fmt.Sprintf(" and %s", pluralize(k, "other entry"))
	}
	s := fmt.Sprintf("%s (%s) of %s into %s (%s)", n, humanBytes(st.size), src, st.dest, m.formatName(st))
	if len(st.missing) > 0 {
		s += fmt.Sprintf("; missing: %s", strings.Join(st.missing, ", "))
	}
	return s
}
