package yamlnode

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// flat writes mapping n as "k=v k=v" in its key order (nested mappings in
// braces), to compare merges with what PyYAML builds.
func flat(n *yaml.Node) string {
	n = Resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		var parts []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			parts = append(parts, Resolve(n.Content[i]).Value+"="+flat(n.Content[i+1]))
		}
		return "{" + strings.Join(parts, " ") + "}"
	case yaml.SequenceNode:
		var parts []string
		for _, c := range n.Content {
			parts = append(parts, flat(c))
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return n.Value
}

// TestParseMergeKeys: merge keys are expanded as PyYAML (so Ansible)
// expands them — the mapping's own keys win, the first mapping of a list
// wins, merged keys come first and a key keeps the place of its first
// appearance — and a merge of
// anything but mappings is refused at the value.
func TestParseMergeKeys(t *testing.T) {
	tests := []struct{ src, want string }{
		{"a: &a {x: 1, y: 1}\nb: {<<: *a}", "{x=1 y=1}"},
		{"a: &a {x: 1, y: 1}\nb: {<<: *a, y: 2, z: 3}", "{x=1 y=2 z=3}"},
		{"a: &a {x: 1, y: 1}\nb: {y: 2, <<: *a}", "{x=1 y=2}"}, // merged keys first
		{"a: &a {x: 1, y: 1}\nc: &c {y: 3, w: 3}\nb: {<<: [*a, *c]}", "{y=1 w=3 x=1}"},
		{"a: &a {x: 1}\nc: &c {x: 3}\nb:\n  <<: *a\n  <<: *c", "{x=3}"},
		{"a: &a {x: 1, <<: {q: 9, x: 0}}\nb: {<<: *a}", "{q=9 x=1}"},
		{"a: 0\nb: {<<: {x: 1, y: [1, 2]}, z: 2}", "{x=1 y=[1 2] z=2}"},
		{"a: &a {x: 1}\nb: {'<<': *a}", "{<<={x=1}}"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			root, err := Parse("f.yml", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if got := flat(root.Content[len(root.Content)-1]); got != tt.want {
				t.Errorf("b = %s, want %s", got, tt.want)
			}
		})
	}
	for src, want := range map[string]string{
		"b: {<<: 1}":                "f.yml:1:9: <<: a merge key (<<) needs a mapping or a list of mappings, not",
		"b:\n  <<: [{x: 1}, [2]]\n": "f.yml:2:16: <<: a merge key (<<) needs a mapping or a list of mappings; this list holds",
	} {
		if _, err := Parse("f.yml", []byte(src)); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: got %v, want prefix %q", src, err, want)
		}
	}
}

// TestMergedDuplicates: a key the mapping writes twice is still a
// duplicate after a merge; one that only overrides a merged key is not.
func TestMergedDuplicates(t *testing.T) {
	for src, dups := range map[string]int{
		"a: &a {x: 1}\nb: {<<: *a, x: 2}":       0,
		"a: &a {x: 1}\nb: {<<: *a, x: 2, x: 3}": 1,
		"a: &a {x: 1}\nb: {x: 2, <<: *a, x: 3}": 1,
	} {
		root, err := Parse("f.yml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		d := NewDecoder("f.yml")
		CheckDuplicates(d, root)
		if d.Len() != dups {
			t.Errorf("%q: %d duplicates (%v), want %d", src, d.Len(), d.Err(), dups)
		}
	}
}
