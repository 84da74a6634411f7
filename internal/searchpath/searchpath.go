// Package searchpath finds a file named relatively in a playbook the way
// ansible-core's DataLoader does: path_dwim_relative_stack for the files a
// task's action reads (copy's and unarchive's src in files/, template's
// in templates/) and its lookups read.
package searchpath

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Stack is where a task's source file named source is looked for, in
// order, as ansible-core's path_dwim_relative_stack: for each directory
// of stack (Ansible's ansible_search_path: the task's role, the roles
// that depend on it, outwards, then the directory of the task's own file),
// its subdir/ then itself; then basedir's (the playbook's directory)
// subdir/ then itself. A subdir/ is not added when source already starts
// with it. A directory that is a role's tasks/SUB is taken as the role's:
// ROLE/subdir/source, then ROLE/tasks/source. An absolute source or one
// starting with ~ is the only candidate, expanded. Duplicates are dropped.
func Stack(stack []string, basedir, subdir, source string) []string {
	if strings.HasPrefix(source, "~") || filepath.IsAbs(source) {
		return []string{expandHome(source)}
	}
	var out []string
	add := func(p string) {
		for _, o := range out {
			if o == p {
				return
			}
		}
		out = append(out, p)
	}
	withSub := strings.Split(source, "/")[0] != subdir
	for _, d := range stack {
		up := unfrack(d)
		parent := filepath.Dir(up)
		if strings.HasSuffix(parent, "/tasks") && isRole(d) {
			add(filepath.Join(filepath.Dir(parent), subdir, source))
			add(filepath.Join(parent, source))
			continue
		}
		if withSub {
			add(filepath.Join(up, subdir, source))
		}
		add(filepath.Join(up, source))
	}
	if basedir != "" {
		if withSub {
			add(filepath.Join(unfrack(basedir), subdir, source))
		}
		add(filepath.Join(unfrack(basedir), source))
	}
	return out
}

// Find is the first of cands that exists (a file or a directory, as
// Ansible's os.path.exists), or "".
func Find(cands []string) string {
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return ""
}

// reTasks is ansible-core's RE_TASKS: a path whose last element is tasks.
var reTasks = regexp.MustCompile(`(?:^|/)+tasks/?$`)

// isRole is ansible-core's DataLoader._is_role: path looks like a role's
// directory (tasks/ or meta/ with a main file, in it or beside it), or a
// role's tasks/ directory with a main file.
func isRole(path string) bool {
	up, dir := unfrack(path), filepath.Dir(path)
	mains := func(d string) []string {
		return []string{filepath.Join(d, "main.yml"), filepath.Join(d, "main.yaml"), filepath.Join(d, "main")}
	}
	if reTasks.MatchString(path) && anyExists(mains(path)) {
		return true
	}
	var tasked []string
	for _, d := range []string{up, dir} {
		tasked = append(tasked, mains(filepath.Join(d, "tasks"))...)
		tasked = append(tasked, mains(filepath.Join(d, "meta"))...)
	}
	return anyExists(tasked)
}

func anyExists(paths []string) bool {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// unfrack is ansible-core's unfrackpath without following symlinks: ~
// and $VARS expanded, made absolute, cleaned.
func unfrack(p string) string {
	p = expandHome(os.ExpandEnv(p))
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return filepath.Clean(p)
}

// expandHome expands a leading ~ or ~/ to the home directory.
func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}
