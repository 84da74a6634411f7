package template

import (
	"os"
	"strings"

	"tend/internal/searchpath"
)

// SearchPathVar is the variable holding where a task's lookups look for a
// relative file name: Ansible's ansible_search_path (the task's role, the
// directory of its file, the playbook's directory), set by the runner.
const SearchPathVar = "ansible_search_path"

// lookupCandidates is where the file and first_found lookups look for
// name, in order, as ansible-core's find_file_in_search_path: its
// DataLoader.path_dwim_relative_stack over ansible_search_path with the
// "files" subdirectory (searchpath.Stack), the playbook's directory last.
// Without either variable (a template rendered outside a task), a
// relative name is relative to the working directory.
func lookupCandidates(name string, env map[string]any) []string {
	var dirs []string
	if l, ok := env[SearchPathVar].([]any); ok {
		for _, d := range l {
			if s, ok := d.(string); ok && s != "" {
				dirs = append(dirs, s)
			}
		}
	}
	base, _ := env["playbook_dir"].(string)
	if len(dirs) == 0 && base == "" && !strings.HasPrefix(name, "~") {
		return []string{name}
	}
	return searchpath.Stack(dirs, base, "files", name)
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
