package oracle

import (
	"context"
	"encoding/base64"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"tend/internal/lab"
)

// PathState is what the harness compares of one path.
type PathState struct {
	Exists bool
	Link   string // symlink target, "" when not a symlink
	Type   string // stat's %F of what the path resolves to: "regular file", "directory", ...
	Mode   string // octal permission bits
	Owner  string // "uid:gid"
	// Content of a regular file.
	Content []byte
	// Stamp is "inode:mtime:ctime" (nanoseconds): never the same on two
	// hosts, so compared only between a host's seed and its dry run.
	Stamp string
}

// State is a host's snapshot for a case.
type State struct {
	Paths map[string]PathState
	// Dirs holds each compared directory's entries, backups left out.
	Dirs map[string][]string
	// Backups holds, for each Backups path, its backup files' names.
	Backups map[string][]string
	// Trees holds each compared tree's entries, one line each:
	// "REL|TYPE|MODE|UID:GID|SHA256" (backups left out), sorted.
	Trees map[string][]string
}

// snapshotScript prints, for each "F:PATH": its symlink target, stat line
// and content (base64, one line each, "-" for none); for each "D:DIR" its
// entries (base64 of ls -A1).
const snapshotScript = `for a in "$@"; do
	p=${a#?:}
	case $a in
	D:*)
		if [ -d "$p" ]; then ls -A1 -- "$p" | base64 -w0; else printf -- -; fi
		echo ;;
	T:*)
		if [ -d "$p" ]; then
			find "$p" -mindepth 1 | LC_ALL=C sort | while IFS= read -r f; do
				s=-
				if [ -f "$f" ] && [ ! -L "$f" ]; then s=$(sha256sum < "$f"); s=${s%% *}; fi
				printf '%s|%s|%s\n' "${f#"$p"/}" "$(stat -c '%F|%a|%u:%g' -- "$f")" "$s"
			done | base64 -w0
		else printf -- -; fi
		echo ;;
	F:*)
		if [ -L "$p" ]; then readlink -- "$p" | base64 -w0; else printf -- -; fi
		echo
		if [ -e "$p" ]; then stat -L -c '%F|%a|%u:%g|%i:%.9Y:%.9Z' -- "$p"; else echo missing; fi
		if [ -f "$p" ]; then base64 -w0 -- "$p"; else printf -- -; fi
		echo ;;
	esac
done`

// Backup names: tend's NAME.tend-backup.STAMP[.N], Ansible's
// NAME.PID.YYYY-MM-DD@HH:MM:SS~.
var ansibleBackup = regexp.MustCompile(`\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$`)

// backupOf reports whether entry name is a backup of base, by either tool.
func backupOf(name, base string) bool {
	rest, ok := strings.CutPrefix(name, base)
	return ok && (strings.HasPrefix(rest, ".tend-backup.") || ansibleBackup.MatchString(rest) && ansibleBackup.FindStringIndex(rest)[0] == 0)
}

// isBackup reports whether name is any backup file.
func isBackup(name string) bool {
	return strings.Contains(name, ".tend-backup.") || ansibleBackup.MatchString(name)
}

