package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"tend/internal/lab"
	"tend/runner"
)

// TestLoopsDifferential runs testdata/differential/loops.yml with
// ansible-playbook on lab host h1 and with tend on h2 (fresh, identical
// hosts over real sshd) and compares what each left: the files written
// (names and contents, the host name aside) and the recap counts
// (changed, failed, skipped, ignored). The expected end state is also
// checked on its own, so the test means something without Ansible.
func TestLoopsDifferential(t *testing.T) {
	l := lab.New(t, 2)
	inv := l.WriteInventory(t)
	pb, err := filepath.Abs("testdata/differential/loops.yml")
	if err != nil {
		t.Fatal(err)
	}
	tendDir, ansDir := t.TempDir(), t.TempDir()
	for _, d := range []string{tendDir, ansDir} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	stdout, _, code := runLocked(t, "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json", "--limit", "h2", "-e", "dir="+tendDir, pb)
	if code != 0 {
		t.Fatalf("tend exit %d", code)
	}
	rc := summaryOf(t, parseEvents(t, stdout)).Hosts[0]
	tendRecap := map[string]int{"changed": rc.Changed, "failed": rc.Failed, "skipped": rc.Skipped, "ignored": rc.Ignored}
	tendFiles := filesOf(t, tendDir, "h2")
	want := map[string]string{
		"alpha": "alpha\n", "gamma": "gamma\n", "written": "alpha,beta,gamma 2 1 All items completed\n",
		"fin_timeout": "30\n", "keepalive": "1200\n", "seq1": "0 3 3\n", "seq2": "1 3 2\n", "seq3": "2 3 1\n",
		"nested": "a1\na2\nb1\nb2\n", "together": "x-1\ny-2\n", "items": "p\nq\nr\n",
		"dict2items": "fin_timeout=30\nkeepalive=1200\n", "until-u1": "x\nx\n", "until-u2": "x\nx\n",
		"registered": "C 1 2,2 F One or more items failed bad\n",
	}
	if got, w := flatFiles(tendFiles), flatFiles(want); got != w {
		t.Errorf("tend left\n%s\nwant\n%s", got, w)
	}
	if w := map[string]int{"changed": 11, "failed": 0, "skipped": 2, "ignored": 1}; flatCounts(tendRecap) != flatCounts(w) {
		t.Errorf("tend recap %v, want %v", tendRecap, w)
	}

	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		t.Skip("ansible-playbook not installed; the Ansible side of the comparison is skipped")
	}
	cmd := exec.CommandContext(context.Background(), bin, "-i", inv, "--limit", "h1", "-e", "dir="+ansDir, pb)
	cmd.Env = append(oracleEnv(t), "ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3", "ANSIBLE_HOST_KEY_CHECKING=True",
		"ANSIBLE_SSH_ARGS="+strings.Join(l.SSHArgs(), " "))
	out, err := cmd.CombinedOutput()
	t.Logf("ansible-playbook:\n%s", out)
	if err != nil {
		t.Fatalf("ansible-playbook: %v", err)
	}
	m := regexp.MustCompile(`(?m)^h1\s*:.*changed=(\d+).*failed=(\d+)\s+skipped=(\d+).*ignored=(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatal("no recap line for h1 in ansible-playbook's output")
	}
	ansRecap := map[string]int{}
	for i, k := range []string{"changed", "failed", "skipped", "ignored"} {
		ansRecap[k], _ = strconv.Atoi(string(m[i+1]))
	}
	if flatCounts(ansRecap) != flatCounts(tendRecap) {
		t.Errorf("recap: ansible %v, tend %v", ansRecap, tendRecap)
	}
	if a, b := flatFiles(filesOf(t, ansDir, "h1")), flatFiles(tendFiles); a != b {
		t.Errorf("files: ansible left\n%s\ntend left\n%s", a, b)
	}
}

// filesOf reads dir's files named host.X, keyed by X.
func filesOf(t *testing.T, dir, host string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), host+".")
		if !ok {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = string(b)
	}
	return out
}

func flatFiles(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + ": " + strconv.Quote(m[k]) + "\n")
	}
	return b.String()
}

func flatCounts(m map[string]int) string {
	return "changed=" + strconv.Itoa(m["changed"]) + " failed=" + strconv.Itoa(m["failed"]) +
		" skipped=" + strconv.Itoa(m["skipped"]) + " ignored=" + strconv.Itoa(m["ignored"])
}

// TestSysctlLoopBatched: a sysctl loop over three keys on a lab host runs
// as one batched task — one re-check after apply, not one per item — while
// each item is reported and registered on its own; the end state is the
// three live values and sysctl.conf lines; a second run changes nothing.
func TestSysctlLoopBatched(t *testing.T) {
	l := lab.New(t, 1)
	inv := l.WriteInventory(t)
	h := l.Hosts[0]
	pb, err := filepath.Abs("testdata/differential/sysctl-loop.yml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keys := []string{"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_probes"}
	live := func() string {
		out, stderr, err := l.SSH(context.Background(), h, "sysctl -n "+strings.Join(keys, " "))
		if err != nil {
			t.Fatalf("sysctl -n: %v %s", err, stderr)
		}
		return strings.Join(strings.Fields(out), " ")
	}
	before := live()
	run := func(args ...string) ([]event, runner.HostRecap) {
		t.Helper()
		stdout, _, code := runLocked(t, append([]string{"-i", inv, "--known-hosts", l.KnownHosts, "--format", "json", "-e", "dir=" + dir}, append(args, pb)...)...)
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		ev := parseEvents(t, stdout)
		return ev, summaryOf(t, ev).Hosts[0]
	}
	itemStatuses := func(ev []event, phase runner.Phase) (items []string, whole int) {
		for _, r := range eventsOf[runner.TaskResult](t, ev, "task") {
			if r.Task != "tune TCP" || r.Phase != phase {
				continue
			}
			if r.Item == "" {
				whole++
				continue
			}
			items = append(items, r.Item+"="+string(r.Status))
		}
		return items, whole
	}

	ev, rc := run("--check")
	if got := live(); got != before {
		t.Errorf("a dry run changed live values: %s → %s", before, got)
	}
	if items, _ := itemStatuses(ev, runner.PhaseTask); strings.Join(items, " ") != "net.ipv4.tcp_fin_timeout=changed net.ipv4.tcp_keepalive_time=changed net.ipv4.tcp_keepalive_probes=changed" || rc.Changed != 1 {
		t.Errorf("check: items %v, recap %+v", items, rc)
	}

	ev, rc = run()
	if got := live(); got != "31 1201 7" {
		t.Errorf("live values %s, want 31 1201 7", got)
	}
	conf, _, err := l.SSH(context.Background(), h, "cat /etc/sysctl.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"net.ipv4.tcp_fin_timeout = 31", "net.ipv4.tcp_keepalive_time = 1201", "net.ipv4.tcp_keepalive_probes = 7"} {
		if !strings.Contains(conf, want) {
			t.Errorf("sysctl.conf lacks %q:\n%s", want, conf)
		}
	}
	if items, _ := itemStatuses(ev, runner.PhaseTask); len(items) != 3 || rc.Changed != 2 { // the loop once, the handler
		t.Errorf("apply: items %v, recap %+v", items, rc)
	}
	if items, whole := itemStatuses(ev, runner.PhaseRecheck); len(items) != 0 || whole != 1 {
		t.Errorf("re-checks: per item %v, whole %d; want one re-check of the batch", items, whole)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, h.Name+".count")); string(b) != "3 net.ipv4.tcp_fin_timeout,net.ipv4.tcp_keepalive_time,net.ipv4.tcp_keepalive_probes\n" {
		t.Errorf("registered results as the handler saw them: %q", b)
	}

	ev, rc = run()
	if items, _ := itemStatuses(ev, runner.PhaseTask); strings.Join(items, " ") != "net.ipv4.tcp_fin_timeout=ok net.ipv4.tcp_keepalive_time=ok net.ipv4.tcp_keepalive_probes=ok" || rc.Changed != 0 {
		t.Errorf("second apply: items %v, recap %+v", items, rc)
	}
}
