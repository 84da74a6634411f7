package yamlnode

import (
	"testing"

	"gopkg.in/yaml.v3"
)

// TestBoolAnsible: where a boolean is meant, the strings Ansible's
// boolean() takes are read as it reads them.
func TestBoolAnsible(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{"true", true}, {"True", true}, {"yes", true}, {"Yes", true}, {"on", true}, {"y", true}, {"1", true}, {`"true"`, true},
		{"false", false}, {"FALSE", false}, {"no", false}, {"off", false}, {"n", false}, {"0", false}, {"'no'", false},
	} {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(tc.src), &doc); err != nil {
			t.Fatal(err)
		}
		d := NewDecoder("b.yml")
		got, ok := d.Bool(doc.Content[0], "flag")
		if !ok || got != tc.want || d.Err() != nil {
			t.Errorf("Bool(%s) = %v, %v (%v), want %v", tc.src, got, ok, d.Err(), tc.want)
		}
	}
}
