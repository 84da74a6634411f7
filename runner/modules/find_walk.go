package modules

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"tend/runner/plan"
	"tend/runner/transport"
)

// findRoot is one searched path as the host listed it.
type findRoot struct {
	path, real string
	children   map[string][]fsEntry // by parent path as listed (under path)
	links      map[string]string    // symlink (as listed) → resolved directory
}

// findWalk is one search in progress.
type findWalk struct {
	m        *findModule
	roots    []*findRoot
	now      float64
	files    []fsEntry // matches, with their paths as reached
	examined int
	warnings []string
}

func (m *findModule) run(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	ops, err := m.probeOps()
	if err != nil {
		return plan.Change{}, err
	}
	ans, stderr, err := fsProbe(ctx, conn, ops)
	if err != nil {
		return plan.Change{}, err
	}
	w := &findWalk{m: m}
	w.now, _ = strconv.ParseFloat(ans[0].value, 64)
	ans = ans[2:]
	skipped := map[string]any{}
	per := 3
	if m.follow && m.recurse {
		per = 4
	}
	for i, p := range m.paths {
		a := ans[i*per : (i+1)*per]
		if a[0].status != "ok" || a[0].entry.Type != 'd' {
			skipped[p] = fmt.Sprintf("'%s' is not a directory", p)
			w.warnings = append(w.warnings, fmt.Sprintf("skipped %s: not a directory", p))
			continue
		}
		r := &findRoot{path: p, real: a[1].value, children: map[string][]fsEntry{}, links: map[string]string{}}
		for _, e := range a[2].entries {
			d := path.Dir(e.Path)
			r.children[d] = append(r.children[d], e)
		}
		if per == 4 {
			for j := 0; j+1 < len(a[3].list); j += 2 {
				r.links[a[3].list[j]] = a[3].list[j+1]
			}
		}
		w.roots = append(w.roots, r)
	}
	if stderr != "" {
		w.warnings = append(w.warnings, "some entries could not be read: "+stderr)
	}
	for _, r := range w.roots {
		w.walk(r, r.path, r.path, 1, []string{r.path})
	}
	if m.checksum {
		if err := w.checksums(ctx, conn); err != nil {
			return plan.Change{}, err
		}
	}
	return w.change(skipped), nil
}

// walk visits the entries of directory dir (listed under root r), shown
// under the path they were reached by, as os.walk does for Ansible:
// the entries at depth, then each subdirectory's.
// probeOps checks the paths and returns the walk's one probe: the host's
// time, then each path's entry, where it leads and its tree.
func (m *findModule) probeOps() ([]fsOp, error) {
	for _, p := range m.paths {
		if !path.IsAbs(p) || strings.ContainsRune(p, 0) {
			return nil, fmt.Errorf("path %q must be an absolute path", p)
		}
	}
	ops := []fsOp{{"now", "-"}}
	md := ""
	switch {
	case !m.recurse:
		md = "1"
	case !m.follow && m.depth > 0:
		md = strconv.Itoa(m.depth + 1) // Ansible looks one level past depth
	}
	ops = append(ops, fsOp{"maxdepth", md})
	for _, p := range m.paths {
		ops = append(ops, fsOp{"stat", p}, fsOp{"real", p}, fsOp{"tree", p})
		if m.follow && m.recurse {
			ops = append(ops, fsOp{"dirlinks", p})
		}
	}
	return ops, nil
}

func (w *findWalk) walk(r *findRoot, dir, shown string, depth int, chain []string) {
	kids := append([]fsEntry(nil), r.children[dir]...)
	sort.SliceStable(kids, func(i, j int) bool {
		di, dj := kids[i].Type == 'd', kids[j].Type == 'd'
		if di != dj {
			return !di // files first, then directories
		}
		return kids[i].Path < kids[j].Path
	})
	w.examined += len(kids)
	m := w.m
	type sub struct{ dir, shown string }
	var subs []sub
	for _, e := range kids {
		if m.depth > 0 && depth > m.depth {
			continue
		}
		name := path.Base(e.Path)
		reached := e
		reached.Path = path.Join(shown, name)
		if m.hidden || !strings.HasPrefix(name, ".") {
			if w.match(reached, name) {
				w.files = append(w.files, reached)
			}
		}
		if !m.recurse {
			continue
		}
		switch {
		case e.Type == 'd':
			subs = append(subs, sub{e.Path, reached.Path})
		case e.Type == 'l' && m.follow:
			if target, ok := w.descendable(e, chain); ok {
				subs = append(subs, sub{target, reached.Path})
			}
		}
	}
	for _, s := range subs {
		w.walk(r, s.dir, s.shown, depth+1, append(chain[:len(chain):len(chain)], s.dir))
	}
}

