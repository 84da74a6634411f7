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

// Header returns the comment block that opens the shipped playbook name
// (its purpose, what it does, its variables), without the leading "# ".
func Header(name string) (string, bool) {
	data, ok := Read(name)
	if !ok {
		return "", false
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if !strings.HasPrefix(line, "#") {
			break
		}
		line = strings.TrimPrefix(line, "#")
		b.WriteString(strings.TrimPrefix(line, " "))
	}
	return b.String(), true
}

// Purpose returns the one-line purpose of the shipped playbook name: the
// first sentence of its header, without the "name — " it starts with.
func Purpose(name string) string {
	h, _ := Header(name)
	para, _, _ := strings.Cut(h, "\n\n")
	para = strings.Join(strings.Fields(para), " ")
	if _, rest, ok := strings.Cut(para, " — "); ok {
		para = rest
	}
	if i := strings.Index(para, ". "); i >= 0 {
		para = para[:i+1]
	}
	return para
}
