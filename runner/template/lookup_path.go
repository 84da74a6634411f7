package template

import (
	"os"
	"path/filepath"
	"strings"
)

// SearchPathVar is the variable holding where a task's lookups look for a
// relative file name: Ansible's ansible_search_path (the task's role, the
// directory of its file, the playbook's directory), set by the runner.
const SearchPathVar = "ansible_search_path"

// lookupCandidates is where the file and first_found lookups look for
// name, in order, as ansible-core's DataLoader.path_dwim_relative_stack
// with the "files" subdirectory: an absolute name (or ~) as it is; a
// relative one under each directory of ansible_search_path, its files/
// first (a task file in a subdirectory of a role's tasks/ looks in the
// role's files/), then under the playbook's directory, its files/ first.
// Without either variable (a template rendered outside a task), a
// relative name is relative to the working directory.
func lookupCandidates(name string, env map[string]any) []string {
	if strings.HasPrefix(name, "~") {
		if home, err := os.UserHomeDir(); err == nil && (name == "~" || strings.HasPrefix(name, "~/")) {
			return []string{filepath.Join(home, name[1:])}
		}
		return []string{name}
	}
	if filepath.IsAbs(name) {
		return []string{name}
	}
	var dirs []string
	if l, ok := env[SearchPathVar].([]any); ok {
		for _, d := range l {
			if s, ok := d.(string); ok && s != "" {
				dirs = append(dirs, s)
			}
		}
	}
	_, inRole := env["role_path"].(string)
	var out []string
	for _, d := range dirs {
		if parent := filepath.Dir(d); inRole && filepath.Base(parent) == "tasks" {
			out = append(out, filepath.Join(filepath.Dir(parent), "files", name), filepath.Join(parent, name))
			continue
		}
		out = append(out, filepath.Join(d, "files", name), filepath.Join(d, name))
	}
	if base, ok := env["playbook_dir"].(string); ok && base != "" {
		out = append(out, filepath.Join(base, "files", name), filepath.Join(base, name))
	}
	if len(out) == 0 {
		return []string{name}
	}
	return out
}

// findLookupFile is the first of name's candidates that is a file (not a
// directory), and the candidates looked at.
func findLookupFile(name string, env map[string]any) (string, []string) {
	cands := lookupCandidates(name, env)
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, cands
		}
	}
	return "", cands
}
