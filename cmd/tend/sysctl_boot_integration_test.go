package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"tend/internal/lab"
	"tend/runner"
)

// bootPlay tunes two keys and checks what was registered about boot time.
const bootPlay = `
- name: tune
  hosts: all
  tasks:
    - name: keepalive
      sysctl:
        settings:
          net.ipv4.tcp_keepalive_time: 1200
          net.ipv4.tcp_fin_timeout: 30
        persist: %s
      register: tuned
    - name: boot report registered
      assert:
        that:
          - tuned.boot_reader == 'systemd-sysctl'
          - "'net.ipv4.tcp_keepalive_time' in tuned.reverts_at_boot"
          - tuned.reverts_at_boot | length == 1
          - tuned.boot['net.ipv4.tcp_keepalive_time'].file == '/etc/sysctl.d/zz-local.conf'
          - tuned.boot['net.ipv4.tcp_keepalive_time'].line == 3
          - tuned.boot['net.ipv4.tcp_keepalive_time'].value == '7200'
          - tuned.boot['net.ipv4.tcp_fin_timeout'].file == '/etc/sysctl.conf'
`

// bootReason is how tend names the override on a Debian host, where
// /etc/sysctl.d/99-sysctl.conf links to /etc/sysctl.conf and the lab's
// sysctl-systemd binary makes systemd-sysctl the boot-time reader.
const bootReason = "/etc/sysctl.d/zz-local.conf:3 sets net.ipv4.tcp_keepalive_time=7200 after /etc/sysctl.conf: it reverts at boot (systemd-sysctl's order)"

// taskResults returns every result of task on host, in order (task phase,
// then recheck).
func taskResults(t *testing.T, events []event, host, task string) map[runner.Phase]runner.TaskResult {
	t.Helper()
	out := map[runner.Phase]runner.TaskResult{}
	for _, e := range events {
		var r runner.TaskResult
		if e.Event == "task" && json.Unmarshal(e.Data, &r) == nil && r.Host == host && r.Task == task {
			out[r.Phase] = r
		}
	}
	return out
}

