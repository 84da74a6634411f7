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

// TestEnvironmentTemplateMerge: an environment given as a template is an
// EnvVar with no Name, kept in its place; a later variable of a name the
// template may set comes after it, so it still wins.
func TestEnvironmentTemplateMerge(t *testing.T) {
	src := `- hosts: a
  tasks:
    - block:
        - command: x
          environment: {A: task}
        - command: y
          environment: "{{ task_env }}"
      environment: {A: block, B: block}
    - command: z
      environment: "{{ proxy_env | default({}) }}"
`
	pb, err := Parse("pb.yml", []byte(src), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := pb.Plays[0]
	inner := p.Tasks[0].Block.Tasks
	tmpl := []EnvVar{{"", "{{ play_env }}"}, {"B", "play"}}
	for _, tt := range []struct {
		name      string
		got, want []EnvVar
	}{
		{"task template", p.Tasks[1].Environment, []EnvVar{{"", "{{ proxy_env | default({}) }}"}}},
		{"template over block", inner[1].Environment, []EnvVar{{"A", "block"}, {"B", "block"}, {"", "{{ task_env }}"}}},
		{"task over play template", MergeEnv(tmpl, inner[0].Environment), []EnvVar{{"", "{{ play_env }}"}, {"B", "block"}, {"A", "task"}}},
		{"named over a name before a template", MergeEnv([]EnvVar{{"B", "outer"}, {"", "{{ inner }}"}}, []EnvVar{{"B", "task"}}), []EnvVar{{"", "{{ inner }}"}, {"B", "task"}}},
		{"play template under task template", MergeEnv(tmpl, inner[1].Environment), []EnvVar{{"", "{{ play_env }}"}, {"B", "block"}, {"A", "block"}, {"", "{{ task_env }}"}}},
	} {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

// TestEnvironmentParseErrors: what tend refuses, at its place.
func TestEnvironmentParseErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
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
