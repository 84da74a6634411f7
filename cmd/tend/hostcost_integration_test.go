package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"tend/internal/lab"
	"tend/runner"
)

// hostCostInitialConf is bench/closewait.sh's initial /etc/sysctl.conf:
// three of the runbook's nine keys, two with other values.
const hostCostInitialConf = `# /etc/sysctl.conf of a tend lab host
# TCP settings from an older runbook
net.ipv4.tcp_fin_timeout=60
net.ipv4.tcp_keepalive_time=7200
net.ipv4.tcp_syncookies=1
`

// hostCostLimits are the most programs a run of the CLOSE_WAIT runbook may
// exec on one host, and the most SSH sessions it may open there (sshd's
// own execs aside); the handler's /etc/init.d/activemq (a one-line script
// here) is one of the programs. Before issue 10's cut (2026-12-07): check
// 29 programs, 2 sessions; apply 61, 3; second apply 29, 2; after it 24,
// 43, 24; since facts are gathered only when the run reads one (this
// runbook reads none: 13 programs fewer) 11, 30, 11.
var hostCostLimits = []struct {
	phase              string
	args               []string
	programs, sessions int
}{
	{"check", []string{"--check"}, 11, 2},
	{"apply", nil, 30, 3},
	{"apply2", nil, 11, 2},
}

// TestHostCostCloseWait is issue 10's regression guard on the cost tend puts
// on each host, counted, not timed: bench/ansible/closewait-runbook.yml (the
// runbook as an Ansible user writes it, which bench/closewait.sh times) runs
// on a lab host in check mode, then applied twice, while every execve under
// the host's sshd is traced. Each run must stay within hostCostLimits; the
// table of programs per remote command is logged (go test -v, or
// bench/hostcost.sh).
func TestHostCostCloseWait(t *testing.T) {
	if _, err := exec.LookPath("strace"); err != nil {
		t.Fatalf("strace is not installed (apt-get install -y strace, as scripts/test.sh does)")
	}
	l := lab.New(t, 1, lab.WithOverlayEtc())
	h := l.Hosts[0]
	ctx := context.Background()
	setup := `printf '%s' "$1" > /etc/sysctl.conf && mkdir -p /etc/init.d &&
printf '%s\n' '#!/bin/sh' 'case $1 in restart) exit 0 ;; *) echo "usage: $0 restart" >&2; exit 3 ;; esac' > /etc/init.d/activemq &&
chmod 755 /etc/init.d/activemq`
	if _, stderr, err := h.Exec(ctx, "sh", "-c", setup, "sh", hostCostInitialConf); err != nil {
		t.Fatalf("host setup: %v: %s", err, stderr)
	}
	pb, err := filepath.Abs("../../bench/ansible/closewait-runbook.yml")
	if err != nil {
		t.Fatal(err)
	}
	inv := l.WriteInventory(t)
	var report strings.Builder
	for _, tc := range hostCostLimits {
		stop := h.TraceExecs(t)
		stdout, _, code := tendRun(t, append([]string{"run", "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json", pb}, tc.args...)...)
		tr := stop()
		if code != 0 {
			t.Fatalf("%s: tend exit %d", tc.phase, code)
		}
		want := runner.StatusChanged // a dry run reports the change it would make
		if tc.phase == "apply2" {
			want = runner.StatusOK
		}
		if s := findTask(t, parseEvents(t, stdout), h.Name, "Tune TCP").Status; s != want {
			t.Fatalf("%s: Tune TCP %s, want %s", tc.phase, s, want)
		}
		fmt.Fprintf(&report, "%s: %d programs, %d sessions on %s (limits %d, %d; and %d of sshd's own execs)\n",
			tc.phase, tr.Programs(), tr.Sessions, h.Name, tc.programs, tc.sessions, tr.SSHDExecs)
		writeHostCostTable(&report, tr)
		if tr.Programs() > tc.programs || tr.Sessions > tc.sessions {
			t.Errorf("%s: %d programs and %d sessions on the host, limits %d and %d", tc.phase, tr.Programs(), tr.Sessions, tc.programs, tc.sessions)
		}
		if tr.Programs() < 3 {
			t.Errorf("%s: the trace saw %d programs: it proves nothing", tc.phase, tr.Programs())
		}
	}
	t.Logf("programs exec'd and sessions opened per remote command:\n%s", report.String())
	if p := os.Getenv("TEND_HOSTCOST_REPORT"); p != "" {
		if err := os.WriteFile(p, []byte(report.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// writeHostCostTable writes one line per remote command: its programs,
// whether it was a session of its own, what it is, and the programs' names.
func writeHostCostTable(w *strings.Builder, tr *lab.ExecTrace) {
	for _, c := range tr.Commands {
		var names []string
		for _, p := range c.Programs {
			names = append(names, filepath.Base(p[0]))
		}
		how := "shell"
		if c.Session {
			how = "session"
		}
		fmt.Fprintf(w, "  %3d  %-7s  %-48s %s\n", len(c.Programs), how, hostCostStep(c.Text), strings.Join(names, " "))
	}
}

// hostCostStep names a remote command of tend's from its text.
func hostCostStep(text string) string {
	for _, s := range []struct{ part, name string }{
		{"@@tend:", "gather facts"},
		{`absent\0`, "sysctl: read file, live and boot values"},
		{`stale\0`, "sysctl: write live values, read back"},
		{".tend-tmp.", "write sysctl.conf atomically, with backup"},
		{"sysctl -p", "sysctl -p, read back from /proc/sys"},
		{`mkdir -p -- "$1"`, "pending-handler marker: write"},
		{`[ -e "$f" ] && echo`, "pending-handler markers: look up"},
		{`rm -f -- "$@"`, "pending-handler marker: clear"},
		{"activemq", "handler: /etc/init.d/activemq restart"},
		{"close-wait", "shell: count CLOSE_WAIT"},
		{`probe "$@"`, "sysctl recheck: read live values"},
	} {
		if strings.Contains(text, s.part) {
			return s.name
		}
	}
	if text == "exec /bin/sh" {
		return "the connection's shell"
	}
	text = strings.ReplaceAll(text, "\n", " ")
	if len(text) > 48 {
		text = text[:45] + "..."
	}
	return text
}
