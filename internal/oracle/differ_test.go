package oracle

import (
	"strings"
	"testing"
)

func TestParseDifference(t *testing.T) {
	for _, tc := range []struct {
		line, err string
		want      Difference
	}{
		{line: "check skipped ok Wait for the port: Ansible skips wait_for in check mode",
			want: Difference{Run: "check", Ansible: "skipped", Tend: "ok", Task: "Wait for the port", Reason: "Ansible skips wait_for in check mode"}},
		{line: "second-apply ok changed T: why", want: Difference{Run: "second-apply", Ansible: "ok", Tend: "changed", Task: "T", Reason: "why"}},
		{line: "later skipped ok T: why", err: `run "later"`},
		{line: "check skipped done T: why", err: `status "done"`},
		{line: "check ok ok T: why", err: "no difference"},
		{line: "check skipped ok T", err: "REASON"},
		{line: "check skipped ok", err: "want RUN"},
	} {
		got, err := parseDifference(tc.line)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one containing %q", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %+v, %v; want %+v", tc.line, got, err, tc.want)
		}
	}
}

func TestReconcile(t *testing.T) {
	d := []Difference{{Run: "check", Task: "Wait", Ansible: "skipped", Tend: "ok", Reason: "r"}}
	ans := Outcome{Recap: Recap{OK: 1, Skipped: 1}, Tasks: []TaskResult{{"Wait", "skipped", false}, {"Copy", "ok", false}}}
	for _, tc := range []struct {
		name, run string
		tend      Outcome
		problems  int
		same      bool
	}{
		{"declared and seen", "check", Outcome{Recap: Recap{OK: 2}, Tasks: []TaskResult{{"Wait", "ok", false}, {"Copy", "ok", false}}}, 0, true},
		{"not declared for this run", "apply", Outcome{Recap: Recap{OK: 2}, Tasks: []TaskResult{{"Wait", "ok", false}, {"Copy", "ok", false}}}, 0, false},
		{"declared, not there", "check", Outcome{Recap: Recap{OK: 1, Skipped: 1}, Tasks: []TaskResult{{"Wait", "skipped", false}, {"Copy", "ok", false}}}, 1, true},
		{"task missing", "check", Outcome{Recap: Recap{OK: 1}, Tasks: []TaskResult{{"Copy", "ok", false}}}, 1, false},
	} {
		tnd := tc.tend
		problems := reconcile(tc.run, d, ans, &tnd)
		if len(problems) != tc.problems {
			t.Errorf("%s: problems %q, want %d", tc.name, problems, tc.problems)
		}
		if same := len(compareOutcomes(ans, tnd)) == 0; same != tc.same {
			t.Errorf("%s: after reconcile tend %+v vs ansible %+v: same=%v, want %v", tc.name, tnd, ans, same, tc.same)
		}
	}
}
