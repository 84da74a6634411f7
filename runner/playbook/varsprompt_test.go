package playbook

import (
	"strings"
	"testing"
)

func TestVarsPrompt(t *testing.T) {
	src := "- hosts: a\n  vars: {reason: from-vars}\n  vars_prompt:\n    - name: ticket\n      prompt: ticket?\n      private: false\n    - name: reason\n      default: dflt\n      unsafe: true\n  tasks: []\n"
	pb, err := Parse("pb.yml", []byte(src), testModules)
	if err != nil {
		t.Fatal(err)
	}
	p := pb.Plays[0]
	if got := p.Vars["reason"]; got != "dflt" {
		t.Errorf("reason = %v, want the prompt's default over vars (Ansible's precedence)", got)
	}
	if len(p.VarsPrompt) != 2 || p.VarsPrompt[0].Pos.String() != "pb.yml:4:7" || !p.VarsPrompt[1].Unsafe {
		t.Errorf("prompts %+v", p.VarsPrompt)
	}
	err = MissingPrompts(pb, nil)
	if err == nil || err.Error() != "pb.yml:4:7: vars_prompt[0]: ticket has no value and tend does not prompt: give it with -e ticket=VALUE (or a default:)" {
		t.Errorf("missing: %v", err)
	}
	if err := MissingPrompts(pb, map[string]any{"ticket": "x"}); err != nil {
		t.Errorf("-e given, still refused: %v", err)
	}
}

func TestVarsPromptErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"encrypt", "- hosts: a\n  vars_prompt:\n    - name: pw\n      encrypt: sha512_crypt\n", "pb.yml:4:7: vars_prompt[0].encrypt: is not supported by tend"},
		{"no name", "- hosts: a\n  vars_prompt:\n    - prompt: x\n", "pb.yml:3:7: vars_prompt[0]: a prompt needs a name"},
		{"misspelled", "- hosts: a\n  vars_prompt:\n    - name: x\n      defualt: y\n", `pb.yml:4:7: vars_prompt[0].defualt: unknown vars_prompt key; did you mean "default"?`},
		{"not a list", "- hosts: a\n  vars_prompt: {name: x}\n", "pb.yml:2:16: vars_prompt: must be a list"},
		{"private not bool", "- hosts: a\n  vars_prompt:\n    - name: x\n      private: maybe\n", "pb.yml:4:16: vars_prompt[0].private"},
		{"unsafe template default", "- hosts: a\n  vars_prompt:\n    - name: x\n      unsafe: true\n      default: \"{{ y }}\"\n", "pb.yml:5:16: vars_prompt[0].default: an unsafe default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("pb.yml", []byte(tt.src), testModules)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
