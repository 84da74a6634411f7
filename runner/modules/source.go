package modules

import (
	"fmt"
	"path/filepath"
	"strings"

	"tend/internal/searchpath"
)

// sourceCandidates is where a controller source file src is looked for,
// in order, as ansible-core's action plugins do (_find_needle: the task's
// search path through DataLoader.path_dwim_relative_stack), with subdir
// "files" (copy, unarchive) or "templates" (template): for a role's task
// ROLE/subdir/SRC and ROLE/SRC first (then those of the roles it was
// loaded from), then beside the task's file, then beside the playbook.
func (a Args) sourceCandidates(subdir, src string) []string {
	stack, base := a.SearchPath, a.BaseDir
	if len(stack) == 0 && base == "" {
		d := filepath.Dir(a.File)
		stack, base = []string{d}, d
	}
	return searchpath.Stack(stack, base, subdir, src)
}

// findSource is the first candidate for src that exists (a file or a
// directory), or an error naming where it looked.
func (a Args) findSource(subdir, src string) (string, error) {
	cands := a.sourceCandidates(subdir, src)
	if p := searchpath.Find(cands); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("src %q not found (looked in %s)", src, strings.Join(cands, ", "))
}
