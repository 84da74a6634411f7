package template

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestRender(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"plain text", "plain text"},
		{"echo ${#arr[@]}", "echo ${#arr[@]}"},
		{"{{ count }}", 5},
		{"{{count}}", 5},
		{"{{ ports }}", []any{22, 80, 443}},
		{"{{ mode }}", "0755"},
		{"{{ nothing }}", nil},
		{" {{ count }}", " 5"},
		{"port={{ ports[1] }} host={{ name }}", "port=80 host=web1"},
		{"{{ ratio }}x", "2.5x"},
		{"{{ count > 3 }}!", "True!"},
		{"[{{ nothing }}]", []any{}}, // "[]" reads as a list, as in Ansible
		{"[{{ name }}]", "[web1]"},
		{"{{ ports }} ports", "[22, 80, 443] ports"},
		{"{{ {'a': 1} }}", dict("a", 1)},
		{"{{ '}}' }}", "}}"},
		{"{{ missing | default('d') }}-{{ count }}", "d-5"},
		{"{{ r.stdout | quote }}", "'hello world'"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Render(tt.in, testVars())
			if err != nil {
				t.Fatalf("Render(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Render(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"{% macro m() %}x{% endmacro %}", "macros are not supported"},
		{"a {{ count }} {% endif %}", "{% endif %} without its opening statement"},
		{"{% if count %}y", "{% if %} needs {% endif %}"},
		{"{% if x %}y{% endif %}", `undefined variable "x"`},
		{"{{ count", "unterminated {{"},
		{"{{ }}", "empty {{ }}"},
		{"x {{ mq_prot }}", `undefined variable "mq_prot"`},
		{"{{ count | nope }}", `unknown filter "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Render(tt.in, testVars())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Render(%q) error = %v, want %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestRenderNode(t *testing.T) {
	src := `
name: "{{ name }}"
mode: "{{ mode }}"
count: "{{ count }}"
ports: "{{ ports }}"
result: "{{ r.get('changed') }}"
literal: 0755
"{{ key }}": kept
list:
  - a-{{ count }}
  - &anchor {x: "{{ big }}"}
  - *anchor
`
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	orig, _ := yaml.Marshal(&doc)
	got, err := RenderNode(doc.Content[0], testVars())
	if err != nil {
		t.Fatal(err)
	}
	after, _ := yaml.Marshal(&doc)
	if string(orig) != string(after) {
		t.Error("RenderNode modified its input")
	}
	get := func(key string) *yaml.Node {
		for i := 0; i+1 < len(got.Content); i += 2 {
			if got.Content[i].Value == key {
				return got.Content[i+1]
			}
		}
		t.Fatalf("key %q missing", key)
		return nil
	}
	tests := []struct {
		key, tag, value string
		line, col       int
	}{
		{"name", "!!str", "web1", 2, 7},
		{"mode", "!!str", "0755", 3, 7},
		{"count", "!!int", "5", 4, 8},
		{"result", "!!bool", "true", 6, 9},
		{"literal", "!!int", "0755", 7, 10},
		{"{{ key }}", "!!str", "kept", 8, 14},
	}
	for _, tt := range tests {
		n := get(tt.key)
		if n.Tag != tt.tag || n.Value != tt.value || n.Line != tt.line || n.Column != tt.col {
			t.Errorf("%s = %s %q at %d:%d, want %s %q at %d:%d", tt.key, n.Tag, n.Value, n.Line, n.Column, tt.tag, tt.value, tt.line, tt.col)
		}
	}
	ports := get("ports")
	if ports.Kind != yaml.SequenceNode || len(ports.Content) != 3 || ports.Content[2].Value != "443" || ports.Content[2].Line != 5 {
		t.Errorf("ports rendered as %+v", ports)
	}
	list := get("list")
	if list.Content[0].Value != "a-5" || list.Content[2].Kind != yaml.MappingNode || list.Content[2].Content[1].Value != "7" {
		t.Errorf("list rendered wrong: %q, alias %+v", list.Content[0].Value, list.Content[2])
	}
}

func TestRenderNodeError(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("a: ok\nb:\n  - \"{{ mq_prot }}\"\n"), &doc); err != nil {
		t.Fatal(err)
	}
	_, err := RenderNode(&doc, testVars())
	var ne *NodeError
	var ue *UndefinedError
	if !errors.As(err, &ne) || ne.Line != 3 || ne.Column != 5 || !errors.As(err, &ue) || ue.Name != "mq_prot" {
		t.Fatalf("error = %v, want a NodeError at 3:5 wrapping undefined mq_prot", err)
	}
	if n, err := RenderNode(nil, nil); n != nil || err != nil {
		t.Errorf("RenderNode(nil) = %v, %v", n, err)
	}
}

func TestValueNode(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{nil, "null\n"},
		{int64(3), "3\n"},
		{uint8(4), "4\n"},
		{1.5, "1.5\n"},
		{"0755", "\"0755\"\n"},
		{"yes", "yes\n"},
		{true, "true\n"},
		{[]any{1, "a"}, "- 1\n- a\n"},
		{map[string]any{"b": 1, "a": []string{"x"}}, "a:\n    - x\nb: 1\n"},
	}
	for _, tt := range tests {
		n, err := ValueNode(tt.v, 1, 1)
		if err != nil {
			t.Fatalf("ValueNode(%#v): %v", tt.v, err)
		}
		out, err := yaml.Marshal(n)
		if err != nil || string(out) != tt.want {
			t.Errorf("ValueNode(%#v) marshals to %q (%v), want %q", tt.v, out, err, tt.want)
		}
	}
}

// FuzzRender asserts that no template or expression text makes the
// translator, compiler or evaluator panic.
func FuzzRender(f *testing.F) {
	for _, s := range []string{"{{ x | default(1) }}", "a {{ b.c[0] is defined }} d", "{{ 'a\\x41' ~ }}", "{{ x if y else z }}", "{{ {'a': [1, 2]} }}", "{% x %}",
		"{% for x in ports if x > 1 %}{{ loop.index }}{% else %}e{% endfor %}", "{%- if a -%} {{- b -}} {%- endif %}", "{% raw %}{{ x }}{% endraw %}", "{# c #}{% set a, b = [1, 2] %}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = Render(s, testVars())
		_, _ = Eval(s, testVars())
		_ = Vars(s)
	})
}
