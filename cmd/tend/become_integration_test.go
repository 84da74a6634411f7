package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"tend/internal/lab"
	"tend/runner"
)

const deployPassword = "Dep10y-CANARY-pw" // the become password is a canary too

// becomeLab is one lab host with a user deploy who may sudo with its
// password; it returns a function writing an inventory that logs in as
// deploy, with extra host variables.
func becomeLab(t *testing.T) (*lab.Lab, func(vars ...string) string) {
	t.Helper()
	if _, err := exec.LookPath("sudo"); err != nil {
		t.Fatal("sudo is not installed (apt-get install -y sudo, as scripts/test.sh does)")
	}
	l := lab.New(t, 1, lab.WithOverlayEtc())
	h := l.Hosts[0]
	h.AddUser(t, lab.User{Name: "deploy", Password: deployPassword, Sudoers: "deploy ALL=(ALL:ALL) ALL\n"})
	dir := t.TempDir()
	n := 0
	return l, func(vars ...string) string {
		n++
		inv := fmt.Sprintf("all:\n  hosts:\n    h1:\n      ansible_host: %s\n      ansible_user: deploy\n      ansible_ssh_private_key_file: %s\n",
			h.Addr, l.ClientKey)
		for _, v := range vars {
			inv += "      " + v + "\n"
		}
		return writeFile(t, dir, fmt.Sprintf("inv%d.yml", n), inv)
	}
}

const whoamiPlay = `
- hosts: all
  become: true
  gather_facts: false
  tasks:
    - name: who
      command: whoami
`

// TestBecomePasswords covers faults rows 13 and 14 through the CLI.
func TestBecomePasswords(t *testing.T) {
	l, inventory := becomeLab(t)
	pb := writeFile(t, t.TempDir(), "play.yml", whoamiPlay)
	run := func(inv string, extra ...string) (string, int) {
		args := append([]string{"run", "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json"}, extra...)
		stdout, stderr, code := tendRun(t, append(args, pb)...)
		return stdout + stderr, code
	}

	t.Run("correct", func(t *testing.T) {
		out, code := run(inventory("ansible_become_password: " + deployPassword))
		if code != 0 {
			t.Fatalf("exit %d, want 0", code)
		}
		if got := findTask(t, parseEvents(t, out), "h1", "who").Change.Data["stdout"]; got != "root" {
			t.Errorf("whoami under become printed %q, want root", got)
		}
		if strings.Contains(out, deployPassword) {
			t.Errorf("the become password is in the output")
		}
	})
	t.Run("become_user from the command line", func(t *testing.T) {
		out, code := run(inventory(), "-e", "ansible_become_pass="+deployPassword, "--become-user", "nobody")
		if code != 0 {
			t.Fatalf("exit %d, want 0", code)
		}
		if got := findTask(t, parseEvents(t, out), "h1", "who").Change.Data["stdout"]; got != "nobody" {
			t.Errorf("whoami printed %q, want nobody", got)
		}
	})
	t.Run("wrong", func(t *testing.T) {
		out, code := run(inventory("ansible_become_password: Wrong-CANARY-pw"))
		if code != exitFailed {
			t.Fatalf("exit %d, want %d", code, exitFailed)
		}
		who := findTask(t, parseEvents(t, out), "h1", "who")
		if who.Status != runner.StatusFailed || !strings.Contains(who.Error, "incorrect become password") {
			t.Errorf("task %s: %q; want failed with incorrect become password", who.Status, who.Error)
		}
		if strings.Contains(out, "Wrong-CANARY-pw") {
			t.Errorf("the wrong password is in the output")
		}
	})
	t.Run("missing", func(t *testing.T) {
		out, code := run(inventory())
		if code != exitFailed {
			t.Fatalf("exit %d, want %d", code, exitFailed)
		}
		if who := findTask(t, parseEvents(t, out), "h1", "who"); !strings.Contains(who.Error, "missing become password") {
			t.Errorf("task error %q; want missing become password", who.Error)
		}
	})
}

// canaryPlay prints secrets in every way a result can carry them: command
// output (data), a message, a failure, a no_log task and, in check mode,
// the command line in the summary. The secret_vars value comes from -e.
const canaryPlay = `
- name: canary
  hosts: all
  become: true
  secret_vars: [app_token]
  tasks:
    - name: argv of every process while sudo runs
      shell: cat /proc/[0-9]*/cmdline | tr '\0' ' '
      register: procs
      check_mode: false
      no_log: true # long; the assert below reads it
    - name: the password is in no remote argv
      assert:
        that: ["ansible_become_password not in procs.stdout", "'tend-become-prompt' in procs.stdout"]
    - name: print the secrets
      shell: echo "token={{ app_token }} pw={{ ansible_become_password }}"
      register: out
    - name: a message with the token
      assert:
        that: ["true"]
        success_msg: "token is {{ app_token }}"
    - name: a failure with the token
      assert:
        that: ["false"]
        fail_msg: "token {{ app_token }} rejected"
      ignore_errors: true
    - name: hidden
      shell: echo "{{ nolog_canary }}"
      no_log: true
`

// TestSecretCanary covers faults row 39: the become password, a secret
// variable and a no_log task's output never reach any output format.
func TestSecretCanary(t *testing.T) {
	const token, nolog = "Tok3n-CANARY-value", "NoLog-CANARY-value"
	l, inventory := becomeLab(t)
	inv := inventory("ansible_become_password: " + deployPassword)
	pb := writeFile(t, t.TempDir(), "canary.yml", canaryPlay)
	for _, format := range [][]string{
		{"--format", "json"},
		{"--format", "text", "-v", "--diff"},
		{"--format", "json", "--check"},
		{"--format", "text", "-v", "--check"},
		{"--format", "markdown"},
	} {
		t.Run(strings.Join(format, " "), func(t *testing.T) {
			args := append([]string{"run", "-i", inv, "--known-hosts", l.KnownHosts,
				"-e", "app_token=" + token, "-e", "nolog_canary=" + nolog}, format...)
			stdout, stderr, code := tendRun(t, append(args, pb)...)
			if code != 0 {
				t.Fatalf("exit %d, want 0", code)
			}
			out := stdout + stderr
			for _, c := range []string{deployPassword, token, nolog} {
				if strings.Contains(out, c) {
					t.Errorf("canary %q is in the output", c)
				}
			}
			if !strings.Contains(out, runner.Redacted) {
				t.Errorf("no %s in the output: the secrets were never printed, the test proves nothing", runner.Redacted)
			}
			if format[1] == "json" {
				events := parseEvents(t, stdout)
				if r := findTask(t, events, "h1", "the password is in no remote argv"); r.Status != runner.StatusOK {
					t.Errorf("remote argv check: %s %s", r.Status, r.Error)
				}
				if r := findTask(t, events, "h1", "hidden"); r.Change.Summary != "" && r.Change.Summary != runner.NoLogText {
					t.Errorf("no_log summary %q", r.Change.Summary)
				}
			}
		})
	}
}
