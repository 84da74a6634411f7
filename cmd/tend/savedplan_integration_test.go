package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/internal/lab"
	"tend/runner"
	"tend/runner/savedplan"
)

// TestSavedPlan: a reviewed dry run (--check --out) applied with --plan
// changes the hosts whose state is still the planned one and refuses,
// untouched, a host whose sysctl.conf was edited after the review.
func TestSavedPlan(t *testing.T) {
	m := newMQLab(t, 2, lab.WithOverlayEtc())
	h1, h2 := m.Hosts[0], m.Hosts[1]
	m.load(t, h1, 8)
	m.load(t, h2, 8)
	planFile := filepath.Join(m.dir, "plan.json")

	_, code := m.tend(t, "--check", "--out", planFile)
	if code != 0 {
		t.Fatalf("check --out: exit %d", code)
	}
	p, err := savedplan.Load(planFile)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(planFile); st.Mode().Perm() != 0o600 {
		t.Errorf("plan mode %v, want 0600", st.Mode().Perm())
	}
	for _, h := range m.Hosts {
		var tasks []string
		for _, pt := range p.Hosts[h.Name] {
			tasks = append(tasks, pt.Task)
		}
		if strings.Join(tasks, "|") != tuneTask+"|Restart the MQ holding the CLOSE_WAIT sockets" {
			t.Fatalf("%s: planned %q", h.Name, tasks)
		}
	}

	// After the review, someone edits h1's sysctl.conf.
	m.sshOut(t, h1, "echo '# edited after the review' >> /etc/sysctl.conf")
	edited := m.sshOut(t, h1, "cat /etc/sysctl.conf")
	pid1, pid2 := m.waitPID(t, h1), m.waitPID(t, h2)

	events, code := m.tend(t, "--plan", planFile)
	if code != exitFailed {
		t.Fatalf("apply --plan: exit %d, want %d", code, exitFailed)
	}
	tune := findTask(t, events, h1.Name, tuneTask)
	if tune.Status != runner.StatusFailed || !strings.Contains(tune.Error, "/etc/sysctl.conf changed since the plan") {
		t.Errorf("h1 tune: %s %q, want refused as stale", tune.Status, tune.Error)
	}
	if got := m.sshOut(t, h1, "cat /etc/sysctl.conf"); got != edited {
		t.Errorf("h1 sysctl.conf changed by a refused plan:\n%s", got)
	}
	if fin, _, _ := h1.Exec(context.Background(), "cat", "/proc/sys/net/ipv4/tcp_fin_timeout"); strings.TrimSpace(fin) != "60" {
		t.Errorf("h1 live tcp_fin_timeout %s, want 60 (untouched)", fin)
	}
	if pid := m.waitPID(t, h1); pid != pid1 {
		t.Errorf("h1 MQ restarted by a refused plan")
	}
	if s := findTask(t, events, h2.Name, tuneTask).Status; s != runner.StatusChanged {
		t.Errorf("h2 tune %s, want changed", s)
	}
	if pid := m.waitPID(t, h2); pid == pid2 {
		t.Errorf("h2 MQ not restarted")
	}

	// The playbook the plan was made from, and no other.
	other := writeFile(t, m.dir, "other.yml", "- hosts: all\n  tasks:\n    - name: x\n      tcp_states:\n        port: 61616\n")
	if _, stderr, code := tendRun(t, "run", other, "-i", m.inventory, "--known-hosts", m.KnownHosts, "--plan", planFile); code != exitBadInput || !strings.Contains(stderr, "another playbook") {
		t.Errorf("another playbook: exit %d %s", code, stderr)
	}

	// A plan applies once: h2's file is no longer the one planned. Nothing
	// is touched, not even the live value set meanwhile.
	m.sshOut(t, h2, "sysctl -q -w net.ipv4.tcp_fin_timeout=45")
	events, code = m.tend(t, "--plan", planFile, "--limit", h2.Name)
	if code != exitFailed {
		t.Fatalf("apply --plan on a changed h2: exit %d, want %d", code, exitFailed)
	}
	if tr := findTask(t, events, h2.Name, tuneTask); tr.Status != runner.StatusFailed || !strings.Contains(tr.Error, "changed since the plan") {
		t.Errorf("h2 tune: %s %q, want refused", tr.Status, tr.Error)
	}
	if fin, _, _ := h2.Exec(context.Background(), "cat", "/proc/sys/net/ipv4/tcp_fin_timeout"); strings.TrimSpace(fin) != "45" {
		t.Errorf("h2 live tcp_fin_timeout %s, want 45 (untouched)", fin)
	}
}
