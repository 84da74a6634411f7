package yamlnode

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"tend/internal/diag"
)

// TestSyntaxErrorPosition holds one case per kind of message yaml.v3's
// parser produces: the position is where the problem is (the bracket or
// quote left open, the tab, the misindented key), checked against the
// marks yaml.v3 keeps internally.
func TestSyntaxErrorPosition(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // exact "file:line:col: message"
	}{
		{"unclosed flow mapping", "- hosts: all\n  tasks:\n    - name: a\n      command: x\n    - name: b\n      sysctl:\n        settings: {a: 1\n    - name: c\n      command: y\n",
			"f.yml:7:19: malformed YAML: did not find expected ',' or '}' in the flow mapping opened here"},
		{"unclosed flow mapping on line 1", "x: {a: 1,\n    b: 2\nc: 3\n",
			"f.yml:1:4: malformed YAML: did not find expected ',' or '}' in the flow mapping opened here"},
		{"unclosed flow sequence", "a: 1\nb:\n  c: [1, 2,\n     3\nd: 4\n",
			"f.yml:3:6: malformed YAML: did not find expected ',' or ']' in the flow sequence opened here"},
		{"nested flow", "a: {b: [1, {c: 2}, 3}\n",
			"f.yml:1:8: malformed YAML: did not find expected ',' or ']' in the flow sequence opened here"},
		{"tab in indentation", "- hosts: all\n  tasks:\n    - name: a\n      command: x\n\t- name: b\n",
			"f.yml:5:1: malformed YAML: found a tab character that violates indentation (indent with spaces)"},
		{"tab before a key", "all:\n\thosts:\n",
			"f.yml:2:1: malformed YAML: found character that cannot start any token (a tab: indent with spaces)"},
		{"tab in a block scalar", "a: |\n  x\n\ty\n",
			"f.yml:3:1: malformed YAML: found a tab character where an indentation space is expected (indent with spaces)"},
		{"key indented less", "- hosts: all\n  tasks:\n    - name: a\n      command: x\n    - name: b\n      command: y\n    - name: c\n     command: z\n",
			"f.yml:8:6: malformed YAML: did not find expected '-' indicator"},
		{"key indented more", "all:\n  hosts:\n    web1:\n   web2:\n",
			"f.yml:4:4: malformed YAML: did not find expected key"},
		{"list item in a mapping", "a:\n  b: 1\n  - c\n",
			"f.yml:3:3: malformed YAML: did not find expected key"},
		{"mapping in a list", "a: 1\nb:\n  - x\n  y: 2\n",
			"f.yml:4:3: malformed YAML: did not find expected '-' indicator"},
		{"dash without space", "a:\n  - b\n  -c: 1\n",
			"f.yml:3:3: malformed YAML: did not find expected '-' indicator"},
		{"text after a quoted value", "a: 1\nb: \"x\" y\n",
			"f.yml:2:8: malformed YAML: did not find expected key"},
		{"extra closing bracket", "a: 1\nb: [1, 2]]\n",
			"f.yml:2:10: malformed YAML: did not find expected key"},
		{"closing brace as a value", "a: 1\nb: }\n",
			"f.yml:2:4: malformed YAML: did not find expected node content"},
		{"unclosed double quote", "- hosts: all\n  tasks:\n    - name: \"a\n      command: x\n",
			"f.yml:3:13: malformed YAML: quoted string opened here is not closed (found unexpected end of stream)"},
		{"unclosed single quote", "a: 1\nb: 'it''s\n",
			"f.yml:2:4: malformed YAML: quoted string opened here is not closed (found unexpected end of stream)"},
		{"mapping values not allowed", "- hosts: all\n  tasks:\n    - name: a: b\n      command: x\n",
			"f.yml:3:14: malformed YAML: mapping values are not allowed in this context"},
		{"mapping values on line 2", "a: 1\n b: 2\n",
			"f.yml:2:3: malformed YAML: mapping values are not allowed in this context"},
		{"value continued as a key", "a: 1\nb: x\n  c: 2\n",
			"f.yml:3:4: malformed YAML: mapping values are not allowed in this context"},
		{"key without colon", "a: 1\nkey with no colon\nb: 2\n",
			"f.yml:2:1: malformed YAML: could not find expected ':'"},
		{"reserved character", "a: 1\nb: @x\n",
			"f.yml:2:4: malformed YAML: found character that cannot start any token"},
		{"percent", "a: 1\nb: %x\n",
			"f.yml:2:4: malformed YAML: found character that cannot start any token"},
		{"unknown escape", "a: 1\nb: \"x\\qy\"\n",
			"f.yml:2:6: malformed YAML: found unknown escape character"},
		{"unknown escape on line 1", "a: \"\\q\"\n",
			"f.yml:1:5: malformed YAML: found unknown escape character"},
		{"unknown alias", "a: 1\nb: &x 1\nc: *y\n",
			"f.yml:3:4: malformed YAML: unknown anchor 'y' referenced"},
		{"undefined tag handle", "a: 1\nb: !foo!bar x\n",
			"f.yml:2:4: malformed YAML: found undefined tag handle"},
		{"block indentation indicator 0", "a: 1\nb: |0\n  x\n",
			"f.yml:2:5: malformed YAML: found an indentation indicator equal to 0"},
		{"control character", "a: 1\nb: \x01\n",
			"f.yml:2:4: malformed YAML: control characters are not allowed"},
		{"invalid UTF-8", "a: 1\nb: \xff\n",
			"f.yml:2:4: malformed YAML: invalid leading UTF-8 octet"},
		{"column counts characters", "é: {a: 1\n",
			"f.yml:1:4: malformed YAML: did not find expected ',' or '}' in the flow mapping opened here"},
		{"error in a second document", "a: 1\n---\nb: 2\n c: 3\n",
			"f.yml:4:3: malformed YAML: mapping values are not allowed in this context"},
		{"directive after content", "a: 1\n%YAML 1.1\n",
			"f.yml:2:9: malformed YAML: did not find expected <document start>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yml", []byte(tt.src))
			var e *diag.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse error = %v (%T), want a *diag.Error", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse error\n got: %s\nwant: %s", err, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n", "---\n", "~\n"} {
		if root, err := Parse("f.yml", []byte(src)); root != nil || err != nil {
			t.Errorf("Parse(%q) = %v, %v; want nil, nil", src, root, err)
		}
	}
	root, err := Parse("f.yml", []byte("a: 1\n"))
	if err != nil || root == nil || root.Content[0].Value != "a" {
		t.Errorf("Parse(a: 1) = %v, %v", root, err)
	}
	if _, err := Parse("f.yml", []byte("a: 1\n---\nb: 2\n")); err == nil || err.Error() != "f.yml:2:1: found a second YAML document (---); the file must hold one" {
		t.Errorf("two documents: %v", err)
	}
}

// TestSyntaxErrorLargeFile: past the linear scan the position is bisected
// and still exact.
func TestSyntaxErrorLargeFile(t *testing.T) {
	defer func(n int) { linearScan = n }(linearScan)
	linearScan = 2 << 10
	var b strings.Builder
	for i := 0; b.Len() <= linearScan; i++ {
		fmt.Fprintf(&b, "key%d: {a: 1, b: [x, y]}\n", i)
	}
	lines := strings.Count(b.String(), "\n")
	b.WriteString("last:\n  - one\n  two: 2\n")
	_, err := Parse("big.yml", []byte(b.String()))
	want := fmt.Sprintf("big.yml:%d:3: malformed YAML: did not find expected '-' indicator", lines+3)
	if err == nil || err.Error() != want {
		t.Errorf("Parse error\n got: %v\nwant: %s", err, want)
	}
}
