package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"tend/internal/lab"
	"tend/runner"
)

// tendRun runs the CLI in-process and returns stdout, stderr and the exit code.
func tendRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := exitCode(run(context.Background(), args, &out, &errb), &errb)
	t.Logf("tend %s\n--- exit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), code, out.String(), errb.String())
	return out.String(), errb.String(), code
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const twoTaskPlay = `
- name: identify hosts
  hosts: all
  tasks:
    - name: show addresses
      command: ip -4 -o addr show
      register: addrs
    - name: only on the first host
      shell: echo "first host is {{ inventory_hostname }}"
      when: addrs.stdout contains (first_addr + "/")
`

func TestSSHRunOnThreeHosts(t *testing.T) {
	l := lab.New(t, 3)
	dir := t.TempDir()
	inv := l.WriteInventory(t)
	pb := writeFile(t, dir, "play.yml", twoTaskPlay)
	stdout, _, code := tendRun(t, "run", "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json",
		"-e", "first_addr="+l.Hosts[0].Addr, pb)
	if code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	events := parseEvents(t, stdout)
	for i, h := range l.Hosts {
		addrs := findTask(t, events, h.Name, "show addresses")
		if addrs.Status != "changed" {
			t.Errorf("%s: show addresses status %q", h.Name, addrs.Status)
		}
		out, _ := addrs.Change.Data["stdout"].(string)
		if !strings.Contains(out, h.Addr+"/") {
			t.Errorf("%s: its command ran elsewhere: stdout %q lacks its address %s", h.Name, out, h.Addr)
		}
		for j, other := range l.Hosts {
			if j != i && strings.Contains(out, other.Addr+"/") {
				t.Errorf("%s: stdout shows %s's address", h.Name, other.Name)
			}
		}
		only := findTask(t, events, h.Name, "only on the first host")
		wantStatus := runner.StatusSkipped
		if i == 0 {
			wantStatus = runner.StatusChanged
			if s, _ := only.Change.Data["stdout"].(string); s != "first host is "+h.Name {
				t.Errorf("first host stdout %q", s)
			}
		}
		if only.Status != wantStatus {
			t.Errorf("%s: when-guarded task %s, want %s", h.Name, only.Status, wantStatus)
		}
	}
}

func TestSSHUnreachableHost(t *testing.T) {
	l := lab.New(t, 3)
	l.Hosts[1].StopSSHD(t)
	pb := writeFile(t, t.TempDir(), "play.yml", "- hosts: all\n  tasks:\n    - command: 'true'\n")
	stdout, _, code := tendRun(t, "run", "-i", l.WriteInventory(t), "--known-hosts", l.KnownHosts, pb)
	if code != exitUnreachable {
		t.Fatalf("exit %d, want %d (unreachable)", code, exitUnreachable)
	}
	for i, h := range l.Hosts {
		re := regexp.MustCompile(regexp.QuoteMeta(h.Name) + ` +ok=\d+ changed=1 failed=0 skipped=0 unreachable=0`)
		if i == 1 {
			re = regexp.MustCompile(regexp.QuoteMeta(h.Name) + ` +ok=0 changed=0 failed=0 skipped=0 unreachable=1`)
		}
		if !re.MatchString(stdout) {
			t.Errorf("recap for %s does not match %s", h.Name, re)
		}
	}
	if !strings.Contains(stdout, "unreachable  ["+l.Hosts[1].Name+"]") {
		t.Errorf("no UNREACHABLE line for %s", l.Hosts[1].Name)
	}
}

func TestSSHHostKeys(t *testing.T) {
	l := lab.New(t, 2)
	dir := t.TempDir()
	inv := l.WriteInventory(t)
	pb := writeFile(t, dir, "play.yml", "- hosts: all\n  tasks:\n    - command: 'true'\n")

	// known_hosts holds only h2: h1 is unknown.
	known := filepath.Join(dir, "known_hosts")
	var h2line string
	data, err := os.ReadFile(l.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, l.Hosts[1].Addr+" ") {
			h2line += line + "\n"
		}
	}
	if h2line == "" {
		t.Fatalf("lab known_hosts has no line for %s", l.Hosts[1].Addr)
	}
	writeFile(t, dir, "known_hosts", h2line)
	fp := fingerprint(t, l.Hosts[0].HostKeyPub)

	t.Run("unknown refused", func(t *testing.T) {
		stdout, stderr, code := tendRun(t, "run", "-i", inv, "--known-hosts", known, pb)
		if code != exitHostKeyUnknown {
			t.Fatalf("exit %d, want %d", code, exitHostKeyUnknown)
		}
		if !strings.Contains(stdout+stderr, fp) {
			t.Errorf("fingerprint %s not shown", fp)
		}
		if !strings.Contains(stdout, "host key unknown ["+l.Hosts[0].Name+"] connect") {
			t.Errorf("the task line does not say the host key is unknown")
		}
		if got, _ := os.ReadFile(known); string(got) != h2line {
			t.Errorf("known_hosts changed:\n%s", got)
		}
	})
	t.Run("accept new adds one line", func(t *testing.T) {
		stdout, stderr, code := tendRun(t, "run", "-i", inv, "--known-hosts", known, "--accept-new-host-keys", "--format", "json", pb)
		if code != 0 {
			t.Fatalf("exit %d, want 0", code)
		}
		// The key recorded is a warning event on stdout, not text on stderr.
		var events []string
		for _, e := range parseEvents(t, stdout) {
			if e.Event == "warning" && strings.Contains(string(e.Data), fp) {
				events = append(events, string(e.Data))
			}
		}
		if len(events) != 1 || stderr != "" {
			t.Errorf("want one warning event naming %s, got %q; stderr %q", fp, events, stderr)
		}
		got, _ := os.ReadFile(known)
		added := strings.TrimPrefix(string(got), h2line)
		if strings.Count(added, "\n") != 1 || !strings.HasPrefix(added, l.Hosts[0].Addr+" ") {
			t.Errorf("want exactly one line for %s added, got %q", l.Hosts[0].Addr, added)
		}
		// Second run: known now, nothing more added.
		if _, _, code := tendRun(t, "run", "-i", inv, "--known-hosts", known, pb); code != 0 {
			t.Fatalf("second run exit %d", code)
		}
		if again, _ := os.ReadFile(known); string(again) != string(got) {
			t.Errorf("known_hosts changed on a second run")
		}
	})
	t.Run("changed key refused", func(t *testing.T) {
		before, _ := os.ReadFile(known)
		l.Hosts[0].RegenerateHostKey(t)
		stdout, stderr, code := tendRun(t, "run", "-i", inv, "--known-hosts", known, "--accept-new-host-keys", pb)
		if code != exitHostKeyMismatch {
			t.Fatalf("exit %d, want %d (mismatch, even with --accept-new-host-keys)", code, exitHostKeyMismatch)
		}
		if !strings.Contains(stdout+stderr, "MISMATCH") {
			t.Errorf("no MISMATCH in output")
		}
		if !strings.Contains(stdout, "HOST KEY MISMATCH ["+l.Hosts[0].Name+"] connect") {
			t.Errorf("the task line does not say HOST KEY MISMATCH")
		}
		if after, _ := os.ReadFile(known); string(after) != string(before) {
			t.Errorf("known_hosts changed on a mismatch")
		}
	})
}

