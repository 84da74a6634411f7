package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"tend/internal/lab"
	"tend/runner"
)

// brokerTask is the runbook's task that says whether a broker listens.
const brokerTask = "Find the broker on the MQ port"

// TestMQRunbookWithoutBroker runs the shipped runbook on a host where
// nothing listens on 61616 (as the README's main job does on a machine
// without a broker): it says so and changes nothing, in check and apply,
// exit 0 — unless tune_without_broker is set, which tunes (and verifies).
func TestMQRunbookWithoutBroker(t *testing.T) {
	l := lab.New(t, 1, lab.WithOverlayEtc())
	h := l.Hosts[0]
	inv := l.WriteInventory(t)
	conf := func() string {
		out, _, err := l.SSH(context.Background(), h, "cat /etc/sysctl.conf; cat /proc/sys/net/ipv4/tcp_fin_timeout")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := conf()
	const quiet = "no broker listens on :61616 here: no tuning, no restart (tune_without_broker: true tunes anyway)"
	const tuning = "no broker listens on :61616 here: tuning anyway (tune_without_broker), no restart"
	// In order: the tuning row comes last, it changes the host.
	for _, tc := range []struct {
		name     string
		args     []string
		wantExit int
		wantMsg  string
		tuned    bool
	}{
		{"check", []string{"--check"}, 0, quiet, false},
		{"apply", nil, 0, quiet, false},
		{"check tune_without_broker", []string{"--check", "-e", "tune_without_broker=true"}, exitChanged, tuning, false},
		{"apply tune_without_broker", []string{"-e", "tune_without_broker=true"}, exitChanged, tuning, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"run", "mq-closewait", "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json",
				"--detailed-exitcode", "--lock-file", filepath.Join(l.Dir, "run.lock")}, tc.args...)
			stdout, _, code := tendRun(t, args...)
			if code != tc.wantExit {
				t.Fatalf("exit %d, want %d", code, tc.wantExit)
			}
			events := parseEvents(t, stdout)
			if r := findTask(t, events, h.Name, brokerTask); r.Status != runner.StatusOK || r.Change.Summary != tc.wantMsg {
				t.Errorf("%s: %s %q\nwant ok %q", brokerTask, r.Status, r.Change.Summary, tc.wantMsg)
			}
			if s := findTask(t, events, h.Name, "Restart the MQ holding the CLOSE_WAIT sockets").Status; s != runner.StatusSkipped {
				t.Errorf("restart %s, want skipped", s)
			}
			tune := findTask(t, events, h.Name, tuneTask)
			if tuneWanted := tc.wantMsg == tuning; (tune.Status == runner.StatusSkipped) == tuneWanted {
				t.Errorf("tuning %s (%s), want it to run: %v", tune.Status, tune.Reason, tuneWanted)
			}
			after := conf()
			if changed := after != before; changed != tc.tuned {
				t.Errorf("host changed: %v, want %v:\n%s", changed, tc.tuned, after)
			}
			if tc.tuned && (!strings.Contains(after, "net.ipv4.tcp_fin_timeout") || !strings.HasSuffix(after, "\n30\n")) {
				t.Errorf("tune_without_broker did not tune:\n%s", after)
			}
		})
	}
}
