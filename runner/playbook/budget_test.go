package playbook

import (
	"reflect"
	"strings"
	"testing"
)

// TestParseBudget: a task's budget: mapping, literal and templated, with
// the positions of its values.
func TestParseBudget(t *testing.T) {
	src := "- hosts: a\n  tasks:\n    - command: x\n      budget: {max: \"{{ n }}\", per: 24h}\n"
	pb, err := Parse("pb.yml", []byte(src), testModules)
	if err != nil {
		t.Fatal(err)
	}
	got := pb.Plays[0].Tasks[0].Budget
	want := &Budget{Pos: Pos{File: "pb.yml", Line: 4, Col: 15}, Max: "{{ n }}", MaxPos: Pos{File: "pb.yml", Line: 4, Col: 21},
		Per: "24h", PerPos: Pos{File: "pb.yml", Line: 4, Col: 37}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("budget\n got %+v\nwant %+v", got, want)
	}
}

// TestParseBudgetErrors: what tend refuses, with file:line:col and field.
func TestParseBudgetErrors(t *testing.T) {
	head := "- hosts: a\n  tasks:\n    - command: x\n      budget: "
	for _, tc := range []struct{ name, src, want string }{
		{"not a mapping", "3\n", "pb.yml:4:15: tasks[0].budget: must be a mapping like {max: 3, per: 24h}, not"},
		{"no max", "{per: 24h}\n", "pb.yml:4:15: tasks[0].budget: needs max:"},
		{"no per", "{max: 3}\n", "pb.yml:4:15: tasks[0].budget: needs per:"},
		{"zero max", "{max: 0, per: 24h}\n", `pb.yml:4:21: tasks[0].budget.max: must be a whole number of at least 1, not "0"`},
		{"word max", "{max: many, per: 24h}\n", `pb.yml:4:21: tasks[0].budget.max: must be a whole number of at least 1, not "many"`},
		{"bad per", "{max: 3, per: 1d}\n", `pb.yml:4:29: tasks[0].budget.per: must be a duration like "24h" longer than zero, not "1d"`},
		{"zero per", "{max: 3, per: 0}\n", `pb.yml:4:29: tasks[0].budget.per: must be a duration longer than zero, not "0"`},
		{"unknown key", "{max: 3, per: 1h, every: 2}\n", `pb.yml:4:33: tasks[0].budget.every: unknown budget key "every": only max and per`},
		{"list value", "{max: [3], per: 1h}\n", "pb.yml:4:21: tasks[0].budget.max: must be a value or a template, not a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("pb.yml", []byte(head+tc.src), testModules)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant %s", err, tc.want)
			}
		})
	}
}

// TestParseBudgetValues: the run-time readers of rendered values.
func TestParseBudgetValues(t *testing.T) {
	if n, err := ParseBudgetMax(" 3 "); n != 3 || err != nil {
		t.Errorf("max 3 = %d, %v", n, err)
	}
	if d, err := ParseBudgetPer("90"); d.Seconds() != 90 || err != nil {
		t.Errorf("per 90 = %v, %v", d, err)
	}
	if _, err := ParseBudgetPer("-1h"); err == nil {
		t.Errorf("per -1h accepted")
	}
}
