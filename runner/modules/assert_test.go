package modules

import (
	"context"
	"errors"
	"strings"
	"testing"

	"tend/runner/plan"
)

// fakeEval evaluates expressions from a table; unknown ones are undefined.
func fakeEval(vals map[string]any) func(string) (any, error) {
	return func(e string) (any, error) {
		if v, ok := vals[e]; ok {
			return v, nil
		}
		return nil, errors.New("undefined variable in " + e)
	}
}

func TestAssert(t *testing.T) {
	eval := fakeEval(map[string]any{"closewait.count == 0": true, "mq.new_pid != mq.old_pid": true,
		"closewait.count < 10": false, "closewait.count": 3})
	tests := []struct {
		name, src          string
		failed             bool
		msg, summary, expr string
	}{
		{"one string", "that: closewait.count == 0", false, "all assertions passed", "all assertions passed", ""},
		{"list", "that:\n  - closewait.count == 0\n  - mq.new_pid != mq.old_pid\nsuccess_msg: MQ healthy", false, "MQ healthy", "MQ healthy", ""},
		{"quiet", "that: closewait.count == 0\nquiet: true", false, "all assertions passed", "", ""},
		{"first false named", "that:\n  - closewait.count == 0\n  - closewait.count < 10\n", true,
			"assertion failed: closewait.count < 10", "play.yml:3:5: assert: closewait.count < 10: evaluated to false", "closewait.count < 10"},
		{"fail_msg", "that: [closewait.count < 10]\nfail_msg: CLOSE_WAIT still high", true,
			"CLOSE_WAIT still high", "play.yml:1:8: assert: closewait.count < 10: evaluated to false", "closewait.count < 10"},
		{"msg alias", "that: closewait.count < 10\nmsg: high", true, "high", "", "closewait.count < 10"},
		{"not a boolean", "that: closewait.count", true, "assertion failed: closewait.count",
			"play.yml:1:7: assert: closewait.count: evaluated to 3 (int), not a boolean", "closewait.count"},
		{"undefined", "that: nosuch > 1", true, "assertion failed: nosuch > 1",
			"play.yml:1:7: assert: nosuch > 1: undefined variable in nosuch > 1", "nosuch > 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := newAssert(Args{Node: argsNode(t, tc.src), File: "play.yml", Eval: eval})
			if err != nil {
				t.Fatal(err)
			}
			c, err := m.Check(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.Action != plan.None || c.Failed != tc.failed || c.Data["msg"] != tc.msg {
				t.Errorf("change = %+v", c)
			}
			if tc.summary != "" && c.Summary != tc.summary || tc.summary == "" && !tc.failed && c.Summary != "" {
				t.Errorf("summary %q, want %q", c.Summary, tc.summary)
			}
			if tc.failed && (c.Msg != tc.msg || c.Data["assertion"] != tc.expr) {
				t.Errorf("msg %q assertion %v", c.Msg, c.Data["assertion"])
			}
		})
	}
}

func TestAssertArgs(t *testing.T) {
	for src, want := range map[string]string{
		"msg: x":                       "that",
		"that: []":                     "play.yml:1:7: assert: that: no expression to check",
		"that: ['']":                   "play.yml:1:8: assert: that: empty expression",
		"that: a\nmsg: x\nfail_msg: y": "give msg or fail_msg, not both",
		"that: a\nquiet: maybe":        "quiet",
		"that: a\nthat_msg: x":         "that_msg",
	} {
		_, err := newAssert(Args{Node: argsNode(t, src), File: "play.yml"})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", src, err, want)
		}
	}
	// Static validation (no evaluator) builds the module; Check without
	// one is a programming error, not a failed assertion.
	m, err := newAssert(Args{Node: argsNode(t, "that: x > 1"), File: "play.yml"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Check(context.Background(), nil); err == nil {
		t.Error("Check without Eval must fail")
	}
}
