package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"tend/internal/lab"
)

// pullPlay is what a host runs on itself in pull mode: it reads its own
// namespace's keepalive into a metric, then (budgeted: twice a day) sets
// it and counts the change in a file.
const pullPlay = `
- name: remediate
  hosts: all
  gather_facts: false
  tasks:
    - name: read keepalive
      command: cat /proc/sys/net/ipv4/tcp_keepalive_time
      register: ka
      changed_when: false
      metrics:
        tend_test_keepalive_seconds: ka.stdout
    - name: tune keepalive
      shell: sysctl -q -w net.ipv4.tcp_keepalive_time=1201 && echo tuned >> {{ dir }}/tuned
      budget: {max: 2, per: 24h}
`

// TestPullModeOnLabHost: pull mode, as a host's own timer runs it. The unit
// tend schedule systemd writes for `-c local` (no inventory: the host
// itself) is run on a lab host over its sshd, with tend copied into the
// lab's files: the run happens in the host's namespace (its keepalive
// changes, this machine's does not), and the budget record, the lock and
// the metrics file work there: a held lock refuses the run (exit 7), the
// second change is a relapse (relapsed=1), the third is refused (exit 9).
func TestPullModeOnLabHost(t *testing.T) {
	l := lab.New(t, 1)
	h := l.Hosts[0]
	ctx := context.Background()

	self, err := exec.LookPath("tend") // TestMain's copy of this binary, run as tend
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(l.Dir, "pull")
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin", "tend")
	pullCopyFile(t, self, bin, 0o755)
	pb := filepath.Join(dir, "play.yml")
	if err := os.WriteFile(pb, []byte(pullPlay), 0o644); err != nil {
		t.Fatal(err)
	}
	lock, prom, state := filepath.Join(dir, "tend.lock"), filepath.Join(dir, "tend.prom"), filepath.Join(dir, "state")

	// The unit a host's timer would run; no --every, so no --min-interval.
	var out, errb strings.Builder
	if err := run(ctx, []string{"schedule", "systemd", pb, "-c", "local", "--on-calendar", "*:0/15", "--tend", bin,
		"--lock-file", lock, "--metrics-file", prom, "-e", "tend_state_dir=" + state, "-e", "dir=" + dir}, &out, &errb); err != nil {
		t.Fatalf("tend schedule: %v\n%s", err, errb.String())
	}
	m := regexp.MustCompile(`(?m)^ExecStart=(.*)$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no ExecStart in\n%s", out.String())
	}
	execStart := m[1]
	if strings.Contains(execStart, "--inventory") || !strings.Contains(execStart, "--connection=local") {
		t.Fatalf("ExecStart=%s: want a local run without inventory", execStart)
	}
	rootKeepalive := pullReadFile(t, "/proc/sys/net/ipv4/tcp_keepalive_time")

	// runOnHost runs the unit's command on the host over its sshd, in dir.
	runOnHost := func(want int) string {
		t.Helper()
		stdout, stderr, err := l.SSH(ctx, h, "cd "+dir+" && "+execStart)
		got := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			got = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("on %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", h.Name, got, want, stdout, stderr)
		}
		return stdout + stderr
	}

	got := runOnHost(0)
	for _, re := range []string{`changed +\[localhost\] tune keepalive .*\(budget: 0 of 2 used in 24h\)`,
		`(?m)^localhost +ok=1 changed=1 failed=0 skipped=0 unreachable=0 ignored=0$`} {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("run 1: no match for %s in\n%s", re, got)
		}
	}
	metrics := pullReadFile(t, prom)
	for _, want := range []string{`tend_test_keepalive_seconds{host="localhost",playbook="play"} 7200`,
		`tend_host_changed{host="localhost",playbook="play"} 1`, `tend_run_last_success_timestamp_seconds{playbook="play"} `} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics file: no %q in\n%s", want, metrics)
		}
	}
	if v, _, err := h.Exec(ctx, "cat", "/proc/sys/net/ipv4/tcp_keepalive_time"); err != nil || strings.TrimSpace(v) != "1201" {
		t.Errorf("keepalive in %s's namespace: %q (%v), want 1201", h.Name, v, err)
	}
	if after := pullReadFile(t, "/proc/sys/net/ipv4/tcp_keepalive_time"); after != rootKeepalive {
		t.Errorf("this machine's keepalive changed: %q -> %q (the run was not local to the host)", rootKeepalive, after)
	}
	records, _ := filepath.Glob(filepath.Join(state, "budget-*.json"))
	if len(records) != 1 {
		t.Errorf("budget records in %s: %v, want one", state, records)
	}

	// Another run holds the lock: nothing is touched.
	f, err := os.OpenFile(lock, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if got := runOnHost(7); !strings.Contains(got, "another tend run holds "+lock) {
		t.Errorf("locked run said\n%s", got)
	}
	f.Close() // releases the lock
	if n := strings.Count(pullReadFile(t, filepath.Join(dir, "tuned")), "tuned"); n != 1 {
		t.Errorf("tuned %d times after the locked run, want 1", n)
	}

	got = runOnHost(0)
	for _, re := range []string{`RELAPSE +\[localhost\] tune keepalive`, `(?m)^localhost +ok=1 changed=1 .* relapsed=1$`} {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("run 2: no match for %s in\n%s", re, got)
		}
	}
	if metrics := pullReadFile(t, prom); !strings.Contains(metrics, `tend_relapse{host="localhost",playbook="play",task="tune keepalive"} 1`) {
		t.Errorf("metrics file after the relapse:\n%s", metrics)
	}

	if got := runOnHost(9); !strings.Contains(got, "budget spent: changed 2 times in 24h") {
		t.Errorf("run 3 said\n%s", got)
	}
	if n := strings.Count(pullReadFile(t, filepath.Join(dir, "tuned")), "tuned"); n != 2 {
		t.Errorf("tuned %d times, want 2 (the budget)", n)
	}
}

func pullCopyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

func pullReadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
