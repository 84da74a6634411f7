package runner

import (
	"strings"
	"testing"

	"tend/runner/playbook"
)

// TestTagsSelect follows ansible-core 2.14's Taggable.evaluate_tags.
func TestTagsSelect(t *testing.T) {
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, ",")
	}
	for _, c := range []struct {
		tags, only, skip string
		want             bool
	}{
		{"", "all", "", true},
		{"a", "all", "", true},
		{"never", "all", "", false},
		{"never,a", "all", "", false},
		{"never,a", "a", "", true}, // asked for by another tag
		{"never", "never", "", true},
		{"always", "b", "", true},
		{"a", "b", "", false},
		{"a,b", "b", "", true},
		{"", "b", "", false},
		{"", "untagged", "", true},
		{"a", "untagged", "", false},
		{"a", "tagged", "", true},
		{"", "tagged", "", false},
		{"never,a", "tagged", "", false},
		{"a", "all", "a", false},
		{"a,b", "all", "b", false},
		{"always", "all", "always", false},
		{"always,a", "all", "a", false},
		{"always", "all", "all", true}, // --skip-tags all spares always
		{"always", "all", "all,always", false},
		{"", "all", "all", false},
		{"a", "all", "tagged", false},
		{"", "all", "tagged", true},
		{"", "all", "untagged", false},
	} {
		if got := tagsSelect(split(c.tags), split(c.only), split(c.skip)); got != c.want {
			t.Errorf("task tags [%s], --tags %q, --skip-tags %q: run %v, want %v", c.tags, c.only, c.skip, got, c.want)
		}
	}
}

func TestSelectTagsDefault(t *testing.T) {
	tasks := []*playbook.Task{{Name: "a"}, {Name: "b", Tags: []string{"never"}}, {Name: "c", Tags: []string{"x"}}}
	var names []string
	for _, task := range selectTags(tasks, nil, nil) {
		names = append(names, task.Name)
	}
	if strings.Join(names, ",") != "a,c" {
		t.Errorf("no --tags: ran %v, want a,c (never-tagged tasks drop out)", names)
	}
}