func (l *Lab) snapshot(h *lab.Host, c Case) (State, error) {
	st := State{Paths: map[string]PathState{}, Dirs: map[string][]string{}, Backups: map[string][]string{}, Trees: map[string][]string{}}
	argv := []string{"/bin/sh", "-c", snapshotScript, "sh"}
	dirs := append([]string(nil), c.CompareDirs...)
	for _, b := range c.Backups {
		dirs = append(dirs, path.Dir(b))
	}
	for _, p := range c.Compare {
		argv = append(argv, "F:"+p)
	}
	for _, d := range dirs {
		argv = append(argv, "D:"+d)
	}
	for _, d := range c.CompareTrees {
		argv = append(argv, "T:"+d)
	}
	out, _, err := h.Exec(context.Background(), argv...)
	if err != nil {
		return st, fmt.Errorf("oracle: snapshot %s: %w", h.Name, err)
	}
	lines := strings.Split(out, "\n")
	next := func() (string, error) {
		if len(lines) == 0 {
			return "", fmt.Errorf("oracle: snapshot %s: output ends early: %q", h.Name, out)
		}
		s := lines[0]
		lines = lines[1:]
		return s, nil
	}
	dec := func(s string) ([]byte, error) {
		if s == "-" {
			return nil, nil
		}
		return base64.StdEncoding.DecodeString(s)
	}
	for _, p := range c.Compare {
		var f [3]string
		for i := range f {
			if f[i], err = next(); err != nil {
				return st, err
			}
		}
		link, err := dec(f[0])
		if err != nil {
			return st, err
		}
		ps := PathState{Link: strings.TrimSuffix(string(link), "\n")}
		if f[1] != "missing" {
			parts := strings.SplitN(f[1], "|", 4)
			if len(parts) != 4 {
				return st, fmt.Errorf("oracle: snapshot %s: bad stat line %q", h.Name, f[1])
			}
			ps.Exists, ps.Type, ps.Mode, ps.Owner, ps.Stamp = true, parts[0], parts[1], parts[2], parts[3]
		}
		if ps.Content, err = dec(f[2]); err != nil {
			return st, err
		}
		st.Paths[p] = ps
	}
	for i, d := range dirs {
		s, err := next()
		if err != nil {
			return st, err
		}
		b, err := dec(s)
		if err != nil {
			return st, err
		}
		names := strings.Fields(string(b))
		if i < len(c.CompareDirs) {
			var kept []string
			for _, n := range names {
				// Deliberate difference: tend keeps a backup of every file it
				// edits unless told backup: false; Ansible only with
				// backup: true, and names it otherwise. Backups are compared
				// by the backup directive instead.
				if !isBackup(n) {
					kept = append(kept, n)
				}
			}
			st.Dirs[d] = kept
			continue
		}
		b0 := c.Backups[i-len(c.CompareDirs)]
		for _, n := range names {
			if backupOf(n, path.Base(b0)) {
				st.Backups[b0] = append(st.Backups[b0], path.Join(d, n))
			}
		}
		sort.Strings(st.Backups[b0])
	}
	for _, d := range c.CompareTrees {
		s, err := next()
		if err != nil {
			return st, err
		}
		b, err := dec(s)
		if err != nil {
			return st, err
		}
		st.Trees[d] = []string{}
		if b == nil {
			st.Trees[d] = nil // missing
		}
		for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if rel, _, _ := strings.Cut(l, "|"); l != "" && !isBackup(path.Base(rel)) {
				st.Trees[d] = append(st.Trees[d], l)
			}
		}
	}
	return st, nil
}

// untouched lists the paths whose inode, mtime or ctime differ between a
// host's snapshots a and b: a dry run must touch nothing.
func untouched(a, b State) []string {
	var out []string
	for p, x := range a.Paths {
		if y := b.Paths[p]; x.Stamp != y.Stamp {
			out = append(out, fmt.Sprintf("%s: inode:mtime:ctime %s, was %s", p, y.Stamp, x.Stamp))
		}
	}
	sort.Strings(out)
	return out
}

// compareStates lists how b differs from a.
func compareStates(a, b State) []string {
	var out []string
	var paths []string
	for p := range a.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		x, y := a.Paths[p], b.Paths[p]
		switch {
		case x.Exists != y.Exists:
			out = append(out, fmt.Sprintf("%s: exists %v, want %v", p, y.Exists, x.Exists))
		case x.Link != y.Link:
			out = append(out, fmt.Sprintf("%s: symlink to %q, want %q", p, y.Link, x.Link))
		case x.Type != y.Type || x.Mode != y.Mode || x.Owner != y.Owner:
			out = append(out, fmt.Sprintf("%s: %s mode %s owner %s, want %s mode %s owner %s", p, y.Type, y.Mode, y.Owner, x.Type, x.Mode, x.Owner))
		case string(x.Content) != string(y.Content):
			out = append(out, fmt.Sprintf("%s: content differs:\n%s", p, contentDiff(x.Content, y.Content)))
		}
	}
	var dirs []string
	for d := range a.Dirs {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		if strings.Join(a.Dirs[d], " ") != strings.Join(b.Dirs[d], " ") {
			out = append(out, fmt.Sprintf("%s: entries %q, want %q", d, b.Dirs[d], a.Dirs[d]))
		}
	}
	return append(out, compareTrees(a.Trees, b.Trees)...)
}