// descendable reports where a followed symlink to a directory leads, as a
// directory listed under the same root, and whether to go there: never
// outside the given paths (nothing there was listed), never into a
// directory being walked already (a loop).
func (w *findWalk) descendable(link fsEntry, chain []string) (string, bool) {
	for _, r := range w.roots {
		real, ok := r.links[link.Path]
		if !ok {
			continue
		}
		var target string
		switch {
		case real == "":
			w.warnings = append(w.warnings, fmt.Sprintf("not followed: %s cannot be resolved", link.Path))
			return "", false
		case real == r.real:
			target = r.path
		case strings.HasPrefix(real, strings.TrimSuffix(r.real, "/")+"/"):
			target = path.Join(r.path, strings.TrimPrefix(real, r.real))
		default:
			w.warnings = append(w.warnings, fmt.Sprintf("not followed: %s leads to %s, outside %s", link.Path, real, r.path))
			return "", false
		}
		for _, c := range chain {
			if c == target || strings.HasPrefix(c, strings.TrimSuffix(target, "/")+"/") {
				w.warnings = append(w.warnings, fmt.Sprintf("not followed: %s loops back to %s", link.Path, real))
				return "", false
			}
		}
		return target, true
	}
	return "", false
}

// match applies Ansible's filters for the file type asked.
func (w *findWalk) match(e fsEntry, name string) bool {
	m := w.m
	switch m.fileType {
	case "file":
		if e.Type != 'f' {
			return false
		}
	case "directory":
		if e.Type != 'd' {
			return false
		}
	case "link":
		if e.Type != 'l' {
			return false
		}
	}
	if !w.nameMatches(name) || !w.ageMatches(e) {
		return false
	}
	if e.Type == 'f' && m.size != nil {
		s := *m.size
		if (s >= 0 && e.Size < s) || (s < 0 && e.Size > -s) {
			return false
		}
	}
	return true
}

func (w *findWalk) nameMatches(name string) bool {
	for _, p := range w.m.patterns {
		if p.MatchString(name) {
			for _, x := range w.m.excludes {
				if x.MatchString(name) {
					return false
				}
			}
			return true
		}
	}
	return false
}

func (w *findWalk) ageMatches(e fsEntry) bool {
	if w.m.age == nil {
		return true
	}
	stamp := e.Mtime
	switch w.m.ageStamp {
	case "atime":
		stamp = e.Atime
	case "ctime":
		stamp = e.Ctime
	}
	age, want := w.now-stamp, float64(*w.m.age)
	if want >= 0 {
		return age >= want
	}
	return age <= -want
}

// checksums hashes the matched regular files (sha1, as Ansible), one command.
func (w *findWalk) checksums(ctx context.Context, conn transport.Conn) error {
	var ops []fsOp
	for _, e := range w.files {
		if e.Type == 'f' {
			ops = append(ops, fsOp{"lsha1", e.Path})
		}
	}
	if len(ops) == 0 {
		return nil
	}
	ans, _, err := fsProbe(ctx, conn, ops)
	if err != nil {
		return err
	}
	sums := map[string]string{}
	for i, a := range ans {
		if a.status == "ok" {
			sums[ops[i].arg] = a.value
		}
	}
	for i := range w.files {
		if s, ok := sums[w.files[i].Path]; ok {
			w.files[i].checksum = s
		}
	}
	return nil
}

// change is the registered result: files, matched, examined, skipped_paths.
func (w *findWalk) change(skipped map[string]any) plan.Change {
	files := make([]any, len(w.files))
	var bytes int64
	var shown []string
	for i, e := range w.files {
		d := e.statData()
		if e.checksum != "" {
			d["checksum"] = e.checksum
		}
		files[i] = d
		if e.Type == 'f' {
			bytes += e.Size
		}
		if i < 5 {
			shown = append(shown, e.Path)
		}
	}
	if len(w.files) > len(shown) {
		shown = append(shown, fmt.Sprintf("... %d more", len(w.files)-len(shown)))
	}
	seen := map[string]bool{}
	warnings := w.warnings[:0]
	for _, x := range w.warnings {
		if !seen[x] {
			seen[x] = true
			warnings = append(warnings, x)
		}
	}
	w.warnings = warnings
	msg := "All paths examined"
	if len(w.warnings) > 0 {
		msg = "Not all paths examined, check warnings for details"
	}
	summary := fmt.Sprintf("%d matched of %d examined (%s in regular files)", len(w.files), w.examined, humanBytes(bytes))
	if len(shown) > 0 {
		summary += ": " + strings.Join(shown, ", ")
	}
	return plan.Change{Action: plan.Read, Summary: summary, Warnings: w.warnings, Data: map[string]any{
		"files": files, "matched": len(w.files), "examined": w.examined, "skipped_paths": skipped, "msg": msg,
	}}
}