func TestSSHValuesNeverReachAShell(t *testing.T) {
	l := lab.New(t, 1)
	canary := filepath.Join(os.TempDir(), fmt.Sprintf("tend-PWNED-%d", os.Getpid()))
	t.Cleanup(func() { os.Remove(canary) })
	pb := writeFile(t, t.TempDir(), "play.yml", `
- hosts: all
  tasks:
    - name: command
      command: echo {{ evil }}
      register: c
    - name: command argv
      command:
        argv: [echo, "{{ evil }}"]
    - name: shell
      shell: echo {{ evil }} && echo "quoted {{ evil }}"
      register: s
    - assert:
        that:
          - c.stdout == evil
          - s.stdout == evil + "\nquoted " + evil
`)
	for _, evil := range []string{"; touch " + canary, "$(touch " + canary + ")", "`touch " + canary + "`", "x\ntouch " + canary, "' ; touch " + canary + " ; '"} {
		_, _, code := tendRun(t, "run", "-i", l.WriteInventory(t), "--known-hosts", l.KnownHosts,
			"-e", fmt.Sprintf(`{"evil": %q}`, evil), pb)
		if code != 0 {
			t.Errorf("value %q: exit %d", evil, code)
		}
		if _, err := os.Stat(canary); err == nil {
			t.Fatalf("value %q reached a shell: %s was created", evil, canary)
		}
	}
}