// TestSysctlBootOverride (issue 12 item 5): a real host (sshd, its own /etc
// view) has /etc/sysctl.d/zz-local.conf setting a key the task tunes, after
// /etc/sysctl.conf in systemd-sysctl's order. The dry run and the apply
// report it with file:line, the registered result carries it, the default
// recheck only warns, and persist: strict fails the recheck, clearly.
func TestSysctlBootOverride(t *testing.T) {
	if _, err := os.Stat("/lib/systemd/systemd-sysctl"); err != nil {
		if _, err := os.Stat("/usr/lib/systemd/systemd-sysctl"); err != nil {
			t.Skip("no systemd-sysctl on this machine: the boot-time reader would be procps")
		}
	}
	if _, err := os.Lstat("/etc/sysctl.d/zz-local.conf"); err == nil {
		t.Fatal("this machine has /etc/sysctl.d/zz-local.conf: the test would not see its own")
	}
	l := lab.New(t, 1, lab.WithOverlayEtc())
	h := l.Hosts[0]
	ctx := context.Background()
	sh := func(script string) string {
		t.Helper()
		out, errOut, err := h.Exec(ctx, "sh", "-c", script)
		if err != nil {
			t.Fatalf("%s: %v %s", script, err, errOut)
		}
		return out
	}
	if got := sh("readlink /etc/sysctl.d/99-sysctl.conf"); strings.TrimSpace(got) != "../sysctl.conf" {
		t.Skipf("/etc/sysctl.d/99-sysctl.conf is no link to ../sysctl.conf here (%q)", got)
	}
	// Only the host's overlay gets the file; only net.* keys, never applied with --system.
	sh("printf '# site settings\\n\\nnet.ipv4.tcp_keepalive_time = 7200\\n' > /etc/sysctl.d/zz-local.conf")
	if _, err := os.Lstat("/etc/sysctl.d/zz-local.conf"); err == nil {
		t.Fatal("the host's zz-local.conf reached this machine's /etc")
	}
	sh("printf '# lab\\nnet.ipv4.tcp_keepalive_time = 7200\\n' > /etc/sysctl.conf")
	inv := l.WriteInventory(t)
	dir := t.TempDir()
	base := []string{"run", "-i", inv, "--known-hosts", l.KnownHosts}

	// The dry run, as a reviewer reads it.
	warnPlay := writeFile(t, dir, "warn.yml", fmt.Sprintf(bootPlay, "warn"))
	stdout, _, code := tendRun(t, append(base, "--check", warnPlay)...)
	if code != 0 && code != 2 {
		t.Fatalf("--check: exit %d", code)
	}
	for _, want := range []string{"1 reverts at boot (net.ipv4.tcp_keepalive_time)", "warning: " + bootReason, "ok           [h1] boot report registered"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("dry run output lacks %q", want)
		}
	}

	// The apply: changed, the recheck passes with the warning.
	stdout, _, code = tendRun(t, append(base, "--format", "json", warnPlay)...)
	if code != 0 {
		t.Fatalf("apply: exit %d", code)
	}
	events := parseEvents(t, stdout)
	rs := taskResults(t, events, "h1", "keepalive")
	if r := rs[runner.PhaseTask]; r.Status != runner.StatusChanged || !strings.Contains(strings.Join(r.Change.Warnings, "\n"), bootReason) {
		t.Errorf("apply: %s %q", r.Status, r.Change.Warnings)
	}
	if r := rs[runner.PhaseRecheck]; r.Status != runner.StatusOK || !strings.Contains(strings.Join(r.Change.Warnings, "\n"), bootReason) {
		t.Errorf("recheck: %s %q %q", r.Status, r.Error, r.Change.Warnings)
	}
	if s := findTask(t, events, "h1", "boot report registered").Status; s != runner.StatusOK {
		t.Errorf("registered boot report: %s", s)
	}
	if v := strings.TrimSpace(sh("cat /proc/sys/net/ipv4/tcp_keepalive_time")); v != "1200" {
		t.Errorf("live tcp_keepalive_time %s, want 1200", v)
	}

	// persist: strict, with a change to make: applied, then the recheck fails.
	sh("sysctl -q -w net.ipv4.tcp_keepalive_time=7200")
	strictPlay := writeFile(t, dir, "strict.yml", fmt.Sprintf(bootPlay, "strict"))
	stdout, _, code = tendRun(t, append(base, "--check", strictPlay)...)
	if !strings.Contains(stdout, "warning: persist: strict: the recheck after apply will fail while net.ipv4.tcp_keepalive_time reverts at boot") {
		t.Errorf("strict dry run (exit %d) does not say the recheck will fail", code)
	}
	stdout, _, code = tendRun(t, append(base, "--format", "json", strictPlay)...)
	if code != exitFailed {
		t.Fatalf("strict apply: exit %d, want %d", code, exitFailed)
	}
	rs = taskResults(t, parseEvents(t, stdout), "h1", "keepalive")
	if r := rs[runner.PhaseTask]; r.Status != runner.StatusChanged {
		t.Errorf("strict apply: %s %s", r.Status, r.Error)
	}
	want := "verification: persist: strict: the values do not persist: " + bootReason
	if r := rs[runner.PhaseRecheck]; r.Status != runner.StatusFailed || !strings.HasPrefix(r.Error, want) {
		t.Errorf("strict recheck: %s %q, want it to start with %q", r.Status, r.Error, want)
	}

	// Nothing left to change: strict fails the task itself, the default does not.
	if _, _, code = tendRun(t, append(base, strictPlay)...); code != exitFailed {
		t.Errorf("strict run with nothing to change: exit %d, want %d", code, exitFailed)
	}
	if _, _, code = tendRun(t, append(base, warnPlay)...); code != 0 {
		t.Errorf("default run with nothing to change: exit %d, want 0", code)
	}
}
