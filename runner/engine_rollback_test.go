package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/inventory"
	"tend/runner/modules"
	"tend/runner/plan"
	"tend/runner/playbook"
	"tend/runner/transport"
)

// The rollback tests run the real file modules through the local
// transport on a temporary directory (one per host): memhost does not run
// the transport's file scripts (atomic write, backup), and those are what
// a rollback restores from. Nothing outside t.TempDir() is touched.

// localHosts connects every host to this machine.
type localHosts struct{}

func (localHosts) Connect(context.Context, *inventory.Host) (transport.Conn, error) {
	return transport.Local(), nil
}
func (localHosts) Close() error { return nil }

// runLocal runs src on hosts h1 and h2 (both this machine) with base set
// to dir, each host working under dir/<host>.
func runLocal(t *testing.T, src, dir string, check bool) (*Summary, *recorder) {
	t.Helper()
	pb, err := playbook.Parse("play.yml", []byte(src), playbook.ParseOptions{Modules: modules.Names()})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	inv, err := inventory.Load("h1,h2,")
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	rec := &recorder{}
	sum, err := Run(context.Background(), pb, inv, Options{Check: check, Connector: localHosts{}, Observer: rec,
		ExtraVars: map[string]any{"base": dir}})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return sum, rec
}

// rollbackPlay edits one file twice, overwrites another (copy keeps no
// backup unless asked), creates a third, runs a command, previews an edit
// (check_mode: true: nothing to undo); its verification fails on h1 only.
const rollbackPlay = `
- hosts: all
  gather_facts: false
  rollback: %s
  tasks:
    - name: tune timeout
      lineinfile: {path: "{{ base }}/{{ inventory_hostname }}/app.conf", regexp: '^timeout=', line: timeout=30}
    - name: tune retries
      lineinfile: {path: "{{ base }}/{{ inventory_hostname }}/app.conf", regexp: '^retries=', line: retries=5}
    - name: replace limits
      copy: {dest: "{{ base }}/{{ inventory_hostname }}/limits.conf", content: "nofile=65536\n"}
    - name: add extra config
      copy: {dest: "{{ base }}/{{ inventory_hostname }}/extra.conf", content: "x=1\n"}
    - name: reload app
      command: "true"
    - name: preview only
      lineinfile: {path: "{{ base }}/{{ inventory_hostname }}/app.conf", line: preview=1}
      check_mode: true
  verify:
    - name: app healthy
      assert: {that: ["inventory_hostname == 'h2'"]}
`

// rollbackFiles are the files each host starts with: odd bytes kept (CRLF,
// no final newline), and an unusual mode.
var rollbackFiles = map[string]string{
	"app.conf":    "# app\r\ntimeout=10\r\nretries=1",
	"limits.conf": "nofile=1024\n",
}

