package savedplan

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"tend/runner/plan"
)

func TestApprover(t *testing.T) {
	restart := plan.Change{Action: plan.Restart, Summary: "would restart activemq (pid 42)"}
	tune := plan.Change{Action: plan.Update, Values: []plan.ValueChange{{Key: "net.ipv4.tcp_fin_timeout", Before: "60", After: "30"}}}
	p := &Plan{Version: Version, Hosts: map[string][]Task{
		"h1": {{Play: "p", Task: "restart", Action: restart.Action, Summary: restart.Summary, Fingerprint: Fingerprint(restart)},
			{Play: "p", Task: "tune", Action: tune.Action, Fingerprint: Fingerprint(tune)}},
		"h2": {},
	}}
	approve := p.Approver()
	ctx := context.Background()
	otherPID := restart
	otherPID.Summary = "would restart activemq (pid 43)"
	oldValueMoved := tune // the live value moved; the approved target did not
	oldValueMoved.Values = []plan.ValueChange{{Key: "net.ipv4.tcp_fin_timeout", Before: "45", After: "30"}}
	otherTarget := tune
	otherTarget.Values = []plan.ValueChange{{Key: "net.ipv4.tcp_fin_timeout", Before: "60", After: "20"}}
	for _, tc := range []struct {
		name, host, task string
		c                plan.Change
		want             string // "" approved, else part of the error
	}{
		{"approved restart", "h1", "restart", restart, ""},
		{"approved tuning", "h1", "tune", tune, ""},
		{"same target from another live value", "h1", "tune", oldValueMoved, ""},
		{"another process to restart", "h1", "restart", otherPID, "the plan approved"},
		{"another target value", "h1", "tune", otherTarget, "the plan approved"},
		{"a change on a host the plan saw in order", "h2", "tune", tune, "approved no change"},
		{"a host the plan never saw", "h3", "tune", tune, "not in the plan"},
	} {
		err := approve(ctx, tc.host, "p", tc.task, nil, tc.c)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrStale)):
			t.Errorf("%s: err %v, want %q (stale)", tc.name, err, tc.want)
		}
	}
}

func TestRecorderSaveLoad(t *testing.T) {
	rec := NewRecorder("play.yml", "abc", "web*")
	c := plan.Change{Action: plan.Update, Summary: "1 to change", Files: []plan.FileChange{{Path: "/etc/x.conf", BeforeSHA256: "s1", Diff: "-a\n+b\n"}}}
	rec.Add("h1", "p", "t", c)
	rec.Add("h1", "p", "read", plan.Change{Action: plan.Read})
	rec.Reached("h2")
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := rec.Save(path); err != nil {
		t.Fatal(err)
	}
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	h1, h2 := p.Hosts["h1"], p.Hosts["h2"]
	if len(h1) != 1 || h1[0].Fingerprint != Fingerprint(c) || h1[0].Files[0] != (File{Path: "/etc/x.conf", BeforeSHA256: "s1"}) ||
		h2 == nil || len(h2) != 0 || p.Limit != "web*" || p.PlaybookSHA256 != "abc" {
		t.Errorf("plan %+v", p)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing plan loaded")
	}
}
