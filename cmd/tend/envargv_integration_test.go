package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/internal/lab"
)

// envPlay runs programs with an environment holding a canary: a user's
// command and shell script, with and without become.
const envPlay = `
- name: environment canary
  hosts: all
  become: %t
  gather_facts: false
  environment:
    TEND_CANARY: "%s"
  tasks:
    - name: env
      command: env
      register: envout
    - name: shell
      shell: printf '%%s' "$TEND_CANARY" > /tmp/tend-env-canary
    - name: seen
      assert:
        that: "'TEND_CANARY=%s' in envout.stdout_lines"
`

// TestEnvironmentNotInHostArgv covers issue 10 item 1: environment values
// reach the program (`command: env` prints it, a shell script writes it)
// yet are on no command line of the host: every execve under sshd is
// traced, and under become sudo's log is read.
func TestEnvironmentNotInHostArgv(t *testing.T) {
	l := lab.New(t, 1, lab.WithOverlayEtc())
	h := l.Hosts[0]
	dir := t.TempDir()
	sudoLog := filepath.Join(dir, "sudo.log")
	h.AddUser(t, lab.User{Name: "deploy", Password: deployPassword,
		Sudoers: "Defaults:deploy logfile=" + sudoLog + ", loglinelen=0, !syslog\ndeploy ALL=(ALL:ALL) ALL\n"})
	for _, tc := range []struct {
		name   string
		become bool
		canary string
	}{
		{"root", false, "envcanary-58213"},
		{"become", true, "envcanary-91377"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := l.WriteInventory(t)
			if tc.become {
				inv = writeFile(t, dir, "inv-deploy.yml", fmt.Sprintf(
					"all:\n  hosts:\n    h1:\n      ansible_host: %s\n      ansible_user: deploy\n      ansible_ssh_private_key_file: %s\n      ansible_become_password: %s\n",
					h.Addr, l.ClientKey, deployPassword))
			}
			pb := writeFile(t, dir, tc.name+".yml", fmt.Sprintf(envPlay, tc.become, tc.canary, tc.canary))
			trace := traceExecs(t, h.SSHDPID(), filepath.Join(dir, tc.name+".strace"))
			stdout, stderr, code := tendRun(t, "run", "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json", pb)
			execs := trace()
			if code != 0 {
				t.Fatalf("tend: exit %d\n%s\n%s", code, stdout, stderr)
			}
			if got, _, err := h.Exec(context.Background(), "cat", "/tmp/tend-env-canary"); err != nil || got != tc.canary {
				t.Fatalf("the shell task wrote %q (%v), want %q", got, err, tc.canary)
			}
			if n := strings.Count(execs, "execve("); n < 3 || !strings.Contains(execs, `"env"`) {
				t.Fatalf("the trace holds %d execs and no env: it saw nothing of the run", n)
			}
			seen := 0
			for _, line := range strings.Split(execs, "\n") {
				// strace -v prints the argv, then the environment the
				// program got, which must hold the value.
				if end := strings.Index(line, "], ["); end >= 0 {
					if strings.Contains(line[end:], "TEND_CANARY="+tc.canary) {
						seen++
					}
					line = line[:end]
				}
				if strings.Contains(line, tc.canary) {
					t.Errorf("the value is on a command line on the host: %.600s", line)
				}
			}
			if seen == 0 {
				t.Errorf("no program got TEND_CANARY in its environment: the trace proves nothing")
			}
			if tc.become {
				logged, err := os.ReadFile(sudoLog)
				if err != nil || !strings.Contains(string(logged), "COMMAND=") {
					t.Fatalf("sudo logged no command (%v): the test proves nothing", err)
				}
				if strings.Contains(string(logged), tc.canary) {
					t.Errorf("sudo logged the value")
				}
			}
		})
	}
}