// compareTrees lists how tree listings b differ from a, entry by entry.
func compareTrees(a, b map[string][]string) []string {
	var out []string
	var roots []string
	for d := range a {
		roots = append(roots, d)
	}
	sort.Strings(roots)
	for _, d := range roots {
		x, y := a[d], b[d]
		if (x == nil) != (y == nil) {
			out = append(out, fmt.Sprintf("%s: exists %v, want %v", d, y != nil, x != nil))
			continue
		}
		want, got := map[string]string{}, map[string]string{}
		var rels []string
		for _, l := range x {
			rel, rest, _ := strings.Cut(l, "|")
			want[rel] = rest
			rels = append(rels, rel)
		}
		for _, l := range y {
			rel, rest, _ := strings.Cut(l, "|")
			got[rel] = rest
			if _, ok := want[rel]; !ok {
				rels = append(rels, rel)
			}
		}
		sort.Strings(rels)
		for _, r := range rels {
			w, okw := want[r]
			g, okg := got[r]
			switch {
			case !okw:
				out = append(out, fmt.Sprintf("%s/%s: extra entry (%s)", d, r, g))
			case !okg:
				out = append(out, fmt.Sprintf("%s/%s: missing, want %s", d, r, w))
			case w != g:
				out = append(out, fmt.Sprintf("%s/%s: %s, want %s", d, r, g, w))
			}
		}
	}
	return out
}

// contentDiff shows both contents, quoted, for a failure message.
func contentDiff(want, got []byte) string {
	return fmt.Sprintf("    ansible: %q\n    tend:    %q", want, got)
}

// compareBackups checks that for each Backups path both tools kept a
// backup, and that every backup Ansible made holds content one of tend's
// holds. (Deliberate difference: tend also backs up the edits of tasks
// without backup: true, so it may have more.)
func (l *Lab) compareBackups(c Case, a, b State) []string {
	var out []string
	for _, p := range c.Backups {
		x, y := a.Backups[p], b.Backups[p]
		if len(x) == 0 || len(y) == 0 {
			out = append(out, fmt.Sprintf("%s: backups: ansible %q, tend %q; want one at least each", p, x, y))
			continue
		}
		have := map[string]bool{}
		for _, f := range y {
			cy, err := readFile(l.tend, f)
			if err != nil {
				out = append(out, fmt.Sprintf("%s: reading tend's backup: %v", p, err))
			}
			have[string(cy)] = true
		}
		for _, f := range x {
			cx, err := readFile(l.ansible, f)
			if err != nil {
				out = append(out, fmt.Sprintf("%s: reading ansible's backup: %v", p, err))
			} else if !have[string(cx)] {
				out = append(out, fmt.Sprintf("%s: ansible's backup %s holds %q; no backup of tend's holds it", p, f, cx))
			}
		}
	}
	return out
}

func readFile(h *lab.Host, p string) ([]byte, error) {
	out, _, err := h.Exec(context.Background(), "base64", "-w0", "--", p)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(strings.TrimSpace(out))
}

// compareOutcomes lists how tend's accounting differs from Ansible's.
func compareOutcomes(ans, tnd Outcome) []string {
	var out []string
	n := max(len(ans.Tasks), len(tnd.Tasks))
	for i := 0; i < n; i++ {
		var x, y string
		if i < len(ans.Tasks) {
			x = ans.Tasks[i].String()
		}
		if i < len(tnd.Tasks) {
			y = tnd.Tasks[i].String()
		}
		if x != y {
			out = append(out, fmt.Sprintf("task %d: tend %q, ansible %q", i+1, y, x))
		}
	}
	if ans.Recap != tnd.Recap {
		out = append(out, fmt.Sprintf("recap: tend %s, ansible %s", tnd.Recap, ans.Recap))
	}
	return out
}
