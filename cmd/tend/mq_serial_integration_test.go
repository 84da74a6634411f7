package main

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"tend/internal/lab"
	"tend/runner"
)

const restartPlay = "Restart the MQ where needed, one batch at a time"

// rewrapRestart rewrites the lab inventory's restart command: the
// original restart script's path becomes `with` followed by keep (the
// original path, or nothing).
func (m *mqLab) rewrapRestart(t *testing.T, with string, keep bool) {
	t.Helper()
	b, err := os.ReadFile(m.inventory)
	if err != nil {
		t.Fatal(err)
	}
	script := m.dir + "/restart-mq.sh"
	repl := with
	if keep {
		repl += " " + script
	}
	inv := strings.ReplaceAll(string(b), "mq_restart_command: "+script, "mq_restart_command: "+repl)
	if inv == string(b) {
		t.Fatal("inventory has no restart command to rewrap")
	}
	writeFile(t, m.dir, "hosts.yml", inv)
}

// listening reports whether something listens on 61616 in h's namespace.
func listening(t *testing.T, h *lab.Host) bool {
	t.Helper()
	out, _, err := h.Exec(context.Background(), "ss", "-Htln", "( sport = :61616 )")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out) != ""
}

// TestMQRestartsOneBrokerAtATime runs the shipped runbook with its default
// mq_restart_serial (1) on three brokers that all need a restart: the
// restart commands, stamped on the hosts, never overlap.
func TestMQRestartsOneBrokerAtATime(t *testing.T) {
	m := newMQLab(t, 3, lab.WithOverlayEtc()) // backups stay in the host's own /etc
	stamp := writeFile(t, m.dir, "stamp-restart.sh", `#!/bin/sh
# $1 is the restart script, $2 the broker's pidfile DIR/NAME.pid
n=${2%.pid}
date +%s.%N > "$n.start"
"$@"
sleep 0.3
date +%s.%N > "$n.end"
`)
	os.Chmod(stamp, 0o755)
	m.rewrapRestart(t, stamp, true)
	pids := map[string]int{}
	for _, h := range m.Hosts {
		m.load(t, h, 8) // above the threshold (5): every broker restarts
		pids[h.Name] = m.waitPID(t, h)
	}
	events, code := m.tend(t)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var batches []runner.BatchStart
	for _, b := range eventsOf[runner.BatchStart](t, events, "batch_start") {
		if b.Play == restartPlay {
			batches = append(batches, b)
		}
	}
	if len(batches) != 3 {
		t.Errorf("restart play ran %d batches, want 3 (one broker each)", len(batches))
	}
	ivs := readIntervals(t, m.dir, m.Hosts)
	for i := 1; i < len(ivs); i++ {
		if ivs[i].start < ivs[i-1].end {
			t.Errorf("%s's restart began at %.6f, before %s's ended at %.6f", ivs[i].host, ivs[i].start, ivs[i-1].host, ivs[i-1].end)
		}
	}
	for _, h := range m.Hosts {
		if pid := m.waitPID(t, h); pid == pids[h.Name] {
			t.Errorf("%s: not restarted", h.Name)
		}
	}
}

// TestMQRolloutStopsWhenABrokerDoesNotComeBack: the first broker's restart
// leaves it down; the rollout stops there and the other brokers are
// neither restarted nor touched by the restart play.
func TestMQRolloutStopsWhenABrokerDoesNotComeBack(t *testing.T) {
	m := newMQLab(t, 3, lab.WithOverlayEtc()) // backups stay in the host's own /etc
	broken := writeFile(t, m.dir, "broken-restart.sh", "#!/bin/sh\nkill \"$(cat \"$1\")\"\n")
	os.Chmod(broken, 0o755)
	m.rewrapRestart(t, broken, false)
	pids := map[string]int{}
	for _, h := range m.Hosts {
		m.load(t, h, 8)
		pids[h.Name] = m.waitPID(t, h)
	}
	events, code := m.tend(t, "-e", "mq_restart_timeout=2s")
	if code != exitFailed {
		t.Fatalf("exit %d, want %d", code, exitFailed)
	}
	var batches []runner.BatchStart
	for _, b := range eventsOf[runner.BatchStart](t, events, "batch_start") {
		if b.Play == restartPlay {
			batches = append(batches, b)
		}
	}
	if len(batches) != 1 || len(batches[0].Hosts) != 1 {
		t.Fatalf("restart batches %+v, want only the first, of one broker", batches)
	}
	first := batches[0].Hosts[0]
	var others []string
	for _, h := range m.Hosts {
		if h.Name == first {
			if listening(t, h) {
				t.Errorf("%s: the broken restart left a broker listening", h.Name)
			}
			continue
		}
		others = append(others, h.Name)
		if !listening(t, h) || m.waitPID(t, h) != pids[h.Name] {
			t.Errorf("%s: touched although the rollout stopped", h.Name)
		}
	}
	s := summaryOf(t, events)
	if !reflect.DeepEqual(s.Failed, []string{first}) || !reflect.DeepEqual(s.Stopped, others) {
		t.Errorf("failed %v stopped %v, want %s / %v", s.Failed, s.Stopped, first, others)
	}
}
