package runner

import (
	"strings"
	"testing"
	"time"

	"tend/runner/playbook"
)

// TestBudgetWindow: which recorded changes count against a budget at a
// given time, on a fake clock — including a clock that went back.
func TestBudgetWindow(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return now.Add(d) }
	tests := []struct {
		name       string
		changes    []time.Time
		per        time.Duration
		wantUsed   int
		wantFuture int
		wantLast   time.Time
	}{
		{"none", nil, 24 * time.Hour, 0, 0, time.Time{}},
		{"all inside", []time.Time{at(-3 * time.Hour), at(-14 * time.Minute)}, 24 * time.Hour, 2, 0, at(-14 * time.Minute)},
		{"one left the window", []time.Time{at(-25 * time.Hour), at(-time.Hour)}, 24 * time.Hour, 1, 0, at(-time.Hour)},
		{"exactly at the window's start is outside", []time.Time{at(-24 * time.Hour)}, 24 * time.Hour, 0, 0, time.Time{}},
		{"clock went back: future entries count", []time.Time{at(-time.Hour), at(2 * time.Hour), at(48 * time.Hour)}, 24 * time.Hour, 3, 2, at(48 * time.Hour)},
		{"unsorted", []time.Time{at(-time.Minute), at(-2 * time.Hour)}, time.Hour, 1, 0, at(-time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := budgetRecord{Version: 1, Changes: tt.changes}.window(now, tt.per)
			if w.Used != tt.wantUsed || w.Future != tt.wantFuture || !w.Last.Equal(tt.wantLast) {
				t.Errorf("window = %+v, want used %d future %d last %v", w, tt.wantUsed, tt.wantFuture, tt.wantLast)
			}
		})
	}
}

// TestBudgetAddKeepsFuture: recording a change prunes what left the window
// but never what is dated in the future, so a clock jumping back cannot
// make the budget unlimited.
func TestBudgetAddKeepsFuture(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	rec := budgetRecord{Version: 1, Changes: []time.Time{now.Add(-48 * time.Hour), now.Add(5 * time.Hour)}}
	got := rec.add(now, 24*time.Hour)
	want := []time.Time{now, now.Add(5 * time.Hour)}
	if len(got.Changes) != 2 || !got.Changes[0].Equal(want[0]) || !got.Changes[1].Equal(want[1]) {
		t.Fatalf("changes = %v, want %v", got.Changes, want)
	}
	if w := got.window(now, 24*time.Hour); w.Used != 2 {
		t.Errorf("used after add = %d, want 2", w.Used)
	}
}

// TestDecodeBudget: unreadable records fail closed, never reset.
func TestDecodeBudget(t *testing.T) {
	tests := []struct {
		name, data, wantErr string
		wantChanges         int
	}{
		{"no record yet", "", "", 0},
		{"blank", " \n", "", 0},
		{"valid", `{"version":1,"changes":["2026-12-07T11:00:00Z"]}`, "", 1},
		{"corrupt", `{"version":1,"changes":[`, "corrupt", 0},
		{"not json", "garbage\n", "corrupt", 0},
		{"no version", `{"changes":[]}`, "corrupt: no format version", 0},
		{"newer version", `{"version":2,"changes":[]}`, "written by a newer tend (format version 2; this tend reads 1)", 0},
		{"bad time", `{"version":1,"changes":["yesterday"]}`, "corrupt", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := decodeBudget(tt.data)
			if tt.wantErr == "" {
				if err != nil || len(rec.Changes) != tt.wantChanges {
					t.Fatalf("decode = %+v, %v; want %d changes", rec, err, tt.wantChanges)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestBudgetMessages: the words of a spent budget and of a relapse.
func TestBudgetMessages(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	svc := &playbook.Task{Module: "service"}
	w := budgetWindow{Used: 3, Last: now.Add(-14 * time.Minute)}
	tests := []struct{ name, got, want string }{
		{"spent", spentMsg(svc, w, 24*time.Hour, now, false), "budget spent: restarted 3 times in 24h (last 14m ago); not restarting"},
		{"spent dry", spentMsg(svc, w, 24*time.Hour, now, true), "budget spent: restarted 3 times in 24h (last 14m ago); would not be restarted"},
		{"spent command", spentMsg(&playbook.Task{Module: "command"}, budgetWindow{Used: 1, Last: now.Add(-90 * time.Minute)}, 2*time.Hour, now, false),
			"budget spent: changed 1 time in 2h (last 1h30m ago); not changing"},
		{"spent future", spentMsg(svc, budgetWindow{Used: 1, Last: now.Add(time.Hour)}, 24*time.Hour, now, false),
			"budget spent: restarted 1 time in 24h (last 1h in the future: the host's clock went back); not restarting"},
		{"relapse", relapseMsg(svc, now.Add(-14*time.Minute), now), "restarted again 14m after the last time: the remedy is not holding"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, tt.got, tt.want)
		}
	}
}
