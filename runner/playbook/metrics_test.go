package playbook

import (
	"reflect"
	"strings"
	"testing"
)

// TestParseMetrics: a task's metrics: mapping, names and labels read from
// its keys.
func TestParseMetrics(t *testing.T) {
	src := "- hosts: a\n  tasks:\n    - command: x\n      register: out\n      metrics:\n" +
		"        'tend_x{port=\"{{ p }}\", phase=\"before\"}': out.count\n        tend_y: \"{{ out.fds }}\"\n"
	pb, err := Parse("pb.yml", []byte(src), testModules)
	if err != nil {
		t.Fatal(err)
	}
	got := pb.Plays[0].Tasks[0].Metrics
	want := []Metric{
		{Pos: Pos{File: "pb.yml", Line: 6, Col: 9}, Name: "tend_x", Labels: map[string]string{"port": "{{ p }}", "phase": "before"}, Expr: "out.count"},
		{Pos: Pos{File: "pb.yml", Line: 7, Col: 9}, Name: "tend_y", Expr: "{{ out.fds }}"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("metrics\n got %+v\nwant %+v", got, want)
	}
}

// TestParseMetricsErrors: what tend refuses, with file:line:col.
func TestParseMetricsErrors(t *testing.T) {
	head := "- hosts: a\n  tasks:\n    - command: x\n      metrics:\n"
	for _, tc := range []struct{ name, src, want string }{
		{"not a mapping", "        - a\n", "pb.yml:5:9: tasks[0].metrics: must be a mapping from a metric name to an expression, not a list"},
		{"bad name", "        tend-x: 1\n", `pb.yml:5:9: tasks[0].metrics.tend-x: metric name "tend-x" is not a Prometheus metric name`},
		{"unclosed labels", "        'x{a=\"1\"': 1\n", `pb.yml:5:9: tasks[0].metrics.x{a="1": metric "x{a=\"1\"": labels must end with }`},
		{"label without quotes", "        'x{a=1}': 1\n", `metric "x{a=1}": label "a=1" must be name="value"`},
		{"bad label name", "        'x{1a=\"1\"}': 1\n", `metric "x{1a=\"1\"}": "1a" is not a label name`},
		{"host label", "        'x{host=\"h\"}': 1\n", `metric "x{host=\"h\"}": label "host" is set by tend`},
		{"null value", "        x:\n", "pb.yml:5:11: tasks[0].metrics.x: must be an expression or a template, not null"},
		{"list value", "        x: [1]\n", "pb.yml:5:12: tasks[0].metrics.x: must be an expression or a template, not a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("pb.yml", []byte(head+tc.src), testModules)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant %s", err, tc.want)
			}
		})
	}
}
