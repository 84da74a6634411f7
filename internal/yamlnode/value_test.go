package yamlnode

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"tend/internal/omap"
)

func TestDecodeValue(t *testing.T) {
	tests := []struct {
		src  string
		want any
	}{
		{"0755", "0755"},
		{"0o17", "0o17"},
		{"0x1F", "0x1F"},
		{"1_000", "1_000"},
		{"1e3", "1e3"},
		{".5", ".5"},
		{"yes", "yes"},
		{"off", "off"},
		{"2024-01-02", "2024-01-02"},
		{"'42'", "42"},
		{"42", 42},
		{"-7", -7},
		{"1.5", 1.5},
		{"true", true},
		{"False", false},
		{"~", nil},
		{"[1, a, {b: 2}]", []any{1, "a", map[string]any{"b": 2}}},
		{"{a: &x [1], b: *x}", map[string]any{"a": []any{1}, "b": []any{1}}},
		{"!!str 12", "12"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tt.src), &n); err != nil {
				t.Fatal(err)
			}
			got, err := DecodeValue("v.yml", &n)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeValue(%s) = %#v, want %#v", tt.src, got, tt.want)
			}
		})
	}
}

func TestDecodeValueAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a: &a [x, x, x, x, x, x, x, x, x, x]\n")
	prev := "a"
	for i := 0; i < 8; i++ {
		name := string(rune('b' + i))
		b.WriteString(name + ": &" + name + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
		prev = name
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(b.String()), &n); err != nil {
		t.Fatal(err)
	}
	_, err := DecodeValue("v.yml", &n)
	if err == nil || !strings.Contains(err.Error(), "more than 100000 nodes") {
		t.Errorf("alias bomb: err = %v", err)
	}
}

// TestDecodeOrdered: variables decode as DecodeValue does, except that a
// mapping keeps its written order (an *omap.Map), at any depth.
func TestDecodeOrdered(t *testing.T) {
	m := func(kv ...any) *omap.Map {
		out := omap.New(len(kv) / 2)
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i].(string), kv[i+1])
		}
		return out
	}
	tests := []struct {
		src  string
		want any
		err  string
	}{
		{"{z: 0755, a: yes, m: 1}", m("z", "0755", "a", "yes", "m", 1), ""},
		{"[{b: 1, a: [{y: ~, c: 2.5}]}]", []any{m("b", 1, "a", []any{m("y", nil, "c", 2.5)})}, ""},
		{"x: &a {k: 1, c: 2}\ny: *a", m("x", m("k", 1, "c", 2), "y", m("k", 1, "c", 2)), ""},
		{"plain", "plain", ""},
		{"{a: 1, a: 2}", nil, "duplicate key"},
		{"{<<: {a: 1}}", nil, "merge keys"},
		{"{[1]: 2}", nil, "mapping keys must be strings"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tt.src), &doc); err != nil {
				t.Fatal(err)
			}
			got, err := DecodeOrdered("v.yml", &doc)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeOrdered(%s) = %#v, %v; want %#v", tt.src, got, err, tt.want)
			}
		})
	}
}
