package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/kballard/go-shellquote"
	"gopkg.in/yaml.v3"

	"tend/internal/omap"
)

// parseExtraVars reads -e values as ansible-playbook does: KEY=VALUE pairs
// (values stay strings), @FILE (a YAML or JSON map), or an inline map. As
// with Ansible, a KEY=VALUE argument is split on spaces outside quotes, so
// several pairs fit in one -e; a value with a space must be quoted inside
// the argument (-e 'k="a b"').
func parseExtraVars(specs []string) (map[string]any, error) {
	out := map[string]any{}
	for _, spec := range specs {
		switch {
		case strings.HasPrefix(spec, "@"):
			data, err := os.ReadFile(spec[1:])
			if err != nil {
				return nil, fmt.Errorf("extra-vars: %w", err)
			}
			if err := mergeYAMLMap(out, spec[1:], data); err != nil {
				return nil, err
			}
		case strings.HasPrefix(strings.TrimSpace(spec), "{"):
			if err := mergeYAMLMap(out, "-e", []byte(spec)); err != nil {
				return nil, err
			}
		default:
			words, err := shellquote.Split(spec)
			if err != nil {
				return nil, fmt.Errorf("extra-vars: %q: %w", spec, err)
			}
			for _, w := range words {
				k, v, ok := strings.Cut(w, "=")
				if !ok || !isIdentifier(k) {
					return nil, fmt.Errorf("extra-vars: -e %q: %q is not KEY=VALUE with KEY a variable name%s", spec, w, spaceHint(words))
				}
				out[k] = v
			}
		}
	}
	return out, nil
}

// spaceHint explains, when -e's argument had several words, that -e splits
// on spaces as Ansible does and how to keep a value with spaces whole.
func spaceHint(words []string) string {
	if len(words) < 2 {
		return ""
	}
	return ` (-e splits KEY=VALUE on spaces, as Ansible does: quote a value with spaces inside the argument, -e 'k="a b"', or use -e @file.yml or -e '{"k": "a b"}')`
}

// mergeYAMLMap reads a YAML or JSON mapping of variables into out; a
// mapping in a value keeps its written order (omap.FromYAML).
func mergeYAMLMap(out map[string]any, name string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("extra-vars: %s: %w", name, err)
	}
	v, err := omap.FromYAML(&doc)
	if err != nil {
		return fmt.Errorf("extra-vars: %s: %w", name, err)
	}
	if v == nil {
		return nil // an empty document sets nothing
	}
	m, ok := v.(*omap.Map)
	if !ok {
		return fmt.Errorf("extra-vars: %s: must be a mapping of variables, not %T", name, v)
	}
	for _, k := range m.Keys() {
		if !isIdentifier(k) {
			return fmt.Errorf("extra-vars: %s: %q is not a variable name", name, k)
		}
		out[k], _ = m.Get(k)
	}
	return nil
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
