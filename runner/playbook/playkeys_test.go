package playbook

import (
	"slices"
	"strings"
	"testing"
)

// taskOrder lists a play's tasks as "name" or "flush" (an implicit
// flush_handlers) in run order.
func taskOrder(p *Play) []string {
	var out []string
	for _, t := range p.Tasks {
		if t.Implicit {
			out = append(out, "flush")
			continue
		}
		out = append(out, t.DisplayName())
	}
	return out
}

func TestPlayPrePostTasksOrder(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
		fields    []string
	}{
		{"pre and post", "- hosts: a\n  post_tasks:\n    - {name: post, command: x}\n  tasks:\n    - {name: main, command: x}\n  pre_tasks:\n    - {name: pre, command: x}\n",
			[]string{"pre", "flush", "main", "flush", "post"}, []string{"pre_tasks[0]", "flush_handlers", "tasks[0]", "flush_handlers", "post_tasks[0]"}},
		{"pre only", "- hosts: a\n  pre_tasks:\n    - {name: pre, command: x}\n",
			[]string{"pre", "flush", "flush"}, nil},
		{"neither: no implicit flush", "- hosts: a\n  tasks:\n    - {name: main, command: x}\n",
			[]string{"main"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb, err := Parse("pb.yml", []byte(tt.src), testModules)
			if err != nil {
				t.Fatal(err)
			}
			p := pb.Plays[0]
			if got := taskOrder(p); !slices.Equal(got, tt.want) {
				t.Errorf("order %v, want %v", got, tt.want)
			}
			if tt.fields != nil {
				var fields []string
				for _, task := range p.Tasks {
					fields = append(fields, task.Field)
				}
				if !slices.Equal(fields, tt.fields) {
					t.Errorf("fields %v, want %v", fields, tt.fields)
				}
				if got := p.Tasks[0].Pos.String(); got != "pb.yml:7:7" {
					t.Errorf("pre_tasks[0] at %s, want pb.yml:7:7", got)
				}
			}
		})
	}
}

func TestPlayTagsReachEveryTask(t *testing.T) {
	src := "- hosts: a\n  tags: [fix, sysctl]\n  pre_tasks:\n    - {name: pre, command: x}\n  tasks:\n    - name: main\n      command: x\n      tags: own\n    - block:\n        - {name: inner, command: x}\n  post_tasks:\n    - {name: post, command: x}\n  verify:\n    - {name: check, command: x}\n"
	pb, err := Parse("pb.yml", []byte(src), testModules)
	if err != nil {
		t.Fatal(err)
	}
	p := pb.Plays[0]
	if !slices.Equal(p.Tags, []string{"fix", "sysctl"}) {
		t.Errorf("play tags %v", p.Tags)
	}
	for _, task := range append(Flatten(p.Tasks), p.Verify...) {
		if task.Implicit || (task.Block != nil && !task.Dynamic) {
			continue // a block's tags are its tasks'
		}
		if !slices.Contains(task.Tags, "fix") || !slices.Contains(task.Tags, "sysctl") {
			t.Errorf("%s (%s) tags %v, want the play's fix, sysctl", task.Field, task.DisplayName(), task.Tags)
		}
		if task.Name == "main" && !slices.Contains(task.Tags, "own") {
			t.Errorf("main lost its own tag: %v", task.Tags)
		}
	}
}

func TestPlayKeywordErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"become_method su", "- hosts: a\n  become_method: su\n", `pb.yml:2:18: become_method: become_method "su" is not supported by tend: only sudo`},
		{"become_exe doas", "- hosts: a\n  become_exe: doas\n", `pb.yml:2:15: become_exe: become_exe "doas" is not supported by tend: only sudo`},
		{"become_exe other sudo", "- hosts: a\n  become_exe: /opt/sudo\n", `pb.yml:2:15: become_exe: become_exe "/opt/sudo" is not supported`},
		{"tags mapping", "- hosts: a\n  tags: {a: 1}\n", "pb.yml:2:9: tags"},
		{"pre_tasks bad item", "- hosts: a\n  pre_tasks: [x]\n", `pb.yml:2:15: pre_tasks[0]: a task must be a mapping`},
		{"post_tasks not list", "- hosts: a\n  post_tasks: {command: x}\n", "pb.yml:2:15: post_tasks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("pb.yml", []byte(tt.src), testModules)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	ok := "- hosts: a\n  become: true\n  become_method: sudo\n  become_exe: /usr/bin/sudo\n  tasks: []\n"
	if _, err := Parse("pb.yml", []byte(ok), testModules); err != nil {
		t.Errorf("become_method: sudo refused: %v", err)
	}
}

func TestPlayRemoteUser(t *testing.T) {
	pb, err := Parse("pb.yml", []byte("- hosts: a\n  remote_user: deploy\n  tasks: []\n"), testModules)
	if err != nil {
		t.Fatal(err)
	}
	if got := pb.Plays[0].RemoteUser; got != "deploy" {
		t.Errorf("RemoteUser = %q", got)
	}
	pb, err = Parse("pb.yml", []byte("- hosts: a\n  remote_user: \"{{ u }}\"\n"), testModules)
	if err != nil || pb.Plays[0].RemoteUser != "{{ u }}" || pb.Plays[0].RemoteUserPos.Line != 2 {
		t.Errorf("a template (rendered per host by the runner): %v %+v", err, pb.Plays[0])
	}
	pb, err = Parse("pb.yml", []byte("- hosts: a\n  user: old\n"), testModules)
	if err != nil || pb.Plays[0].RemoteUser != "old" {
		t.Errorf("user: (remote_user's alias): %v", err)
	}
	for src, want := range map[string]string{
		"- hosts: a\n  user: \"-x\"\n":                  `pb.yml:2:9: user: "-x" is not a user name`,
		"- hosts: a\n  remote_user: -oProxyCommand=x\n": `pb.yml:2:16: remote_user: "-oProxyCommand=x" is not a user name`,
		"- hosts: a\n  remote_user: \"a;id\"\n":         `pb.yml:2:16: remote_user: "a;id" is not a user name`,
		"- hosts: a\n  remote_user: [a]\n":              "pb.yml:2:16: remote_user",
	} {
		if _, err := Parse("pb.yml", []byte(src), testModules); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
	}
}
