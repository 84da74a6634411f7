package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tend/internal/lab"
	"tend/runner"
)

// secretSysctlPlay sets a sysctl from a secret variable: the value travels
// to /proc/sys and, as file content, to sysctl.conf.
const secretSysctlPlay = `
- name: secret sysctl
  hosts: all
  become: %t
  secret_vars: [ka]
  vars:
    ka: "%s"
  tasks:
    - name: keepalive
      sysctl:
        name: net.ipv4.tcp_keepalive_time
        value: "{{ ka }}"
`

// TestSecretNotInHostArgv covers issue 8 item 2: a value tend sends (here a
// secret sysctl value, which also goes into sysctl.conf) is on no command
// line on the host. Every execve under the host's sshd is traced while tend
// runs (a dry run, then the apply), and under become sudo's own log is read:
// the canary is in neither, although it reached /proc/sys and the file.
func TestSecretNotInHostArgv(t *testing.T) {
	for _, name := range []string{"strace", "sudo"} {
		if _, err := exec.LookPath(name); err != nil {
			t.Fatalf("%s is not installed (apt-get install -y %s, as scripts/test.sh does)", name, name)
		}
	}
	l := lab.New(t, 1, lab.WithOverlayEtc())
	h := l.Hosts[0]
	dir := t.TempDir()
	sudoLog := filepath.Join(dir, "sudo.log")
	// loglinelen=0: sudo must not wrap a logged command line, which could
	// split the canary over two lines.
	h.AddUser(t, lab.User{Name: "deploy", Password: deployPassword,
		Sudoers: "Defaults:deploy logfile=" + sudoLog + ", loglinelen=0, !syslog\ndeploy ALL=(ALL:ALL) ALL\n"})

	for _, tc := range []struct {
		name   string
		become bool
		canary string // a valid tcp_keepalive_time, distinct enough to grep for
	}{
		{"root", false, "27183"},
		{"become", true, "31416"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := l.WriteInventory(t)
			if tc.become {
				inv = writeFile(t, dir, "inv-deploy.yml", fmt.Sprintf(
					"all:\n  hosts:\n    h1:\n      ansible_host: %s\n      ansible_user: deploy\n      ansible_ssh_private_key_file: %s\n      ansible_become_password: %s\n",
					h.Addr, l.ClientKey, deployPassword))
			}
			pb := writeFile(t, dir, tc.name+".yml", fmt.Sprintf(secretSysctlPlay, tc.become, tc.canary))
			base := []string{"run", "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json"}

			trace := traceExecs(t, h.SSHDPID(), filepath.Join(dir, tc.name+".strace"))
			var out strings.Builder
			for _, extra := range [][]string{{"--check"}, nil} {
				stdout, stderr, code := tendRun(t, append(append(base, extra...), pb)...)
				if code != 0 {
					t.Fatalf("tend %v: exit %d", extra, code)
				}
				out.WriteString(stdout + stderr)
				if extra == nil {
					if s := findTask(t, parseEvents(t, stdout), "h1", "keepalive").Status; s != runner.StatusChanged {
						t.Fatalf("keepalive: %s, want changed", s)
					}
				}
			}
			execs := trace()

			// The value did reach the host, and tend's own output hides it.
			if v, _, err := h.Exec(context.Background(), "cat", "/proc/sys/net/ipv4/tcp_keepalive_time"); err != nil || strings.TrimSpace(v) != tc.canary {
				t.Fatalf("live tcp_keepalive_time %q (%v), want %s", v, err, tc.canary)
			}
			if conf, _, err := h.Exec(context.Background(), "cat", "/etc/sysctl.conf"); err != nil || !strings.Contains(conf, "= "+tc.canary) {
				t.Fatalf("sysctl.conf holds no %s (%v):\n%s", tc.canary, err, conf)
			}
			if strings.Contains(out.String(), tc.canary) {
				t.Errorf("the secret is in tend's output")
			}

			// The trace saw tend's commands: a sanity check that it proves something.
			if n := strings.Count(execs, "execve("); n < 5 || !strings.Contains(execs, "tcp_keepalive_time") {
				t.Fatalf("the trace holds %d execs, none naming tcp_keepalive_time: it saw nothing of the run", n)
			}
			if tc.become && !strings.Contains(execs, `execve("/usr/bin/sudo"`) {
				t.Fatalf("no sudo in the trace of a become run")
			}
			token := regexp.MustCompile(`(^|[^0-9A-Za-z])` + tc.canary + `($|[^0-9A-Za-z])`)
			pidPrefix := regexp.MustCompile(`^[0-9]+ +`) // the PID strace puts first
			leaks := 0
			for _, line := range strings.Split(execs, "\n") {
				if token.MatchString(pidPrefix.ReplaceAllString(line, "")) {
					leaks++
					if leaks <= 3 {
						t.Errorf("the secret is on a command line on the host: %.600s", line)
					}
				}
			}
			if leaks > 3 {
				t.Errorf("... %d command lines in all", leaks)
			}

			if tc.become {
				logged, err := os.ReadFile(sudoLog)
				if err != nil || !strings.Contains(string(logged), "COMMAND=") {
					t.Fatalf("sudo logged no command (%v): the test proves nothing", err)
				}
				for _, line := range strings.Split(string(logged), "\n") {
					if token.MatchString(line) {
						t.Errorf("sudo logged the secret: %.600s", line)
					}
				}
			}
		})
	}
}

// traceExecs records every execve of pid's descendants from now on (strace
// -f), into file. It returns once strace is attached; the function it
// returns stops strace (by its PID) and returns what it recorded.
func traceExecs(t *testing.T, pid int, file string) func() string {
	t.Helper()
	if pid == 0 {
		t.Fatal("sshd is not running")
	}
	cmd := exec.Command("strace", "-f", "-qq", "-v", "-s", "1048576", "-e", "trace=execve", "-o", file, "-p", strconv.Itoa(pid))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("strace: %v", err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Signal(syscall.SIGINT) // detaches from every traced process
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	// Attached when the kernel names a tracer of sshd.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if m := regexp.MustCompile(`(?m)^TracerPid:\s*([0-9]+)`).FindSubmatch(st); m != nil && string(m[1]) != "0" {
			break
		}
		if cmd.ProcessState != nil || time.Now().After(deadline) {
			stop()
			t.Fatalf("strace did not attach to sshd %d", pid)
		}
	}
	return func() string {
		stop()
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("strace output: %v", err)
		}
		return string(b)
	}
}
