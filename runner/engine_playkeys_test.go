package runner

import (
	"strings"
	"testing"
)

// prePostPlay notifies one handler from pre_tasks, tasks and post_tasks.
const prePostPlay = `- hosts: all
  gather_facts: false
  tags: [fix]
  handlers:
    - name: h
      memfile: {path: /h, content: x}
  post_tasks:
    - name: post
      memfile: {path: /post, content: x}
      notify: h
      tags: late
  tasks:
    - name: main
      memfile: {path: /main, content: x}
      notify: h
  pre_tasks:
    - name: pre
      memfile: {path: /pre, content: x}
      tags: early
      notify: h
`

// TestEnginePrePostTasks: pre_tasks run first and their notified handlers
// run before the tasks; the tasks' run before post_tasks; post_tasks'
// at the end (Ansible's order). Play tags reach every task, and the
// implicit flushes stay whatever --tags selects.
func TestEnginePrePostTasks(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"all", Options{}, "task:pre handler:h task:main handler:h task:post handler:h"},
		{"tags late: the flush still runs", Options{Tags: []string{"late"}}, "task:post handler:h"},
		{"pre and post only: both flushes", Options{Tags: []string{"early", "late"}}, "task:pre handler:h task:post handler:h"},
		{"play tag selects all", Options{Tags: []string{"fix"}}, "task:pre handler:h task:main handler:h task:post handler:h"},
		{"skip play tag: nothing", Options{SkipTags: []string{"fix"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet("h1")
			sum, rec := runOn(t, f, prePostPlay, tt.opts)
			if sum.Err() != nil {
				t.Fatal(sum.Err())
			}
			var order []string
			for _, r := range rec.results {
				if r.Phase == PhaseTask || r.Phase == PhaseHandler {
					order = append(order, string(r.Phase)+":"+r.Task)
				}
			}
			if got := strings.Join(order, " "); got != tt.want {
				t.Errorf("order %q, want %q", got, tt.want)
			}
			if tt.want == "" && len(rec.dones) > 0 {
				t.Errorf("nothing selected, yet the host was contacted: %+v", rec.dones)
			}
		})
	}
}
