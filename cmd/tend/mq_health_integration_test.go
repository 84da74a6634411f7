package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"tend/internal/lab"
	"tend/runner"
)

const (
	countTask  = "Count CLOSE_WAIT sockets on the MQ port"
	decideTask = "Decide whether to restart the MQ"
	mqRestart  = "Restart the MQ holding the CLOSE_WAIT sockets"
)

// restartWith restarts h's stand-in with extra flags, now and whenever the
// runbook restarts it: the inventory's restart command runs a wrapper that
// adds them (exec keeps the stand-in's PID and name).
func (m *mqLab) restartWith(t *testing.T, h *lab.Host, flags ...string) int {
	t.Helper()
	wrapper := writeFile(t, m.dir, h.Name+"-standin.sh", "#!/bin/sh\nexec "+shellQuote(standin(t))+" "+strings.Join(flags, " ")+` "$@"`+"\n")
	os.Chmod(wrapper, 0o755)
	pidfile := filepath.Join(m.dir, h.Name+".pid")
	b, err := os.ReadFile(m.inventory)
	if err != nil {
		t.Fatal(err)
	}
	inv := strings.Replace(string(b), pidfile+" "+standin(t)+"\n", pidfile+" "+wrapper+"\n", 1)
	if inv == string(b) {
		t.Fatalf("%s: no restart command in the inventory", h.Name)
	}
	writeFile(t, m.dir, "hosts.yml", inv)
	old := m.waitPID(t, h)
	m.sshOut(t, h, strings.Join([]string{shellQuote(filepath.Join(m.dir, "restart-mq.sh")), shellQuote(pidfile), shellQuote(wrapper)}, " "))
	for i := 0; i < 100; i++ {
		if pid := m.waitPID(t, h); pid != old {
			return pid
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: the stand-in was not restarted with %v", h.Name, flags)
	return 0
}

// TestMQKeepaliveAndFDHeadroom runs the shipped runbook over SSH on two
// stand-in brokers: h1 sets SO_KEEPALIVE on its connections (ActiveMQ with
// transport.keepAlive=true) and has few CLOSE_WAIT; h2 does not (ActiveMQ's
// default), and its fds are above 80% of a low limit while its CLOSE_WAIT
// count is below the threshold. The runbook warns about h2's keepalive, in
// JSON, markdown and text, restarts h2 only, and says it did for the fds.
func TestMQKeepaliveAndFDHeadroom(t *testing.T) {
	m := newMQLab(t, 2, lab.WithOverlayEtc())
	h1, h2 := m.Hosts[0], m.Hosts[1]
	m.restartWith(t, h1, "-keepalive")
	const limit = 40
	pid2 := m.restartWith(t, h2, fmt.Sprint("-nofile=", limit))
	m.load(t, h1, 3)
	// h2: 34 fds of 40 (85%), whatever the number of the Go runtime's own.
	base, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid2))
	if err != nil {
		t.Fatal(err)
	}
	n2 := 34 - len(base)
	m.load(t, h2, n2)
	pid1 := m.waitPID(t, h1)

	run := func(format string, args ...string) (string, int) {
		base := []string{"run", "mq-closewait", "-i", m.inventory, "--known-hosts", m.KnownHosts, "--format", format,
			"--lock-file", filepath.Join(m.dir, "run.lock"), "-e", "mq_restart_timeout=20s"} // default thresholds: 50, 80%
		stdout, _, code := tendRun(t, append(base, args...)...)
		return stdout, code
	}
	kaWarning := fmt.Sprintf("keepalive is off on %d of %d connections on :61616 — the keepalive tuning will not reach them; set transport.keepAlive=true on the broker's transportConnector", n2, n2)
	decision2 := fmt.Sprintf("restart for fds: %d CLOSE_WAIT <= closewait_threshold 50; 34 fds of 40 (85%%) > fd_restart_percent 80%%", n2)

	t.Run("check", func(t *testing.T) {
		stdout, code := run("json", "--check", "--detailed-exitcode")
		if code != exitChanged {
			t.Fatalf("exit %d, want %d", code, exitChanged)
		}
		events := parseEvents(t, stdout)
		c1, c2 := taskChange(t, events, h1.Name, countTask), taskChange(t, events, h2.Name, countTask)
		if !strings.HasSuffix(c1.Summary, "; keepalive on 3 of 3 connections") || c1.Data["keepalive_on"] != 3.0 || c1.Data["keepalive_off"] != 0.0 {
			t.Errorf("h1: %q %v", c1.Summary, c1.Data)
		}
		for _, w := range c1.Warnings {
			if strings.Contains(w, "keepalive") {
				t.Errorf("h1 has keepalive, yet: %s", w)
			}
		}
		if !containsPrefix(c2.Warnings, kaWarning) || c2.Data["keepalive_off"] != float64(n2) {
			t.Errorf("h2 warnings %q, want %q", c2.Warnings, kaWarning)
		}
		want := fmt.Sprintf("held by tend-standin-mq (pid %d): 34 fds of 40 (85%%); listening, 0 established; keepalive on 0 of %d connections", pid2, n2)
		if !strings.HasSuffix(c2.Summary, want) || c2.Data["fds"] != 34.0 || c2.Data["fd_limit"] != float64(limit) || c2.Data["fd_percent"] != 85.0 {
			t.Errorf("h2 summary %q (data %v), want suffix %q", c2.Summary, c2.Data, want)
		}
		if s := taskChange(t, events, h1.Name, decideTask).Summary; !strings.HasPrefix(s, "no restart: 3 CLOSE_WAIT <= closewait_threshold 50; ") || !strings.HasSuffix(s, "<= fd_restart_percent 80%") {
			t.Errorf("h1 decision %q", s)
		}
		if s := taskChange(t, events, h2.Name, decideTask).Summary; s != decision2 {
			t.Errorf("h2 decision\n got %q\nwant %q", s, decision2)
		}
		if r := findTask(t, events, h2.Name, mqRestart); r.Status != runner.StatusChanged || !r.DryRun {
			t.Errorf("h2 restart %s, want a planned restart", r.Status)
		}
		if s := findTask(t, events, h1.Name, mqRestart).Status; s != runner.StatusSkipped {
			t.Errorf("h1 restart %s, want skipped", s)
		}
	})

	// Each run's port probe costs the never-closing stand-in one more fd, so
	// later runs see h2 above 34 fds: the decision's words, not its count.
	decision2Later := regexp.MustCompile(fmt.Sprintf(`restart for fds: %d CLOSE_WAIT <= closewait_threshold 50; 3[4-9] fds of 40 \(\d+%%\) > fd_restart_percent 80%%`, n2))
	t.Run("markdown", func(t *testing.T) {
		stdout, _ := run("markdown", "--check")
		if !decision2Later.MatchString(stdout) {
			t.Errorf("markdown lacks %s", decision2Later)
		}
		for _, want := range []string{kaWarning} {
			if !strings.Contains(stdout, want) {
				t.Errorf("markdown lacks %q", want)
			}
		}
	})

	t.Run("apply", func(t *testing.T) {
		stdout, code := run("text")
		if code != 0 {
			t.Fatalf("exit %d, want 0", code)
		}
		if !decision2Later.MatchString(stdout) {
			t.Errorf("text output lacks %s", decision2Later)
		}
		for _, want := range []string{"warning: " + kaWarning, "keepalive on 3 of 3 connections"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("text output lacks %q", want)
			}
		}
		if pid := m.waitPID(t, h2); pid == pid2 {
			t.Errorf("h2 not restarted for its fds")
		}
		if pid := m.waitPID(t, h1); pid != pid1 {
			t.Errorf("h1 restarted")
		}
	})
}

func containsPrefix(xs []string, prefix string) bool {
	for _, x := range xs {
		if strings.HasPrefix(x, prefix) {
			return true
		}
	}
	return false
}
