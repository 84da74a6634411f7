// Package playbooks holds the procedures shipped inside the tend binary,
// runnable by name (`tend run mq-closewait`).
package playbooks

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.yml
var files embed.FS

// Read returns the shipped playbook called name (with or without .yml).
func Read(name string) ([]byte, bool) {
	name = strings.TrimSuffix(name, ".yml")
	if strings.ContainsAny(name, "/\\") {
		return nil, false
	}
	b, err := files.ReadFile(name + ".yml")
	return b, err == nil
}

// Names lists the shipped playbooks, without .yml.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yml"))
	}
	sort.Strings(out)
	return out
}