func seedRollback(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, h := range []string{"h1", "h2"} {
		if err := os.Mkdir(filepath.Join(dir, h), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range rollbackFiles {
			if err := os.WriteFile(filepath.Join(dir, h, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// TestEngineRollback (issue 13 item 3): a play with rollback: true whose
// verification fails on h1 puts back on h1 every file it changed there —
// byte-identical, mode kept, the created file removed — reports each item
// and the command it cannot undo, and h1 still counts as failed; h2, whose
// verification passed, keeps its changes.
func TestEngineRollback(t *testing.T) {
	dir := seedRollback(t)
	sum, rec := runLocal(t, strings.Replace(rollbackPlay, "%s", "true", 1), dir, false)

	if len(sum.Failed) != 1 || sum.Failed[0] != "h1" {
		t.Fatalf("failed hosts %q, want [h1]", sum.Failed)
	}
	for name, want := range rollbackFiles {
		p := filepath.Join(dir, "h1", name)
		got, err := os.ReadFile(p)
		if err != nil || string(got) != want {
			t.Errorf("h1 %s = %q (%v), want it as before: %q", name, got, err, want)
		}
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("h1 %s mode %v (%v), want 0600 as before", name, fi.Mode().Perm(), err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "h1", "extra.conf")); !os.IsNotExist(err) {
		t.Errorf("h1 extra.conf, created by the play, is still there (%v)", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "h2", "app.conf")); !strings.Contains(string(got), "timeout=30") || !strings.Contains(string(got), "retries=5") {
		t.Errorf("h2 app.conf = %q: its verification passed, it must keep its changes", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "h2", "extra.conf")); err != nil {
		t.Errorf("h2 extra.conf: %v, want it kept", err)
	}

	var rb *Rollback
	for _, d := range rec.dones {
		switch {
		case d.Host == "h1":
			rb = d.Rollback
		case d.Rollback != nil:
			t.Errorf("%s: rollback %+v on a host that did not fail", d.Host, d.Rollback)
		}
	}
	if rb == nil || rb.Outcome != "rolled back" || rb.Planned {
		t.Fatalf("h1 HostDone rollback %+v, want rolled back", rb)
	}
	var lines []string
	for _, it := range rb.Items {
		lines = append(lines, string(it.Status)+" "+it.Task)
	}
	want := []string{"not_undone reload app", "restored add extra config", "restored replace limits", "restored tune retries", "restored tune timeout"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("rollback items, last change first:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if d := rb.Items[0].Detail; !strings.Contains(d, "cannot be undone") {
		t.Errorf("the command's item says %q, want that it cannot be undone", d)
	}
	for _, r := range sum.Hosts {
		if r.Host == "h1" && (len(r.RolledBack) == 0 || !strings.HasSuffix(r.RolledBack[0], ": rolled back")) {
			t.Errorf("h1 recap rolled_back %q, want it to say rolled back", r.RolledBack)
		}
		if r.Host == "h2" && len(r.RolledBack) > 0 {
			t.Errorf("h2 recap rolled_back %q, want none", r.RolledBack)
		}
	}
}

// TestEngineNoRollbackWithout: the same play without rollback: true
// leaves h1 as its failed run made it.
func TestEngineNoRollbackWithout(t *testing.T) {
	dir := seedRollback(t)
	sum, rec := runLocal(t, strings.Replace(rollbackPlay, "%s", "false", 1), dir, false)
	if len(sum.Failed) != 1 {
		t.Fatalf("failed hosts %q, want [h1]", sum.Failed)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "h1", "app.conf")); !strings.Contains(string(got), "timeout=30") {
		t.Errorf("h1 app.conf = %q: without rollback: the change stays", got)
	}
	for _, d := range rec.dones {
		if d.Rollback != nil {
			t.Errorf("%s: rollback %+v without rollback: true", d.Host, d.Rollback)
		}
	}
}

// TestEngineRollbackCheckMode: a dry run of a rollback play changes
// nothing and says, per host, what a rollback would undo.
func TestEngineRollbackCheckMode(t *testing.T) {
	dir := seedRollback(t)
	_, rec := runLocal(t, strings.Replace(rollbackPlay, "%s", "true", 1), dir, true)
	for name, want := range rollbackFiles {
		if got, _ := os.ReadFile(filepath.Join(dir, "h1", name)); string(got) != want {
			t.Errorf("a dry run changed h1 %s: %q", name, got)
		}
	}
	n := 0
	for _, d := range rec.dones {
		n++
		if d.Rollback == nil || !d.Rollback.Planned || d.Rollback.Outcome != "on verification failure, 5 changes would be undone" {
			t.Errorf("%s: dry-run rollback %+v, want 5 changes planned", d.Host, d.Rollback)
		}
	}
	if n != 2 {
		t.Errorf("%d HostDone events, want 2", n)
	}
}

// TestEngineRollbackRedacted: what a rollback report says of a change
// (here a dry run's command line) hides secret values, in HostDone and
// in the recap, as every other event does.
func TestEngineRollbackRedacted(t *testing.T) {
	const canary = "s3cr3t-canary-4411"
	const src = `
- hosts: all
  gather_facts: false
  rollback: true
  secret_vars: [token]
  vars:
    token: "` + canary + `"
  tasks:
    - name: deploy
      command: deploy {{ token }}
`
	f := newFleet("h1")
	_, rec := runOn(t, f, src, Options{Check: true})
	if len(rec.dones) != 1 || rec.dones[0].Rollback == nil {
		t.Fatalf("HostDone %+v, want a planned rollback", rec.dones)
	}
	rb := rec.dones[0].Rollback
	if len(rb.Items) != 1 || rb.Items[0].Status != RollbackNotUndone || !strings.Contains(rb.Items[0].Detail, "deploy "+Redacted) {
		t.Errorf("rollback items %+v, want the command not undone, its secret redacted", rb.Items)
	}
	if strings.Contains(fmt.Sprint(rb), canary) {
		t.Errorf("the rollback report shows the secret: %+v", rb)
	}
}

// TestNotUndone: a change with nothing to restore from says what it was
// and why it stays.
func TestNotUndone(t *testing.T) {
	for _, c := range []struct {
		change plan.Change
		module string
		noLog  bool
		want   string
	}{
		{plan.Change{Action: plan.Restart, Summary: "restarted activemq: pid 1 -> 2"}, "service", false, "restarted activemq: pid 1 -> 2 (services are not restarted again)"},
		{plan.Change{Action: plan.Run}, "shell", false, "ran shell (a command cannot be undone)"},
		{plan.Change{Action: plan.Run, Summary: "would run: deploy"}, "command", false, "would run: deploy (a command cannot be undone)"},
		{plan.Change{Action: plan.Update, Summary: "/srv: mode 0755 -> 0700"}, "file", false, "/srv: mode 0755 -> 0700 (file leaves nothing to restore from)"},
		{plan.Change{Action: plan.Restart, Summary: "restarted secret-svc"}, "service", true, NoLogText + " (services are not restarted again)"},
	} {
		if got := notUndone(undoEntry{change: c.change, module: c.module, noLog: c.noLog}); got != c.want {
			t.Errorf("notUndone(%s %q) = %q, want %q", c.change.Action, c.change.Summary, got, c.want)
		}
	}
}
