package modules

import (
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// alias is one spelling of an argument that Ansible accepts under several
// names (path, dest, name).
type alias struct {
	key, value string
}

// pickAlias returns the one value given among the spellings, and which key
// held it; two of them given is an error at the second.
func pickAlias(a Args, module string, spellings ...alias) (string, string, error) {
	var got alias
	for _, s := range spellings {
		if s.value == "" {
			continue
		}
		if got.key != "" {
			return "", "", posErr(a.File, argNode(a.Node, s.key), module, "give %s or %s, not both (they are the same argument)", got.key, s.key)
		}
		got = s
	}
	return got.value, got.key, nil
}

// argNode is the value node of key in the arguments, or the arguments.
func argNode(n *yaml.Node, key string) *yaml.Node {
	return sysctlArgValue(n, key, n)
}

// templated reports whether s still holds an unrendered template (the
// playbook is being checked before any host is known).
func templated(s string) bool { return yamlnode.IsTemplateText(s) }

// checkRemotePath validates a path on the host: absolute, no NUL; it is
// returned cleaned (no trailing slash, no "." or ".." parts), so "dir/" and
// "link/" name the directory entry itself, never a symlink's target.
func checkRemotePath(a Args, module, key, p string) (string, error) {
	if templated(p) {
		return p, nil
	}
	if p == "" {
		return "", posErr(a.File, a.Node, module, "%s is required", key)
	}
	if strings.ContainsRune(p, 0) {
		return "", posErr(a.File, argNode(a.Node, key), module, "%s: a path cannot hold a NUL byte", key)
	}
	if !path.IsAbs(p) {
		return "", posErr(a.File, argNode(a.Node, key), module, "%s %q must be an absolute path", key, p)
	}
	return path.Clean(p), nil
}

// listArg splits a list argument given as one comma-separated scalar, as
// Ansible's list type does ("*.log,*.gz").
func listArg(n *yaml.Node, key string, vals []string) []string {
	v := sysctlArgValue(n, key, nil)
	if v == nil || v.Kind != yaml.ScalarNode || len(vals) != 1 || templated(vals[0]) {
		return vals
	}
	var out []string
	for _, s := range strings.Split(vals[0], ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// modeArg parses the mode argument, positioned at its value.
func modeArg(a Args, module, s string) (*fileMode, error) {
	if s == "" || templated(s) {
		return nil, nil
	}
	m, err := parseFileMode(s)
	if err != nil {
		return nil, posErr(a.File, argNode(a.Node, "mode"), module, "%v", err)
	}
	return m, nil
}

// plural says "1 file", "2 files".
func pluralize(n int64, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// humanBytes renders a byte count for a reviewer: "1.5 MiB (1572864 bytes)".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB (%d bytes)", float64(n)/float64(div), "KMGTPE"[exp], n)
}
