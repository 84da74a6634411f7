package main

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"tend/internal/lab"
)

// rebootPlay reboots each host with its lab reboot command, then reads the
// boot ID over the re-established connection.
const rebootPlay = `
- hosts: all
  gather_facts: false
  tasks:
    - name: reboot
      reboot:
        reboot_command: "{{ reboot_cmd }}"
        reboot_timeout: "{{ reboot_wait }}"
        connect_timeout: 5
      register: r
    - name: after
      command: cat /proc/sys/kernel/random/boot_id
      register: after
    - name: registered
      assert:
        that:
          - r.rebooted
          - r.elapsed >= 0
          - after.stdout != before_id[inventory_hostname]
`

// rebootInventory is the lab's inventory with each host's reboot command
// and reboot_timeout as host variables.
func rebootInventory(t *testing.T, l *lab.Lab, wait map[string]string) string {
	t.Helper()
	var inv map[string]map[string]map[string]map[string]any
	if err := yaml.Unmarshal([]byte(l.InventoryYAML()), &inv); err != nil {
		t.Fatal(err)
	}
	for _, h := range l.Hosts {
		v := inv["all"]["hosts"][h.Name]
		v["reboot_cmd"], v["reboot_wait"] = h.RebootCommand(), wait[h.Name]
	}
	b, err := yaml.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, t.TempDir(), "hosts.yml", string(b))
}

// TestRebootLab reboots simulated hosts: one comes back (new boot ID,
// later tasks run over the new connection), one comes back with another
// host key (refused as at connect), one never comes back (reboot_timeout),
// one comes back with the same boot ID (it did not reboot). A dry run
// first changes nothing.
func TestRebootLab(t *testing.T) {
	l := lab.New(t, 4)
	ok, newKey, gone, same := l.Hosts[0], l.Hosts[1], l.Hosts[2], l.Hosts[3]
	ok.EnableReboot(t, lab.RebootOptions{Down: 300 * time.Millisecond})
	newKey.EnableReboot(t, lab.RebootOptions{Down: 100 * time.Millisecond, NewHostKey: true})
	gone.EnableReboot(t, lab.RebootOptions{NeverReturn: true})
	same.EnableReboot(t, lab.RebootOptions{Down: 100 * time.Millisecond, KeepBootID: true})
	inv := rebootInventory(t, l, map[string]string{ok.Name: "120s", newKey.Name: "10s", gone.Name: "3s", same.Name: "3s"})
	before := map[string]string{}
	var ids []string
	for _, h := range l.Hosts {
		before[h.Name] = h.BootID()
		ids = append(ids, `"`+h.Name+`": "`+h.BootID()+`"`)
	}
	pb := writeFile(t, t.TempDir(), "play.yml", rebootPlay)
	extra := "{before_id: {" + strings.Join(ids, ", ") + "}}"

	t.Run("check", func(t *testing.T) {
		pids := map[string]int{}
		for _, h := range l.Hosts {
			pids[h.Name] = h.SSHDPID()
		}
		one := writeFile(t, t.TempDir(), "play.yml", strings.SplitAfter(rebootPlay, "register: r\n")[0])
		stdout, _, code := runLocked(t, "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json", "--check", one)
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		res := findTask(t, parseEvents(t, stdout), ok.Name, "reboot")
		if res.Status != "changed" || !res.DryRun || !strings.Contains(res.Change.Summary, "would reboot with "+ok.RebootCommand()) ||
			!strings.Contains(res.Change.Summary, before[ok.Name]) {
			t.Errorf("dry run: %s dry=%v %q", res.Status, res.DryRun, res.Change.Summary)
		}
		for _, h := range l.Hosts {
			if h.Reboots() != 0 || h.SSHDPID() != pids[h.Name] || h.BootID() != before[h.Name] {
				t.Errorf("%s: a dry run rebooted it: %d reboots, sshd %d -> %d", h.Name, h.Reboots(), pids[h.Name], h.SSHDPID())
			}
		}
	})

	stdout, _, code := runLocked(t, "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json", "-e", extra, pb)
	if code == 0 {
		t.Errorf("exit 0 with three hosts failing")
	}
	events := parseEvents(t, stdout)

	// The host that came back: new boot ID, later tasks ran on it.
	if r := findTask(t, events, ok.Name, "reboot"); r.Status != "changed" || !strings.Contains(r.Change.Summary, "-> "+ok.BootID()) {
		t.Errorf("%s: reboot %s %q %s", ok.Name, r.Status, r.Change.Summary, r.Error)
	}
	if ok.Reboots() != 1 || ok.BootID() == before[ok.Name] {
		t.Errorf("%s: %d reboots, boot ID %s (before %s)", ok.Name, ok.Reboots(), ok.BootID(), before[ok.Name])
	}
	if r := findTask(t, events, ok.Name, "after"); r.Status != "changed" || strings.TrimSpace(r.Change.Data["stdout"].(string)) != ok.BootID() {
		t.Errorf("%s: the task after the reboot: %s %v %s", ok.Name, r.Status, r.Change.Data["stdout"], r.Error)
	}
	if r := findTask(t, events, ok.Name, "registered"); r.Status != "ok" {
		t.Errorf("%s: registered result: %s %s", ok.Name, r.Status, r.Error)
	}
	sum := summaryOf(t, events)
	for _, rc := range sum.Hosts {
		if rc.Host == ok.Name && (rc.Changed != 2 || rc.Failed+rc.Unreachable != 0) {
			t.Errorf("%s: recap %+v", ok.Name, rc)
		}
	}

	// Another host key after the reboot: refused, as at connect.
	if r := findTask(t, events, newKey.Name, "reboot"); r.Status != "unreachable" || r.HostKey != "mismatch" || !strings.Contains(r.Error, "HOST KEY MISMATCH") {
		t.Errorf("%s: reboot %s host_key=%q %s", newKey.Name, r.Status, r.HostKey, r.Error)
	}
	if !contains(sum.HostKeyMismatch, newKey.Name) {
		t.Errorf("summary host_key_mismatch %v, want %s", sum.HostKeyMismatch, newKey.Name)
	}
	// Never back: fails once reboot_timeout has passed.
	if r := findTask(t, events, gone.Name, "reboot"); r.Status != "failed" || !strings.Contains(r.Error, "did not come back within reboot_timeout (3s)") {
		t.Errorf("%s: reboot %s %s", gone.Name, r.Status, r.Error)
	}
	// Back with the same boot ID: it did not reboot.
	if r := findTask(t, events, same.Name, "reboot"); r.Status != "failed" || !strings.Contains(r.Error, "boot ID is still "+before[same.Name]) {
		t.Errorf("%s: reboot %s %s", same.Name, r.Status, r.Error)
	}
	for _, h := range []*lab.Host{newKey, gone, same} {
		for _, e := range eventsOf[struct{ Host, Task string }](t, events, "task") {
			if e.Host == h.Name && e.Task == "after" {
				t.Errorf("%s: a task ran after the failed reboot", h.Name)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
