package playbook

import (
	"reflect"
	"strings"
	"testing"
)

// TestEnvironmentParse: play, block and task environments; the block's
// is merged under each task's (the play's is the runner's to merge).
func TestEnvironmentParse(t *testing.T) {
	src := `- hosts: a
  environment: {P: play, N: 1, B: true}
  tasks:
    - block:
        - command: x
          environment: {B: task, T: "{{ v }}"}
        - command: y
      environment: {B: block, K: block}
`
	pb, err := Parse("pb.yml", []byte(src), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := pb.Plays[0]
	inner := p.Tasks[0].Block.Tasks
	for _, tt := range []struct {
		name      string
		got, want []EnvVar
	}{
		{"play", p.Environment, []EnvVar{{"P", "play"}, {"N", "1"}, {"B", "True"}}},
		{"task over block", inner[0].Environment, []EnvVar{{"B", "task"}, {"K", "block"}, {"T", "{{ v }}"}}},
		{"block only", inner[1].Environment, []EnvVar{{"B", "block"}, {"K", "block"}}},
		{"play under task", MergeEnv(p.Environment, inner[0].Environment), []EnvVar{{"P", "play"}, {"N", "1"}, {"B", "task"}, {"K", "block"}, {"T", "{{ v }}"}}},
	} {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

// TestEnvironmentParseErrors: what tend refuses, at its place.
func TestEnvironmentParseErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"template", "- hosts: a\n  tasks:\n    - command: x\n      environment: \"{{ e }}\"\n",
			"pb.yml:4:20: tasks[0].environment: must be a mapping of environment variables"},
		{"list", "- hosts: a\n  environment: [{A: b}]\n  tasks: []\n",
			"pb.yml:2:16: environment: must be a mapping of environment variables"},
		{"bad name", "- hosts: a\n  tasks:\n    - command: x\n      environment: {A-B: x}\n",
			"pb.yml:4:21: tasks[0].environment: environment variable names must be"},
		{"nested value", "- hosts: a\n  tasks:\n    - block: []\n      environment: {A: [1]}\n",
			"pb.yml:4:24: tasks[0].environment.A: must be a string, number or boolean"},
		{"null value", "- hosts: a\n  tasks:\n    - command: x\n      environment: {A: }\n",
			"tasks[0].environment.A: must be a string, number or boolean, not null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("pb.yml", []byte(tt.src), ParseOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
