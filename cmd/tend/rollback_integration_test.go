package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/internal/lab"
	"tend/runner"
)

// rollbackLabPlay tunes two per-namespace keys (live and in
// /etc/sysctl.conf) and edits an application file; its verification fails
// on purpose on h1 only.
const rollbackLabPlay = `
- name: tune and verify
  hosts: all
  rollback: true
  gather_facts: false
  tasks:
    - name: tune TCP
      sysctl:
        settings:
          net.ipv4.tcp_keepalive_time: 1200
          net.ipv4.tcp_fin_timeout: 30
    - name: broker keepalive
      lineinfile: {path: "{{ base }}/{{ inventory_hostname }}/activemq.xml", regexp: 'transport.keepAlive', line: '<transportConnector uri="tcp://0.0.0.0:61616?transport.keepAlive=true"/>'}
  verify:
    - name: broker healthy
      assert:
        that: ["inventory_hostname != 'h1'"]
        fail_msg: h1 fails its verification on purpose
`

// hostDones returns the host_done events of host.
func hostDones(t *testing.T, events []event, host string) []runner.HostDone {
	t.Helper()
	var out []runner.HostDone
	for _, e := range events {
		var d runner.HostDone
		if e.Event == "host_done" && json.Unmarshal(e.Data, &d) == nil && d.Host == host {
			out = append(out, d)
		}
	}
	return out
}

// TestRollbackOnLabHosts (issue 13 item 3): on real hosts (sshd, own
// network namespace, own /etc overlay), a rollback play whose verification
// fails on h1 leaves h1's /etc/sysctl.conf and application file
// byte-identical to before (md5) and its live values as they were; the
// events and the recap say rolled back and name each item; h1 still
// fails the run. h2, whose verification passed, keeps every change. The
// dry run says what a rollback would undo.
func TestRollbackOnLabHosts(t *testing.T) {
	l := lab.New(t, 2, lab.WithOverlayEtc())
	ctx := context.Background()
	sh := func(h *lab.Host, script string) string {
		t.Helper()
		out, errOut, err := h.Exec(ctx, "sh", "-c", script)
		if err != nil {
			t.Fatalf("%s: %s: %v %s", h.Name, script, err, errOut)
		}
		return strings.TrimSpace(out)
	}
	base := t.TempDir()
	const app = "<broker>\n  <transportConnector uri=\"tcp://0.0.0.0:61616\"/>\n</broker>" // no final newline
	for _, h := range l.Hosts {
		// Only net.* keys, per network namespace; the values are not the
		// kernel's defaults, so a reset to a default would show.
		sh(h, "sysctl -q -w net.ipv4.tcp_keepalive_time=7000 && sysctl -q -w net.ipv4.tcp_fin_timeout=45")
		sh(h, "printf '# lab host\\nnet.ipv4.tcp_keepalive_time=7000\\n#end' > /etc/sysctl.conf")
		if err := os.MkdirAll(filepath.Join(base, h.Name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(base, h.Name, "activemq.xml"), []byte(app), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	md5 := func(h *lab.Host) string {
		return sh(h, "md5sum < /etc/sysctl.conf; md5sum < "+filepath.Join(base, h.Name, "activemq.xml"))
	}
	live := func(h *lab.Host) string {
		return sh(h, "cat /proc/sys/net/ipv4/tcp_keepalive_time /proc/sys/net/ipv4/tcp_fin_timeout | tr '\\n' ' '")
	}
	before := map[string]string{}
	for _, h := range l.Hosts {
		before[h.Name] = md5(h)
	}
	pb := writeFile(t, t.TempDir(), "rollback.yml", rollbackLabPlay)
	args := []string{"run", "-i", l.WriteInventory(t), "--known-hosts", l.KnownHosts, "-e", "base=" + base}

	// The dry run says it, and changes nothing.
	stdout, _, code := tendRun(t, append(args, "--check", pb)...)
	if (code != 0 && code != 2) || !strings.Contains(stdout, "rollback     [h1] on verification failure, 2 changes would be undone") {
		t.Errorf("dry run (exit %d) does not say what a rollback would undo", code)
	}
	for _, h := range l.Hosts {
		if got := md5(h); got != before[h.Name] {
			t.Errorf("%s: the dry run changed files", h.Name)
		}
	}

	stdout, _, code = tendRun(t, append(args, "--format", "json", pb)...)
	if code != exitFailed {
		t.Errorf("exit %d, want %d (h1 still failed)", code, exitFailed)
	}
	h1, h2 := l.Hosts[0], l.Hosts[1]
	if got := md5(h1); got != before[h1.Name] {
		t.Errorf("h1 files after the rollback:\n%s\nwant as before:\n%s", got, before[h1.Name])
	}
	if got := live(h1); got != "7000 45" {
		t.Errorf("h1 live keepalive_time, fin_timeout = %q, want them as before: 7000 45", got)
	}
	if got := live(h2); got != "1200 30" {
		t.Errorf("h2 live values %q, want the change kept: 1200 30", got)
	}
	if got := md5(h2); got == before[h2.Name] || strings.Count(got, "\n") != 1 {
		t.Errorf("h2 files unchanged (%q): its verification passed, it keeps its changes", got)
	}

	events := parseEvents(t, stdout)
	d := hostDones(t, events, "h1")
	if len(d) != 1 || d[0].Status != runner.StatusFailed || d[0].Rollback == nil {
		t.Fatalf("h1 host_done %+v, want failed with a rollback", d)
	}
	rb := d[0].Rollback
	if rb.Outcome != "rolled back" {
		t.Errorf("h1 rollback outcome %q, want rolled back", rb.Outcome)
	}
	var got []string
	for _, it := range rb.Items {
		got = append(got, string(it.Status)+" "+it.Target)
	}
	want := []string{
		"restored " + filepath.Join(base, "h1", "activemq.xml"),
		"restored /etc/sysctl.conf",
		"restored net.ipv4.tcp_fin_timeout",
		"restored net.ipv4.tcp_keepalive_time",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("h1 rollback items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, d := range hostDones(t, events, "h2") {
		if d.Rollback != nil {
			t.Errorf("h2 rolled back %+v, but its verification passed", d.Rollback)
		}
	}
	var sum runner.Summary
	for _, e := range events {
		if e.Event == "summary" {
			_ = json.Unmarshal(e.Data, &sum)
		}
	}
	for _, r := range sum.Hosts {
		if r.Host == "h1" && !strings.Contains(strings.Join(r.RolledBack, "\n"), `play "tune and verify": rolled back`) {
			t.Errorf("h1 recap rolled_back %q", r.RolledBack)
		}
	}
}
