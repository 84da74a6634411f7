package playbook

import (
	"errors"
	"strings"
	"testing"
)

// TestParseSyntaxErrorPositions: a YAML syntax error in a playbook is
// reported at the line and column of the problem, not one line early at
// column 1 (the cases of the report that found it, and one per kind).
func TestParseSyntaxErrorPositions(t *testing.T) {
	head := "- hosts: all\n  tasks:\n    - name: a\n      command: x\n"
	tests := []struct{ name, src, want string }{
		{"unclosed { on line 7", head + "    - name: b\n      sysctl:\n        settings: {a: 1\n    - name: c\n      command: y\n",
			"pb.yml:7:19: malformed YAML: did not find expected ',' or '}' in the flow mapping opened here"},
		{"tab at line 5 column 1", head + "\t- name: b\n      command: y\n",
			"pb.yml:5:1: malformed YAML: found a tab character that violates indentation (indent with spaces)"},
		{"bad indent on line 8 column 6", head + "    - name: b\n      command: y\n    - name: c\n     command: z\n",
			"pb.yml:8:6: malformed YAML: did not find expected '-' indicator"},
		{"unclosed quote", head + "    - name: \"b\n      command: y\n",
			"pb.yml:5:13: malformed YAML: quoted string opened here is not closed (found unexpected end of stream)"},
		{"mapping value in a value", head + "    - name: b: c\n      command: y\n",
			"pb.yml:5:14: malformed YAML: mapping values are not allowed in this context"},
		{"unclosed [", head + "    - name: b\n      notify: [h\n      command: y\n",
			"pb.yml:6:15: malformed YAML: did not find expected ',' or ']' in the flow sequence opened here"},
		{"duplicate key", head + "    - name: b\n      command: y\n      name: c\n",
			"pb.yml:7:7: name: duplicate key (first at line 5, again at line 7)"},
		{"second document", head + "---\n- hosts: b\n",
			"pb.yml:5:1: a playbook is one YAML document; found a second one (---)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("pb.yml", []byte(tt.src), testModules)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse error = %v (%T), want an *Error", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse error\n got: %s\nwant: %s", err, tt.want)
			}
		})
	}
}

// TestParseCheckRunsOnWhatWasRead: ParseOptions.Check sees the tasks that
// parsed even when another task has a problem, and its errors come back
// with Parse's, sorted by position.
func TestParseCheckRunsOnWhatWasRead(t *testing.T) {
	src := "- hosts: all\n  tasks:\n    - frobnicate: x\n    - command: y\n"
	var seen []string
	opts := testModules
	opts.Check = func(pb *Playbook) error {
		for _, p := range pb.Plays {
			for _, task := range p.Tasks {
				seen = append(seen, task.Module)
			}
		}
		return &Error{Pos: Pos{File: "pb.yml", Line: 4, Col: 7}, Field: "tasks[1].command", Msg: "checked"}
	}
	_, err := Parse("pb.yml", []byte(src), opts)
	var list Errors
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("Parse error = %v, want a list of 2", err)
	}
	want := "pb.yml:3:7: tasks[0].frobnicate: unknown module or task keyword \"frobnicate\"\npb.yml:4:7: tasks[1].command: checked"
	if err.Error() != want {
		t.Errorf("Parse error\n got: %s\nwant: %s", err, want)
	}
	if strings.Join(seen, ",") != "command" {
		t.Errorf("Check saw tasks %q, want [command]", seen)
	}
	opts.Check = func(*Playbook) error { return errors.New("plain") }
	if _, err := Parse("pb.yml", []byte("- hosts: all\n  tasks:\n    - command: y\n"), opts); err == nil || err.Error() != "plain" {
		t.Errorf("a plain Check error: %v", err)
	}
}
