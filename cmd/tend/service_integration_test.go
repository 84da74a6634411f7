package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"tend/internal/lab"
	"tend/runner"
)

// lyingInitScript is a SysV init script shaped like Debian's
// /etc/init.d/activemq: its status prints "(stopped)" and exits 0 all the
// same. It runs the stand-in MQ on 127.0.0.1:61616 and appends each verb it
// is given to VERBS. DIR, BIN and VERBS are replaced when it is installed.
const lyingInitScript = `#!/bin/sh
pidfile=DIR/fakemq.pid
echo "$1" >> VERBS
alive() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
case $1 in
start)
  alive && exit 0
  setsid BIN -listen 127.0.0.1:61616 -pidfile "$pidfile" -lifetime 10m </dev/null >/dev/null 2>&1 &
  ;;
stop)
  if alive; then
    pid=$(cat "$pidfile"); kill "$pid"
    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  fi
  rm -f "$pidfile"
  ;;
restart) "$0" stop; "$0" start ;;
status)
  if alive; then echo "fakemq (running)"; else echo "fakemq (stopped)"; fi
  exit 0
  ;;
esac
exit 0
`

// TestServiceStatusExitZeroWhileStopped: a service whose init script says
// "(stopped)" with exit code 0 and whose port nobody listens on is not
// reported running, in check nor in apply; a restart of it is a start; and
// without wait_port the evidence used is named.
func TestServiceStatusExitZeroWhileStopped(t *testing.T) {
	l := lab.New(t, 1, lab.WithOverlayEtc())
	h := l.Hosts[0]
	dir := t.TempDir()
	verbs := filepath.Join(dir, "verbs")
	script := strings.NewReplacer("DIR", dir, "BIN", standin(t), "VERBS", verbs).Replace(lyingInitScript)
	ssh := func(command string) string {
		t.Helper()
		out, stderr, err := l.SSH(context.Background(), h, command)
		if err != nil {
			t.Fatalf("%s: %v %s", command, err, stderr)
		}
		return out
	}
	ssh("printf '%s' " + shellQuote(script) + " > /etc/init.d/fakemq && chmod 755 /etc/init.d/fakemq")
	t.Cleanup(func() {
		if b, err := os.ReadFile(filepath.Join(dir, "fakemq.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				exec.Command("kill", strconv.Itoa(pid)).Run()
			}
		}
	})
	if out := ssh("/etc/init.d/fakemq status; echo rc=$?"); out != "fakemq (stopped)\nrc=0\n" {
		t.Fatalf("the init script's status says %q", out)
	}
	inv := l.WriteInventory(t)
	play := func(name, args string) string {
		return writeFile(t, dir, name+".yml", "- hosts: all\n  tasks:\n    - name: "+name+"\n      service: {name: fakemq, manager: sysv, "+args+"}\n")
	}
	tend := func(pb, task string, args ...string) (runner.TaskResult, int) {
		t.Helper()
		stdout, _, code := tendRun(t, append([]string{"run", "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json",
			"--lock-file", filepath.Join(dir, "run.lock"), "--detailed-exitcode"}, append(args, pb)...)...)
		return findTask(t, parseEvents(t, stdout), h.Name, task), code
	}
	verbsSeen := func() string {
		b, _ := os.ReadFile(verbs)
		return strings.Join(strings.Fields(string(b)), " ")
	}
	const refused = "127.0.0.1:61616 does not accept connections"
	started := play("started", "state: started, wait_port: 61616, greeting: activemq, wait_timeout: 20s")
	restarted := play("restarted", "state: restarted, wait_port: 61616, greeting: activemq, wait_timeout: 20s")
	stopped := play("stopped", "state: stopped, wait_port: 61616, wait_timeout: 20s")
	noPort := play("noport", "state: started")

	for _, pb := range []string{started, restarted} {
		task := strings.TrimSuffix(filepath.Base(pb), ".yml")
		r, code := tend(pb, task, "--check")
		if code != exitChanged || r.Status != runner.StatusChanged || r.Change.Summary != "fakemq not running: would start ("+refused+")" {
			t.Errorf("check %s on a stopped service: exit %d, %s %q", task, code, r.Status, r.Change.Summary)
		}
	}
	if v := verbsSeen(); v != "status" {
		t.Errorf("verbs given to the init script: %q, want only the status this test asked", v)
	}

	// The restart's apply starts it: the init script is told start.
	r, code := tend(restarted, "restarted")
	pid := 0
	if b, err := os.ReadFile(filepath.Join(dir, "fakemq.pid")); err == nil {
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	want := fmt.Sprintf("started fakemq (was not running): pid %d; 127.0.0.1:61616 accepts, ActiveMQ greeting seen", pid)
	if code != exitChanged || r.Change.Summary != want {
		t.Errorf("apply restarted: exit %d, %q\nwant %q", code, r.Change.Summary, want)
	}
	if v := " " + verbsSeen() + " "; !strings.Contains(v, " start ") || strings.Contains(v, "restart") {
		t.Errorf("verbs given to the init script: %q, want start, not restart", v)
	}

	// Running now, by the port and its greeting.
	r, code = tend(started, "started")
	if want := fmt.Sprintf("fakemq is running (pid %d): 127.0.0.1:61616 accepts and greets", pid); code != 0 || r.Change.Summary != want {
		t.Errorf("started on a running service: exit %d, %q\nwant %q", code, r.Change.Summary, want)
	}

	// Stopping is judged by the port too: the status (exit 0 still) does
	// not keep the stop (nor its re-check) from succeeding.
	r, code = tend(stopped, "stopped")
	if code != exitChanged || r.Status != runner.StatusChanged || r.Change.Failed {
		t.Errorf("apply stopped: exit %d, %s %+v", code, r.Status, r.Change)
	}
	r, code = tend(stopped, "stopped", "--check")
	if code != 0 || r.Change.Summary != "fakemq is stopped ("+refused+")" {
		t.Errorf("check stopped after the stop: exit %d, %q", code, r.Change.Summary)
	}

	// Without wait_port only the exit code can tell: tend says so, and
	// warns that the script's words contradict it.
	r, code = tend(noPort, "noport", "--check")
	if code != 0 || r.Change.Summary != "fakemq is running (init script status exit 0)" || len(r.Change.Warnings) != 1 ||
		!strings.Contains(r.Change.Warnings[0], `init script status exited 0 but printed "fakemq (stopped)"`) {
		t.Errorf("check without wait_port: exit %d, %q %q", code, r.Change.Summary, r.Change.Warnings)
	}
}

// standinRestartScript restarts a stand-in MQ: $1 pidfile, $2 the stand-in,
// $3 port, $4 true|false for the greeting.
const standinRestartScript = `#!/bin/sh
pidfile=$1 bin=$2 port=$3 greeting=$4
if [ -f "$pidfile" ]; then
  old=$(cat "$pidfile"); kill "$old" 2>/dev/null
  i=0; while kill -0 "$old" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  rm -f "$pidfile"
fi
setsid "$bin" -listen "127.0.0.1:$port" -greeting="$greeting" -pidfile "$pidfile" -lifetime 10m </dev/null >/dev/null 2>&1 &
`

// probePlay restarts the MQ, waits for its port, and verifies like the
// runbook: the CLOSE_WAIT count after the restart must be 0.
const probePlay = `- hosts: all
  tasks:
    - name: restart
      service:
        name: mq
        state: restarted
        command: "{{ restart }}"
        pidfile: "{{ pidfile }}"
        wait_port: "{{ port }}"
        wait_timeout: 20s
GREETING    - name: wait
      wait_for: {port: "{{ port }}", timeout: 10s}
  verify:
    - name: count
      tcp_states: {port: "{{ port }}"}
      register: after
    - name: none left
      assert:
        that: [after.count == 0]
`

// TestServiceProbeNotCounted: after a restart through tend, with its own
// probes of the port (service's wait, wait_for), the verification's count
// is 0 on a stand-in that never closes a connection: the probes' sockets,
// really there on a silent stand-in, are left out and said to be.
func TestServiceProbeNotCounted(t *testing.T) {
	l := lab.New(t, 1)
	h := l.Hosts[0]
	dir := t.TempDir()
	script := writeFile(t, dir, "restart-mq.sh", standinRestartScript)
	os.Chmod(script, 0o755)
	inv := l.WriteInventory(t)
	for _, tc := range []struct {
		port     int
		greeting bool
	}{{61617, false}, {61616, true}} {
		t.Run(fmt.Sprintf("greeting=%v", tc.greeting), func(t *testing.T) {
			pidfile := filepath.Join(dir, fmt.Sprintf("mq%d.pid", tc.port))
			restart := fmt.Sprintf("%s %s %s %d %v", script, pidfile, standin(t), tc.port, tc.greeting)
			t.Cleanup(func() {
				if b, err := os.ReadFile(pidfile); err == nil {
					if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
						exec.Command("kill", strconv.Itoa(pid)).Run()
					}
				}
			})
			if _, stderr, err := l.SSH(context.Background(), h, restart); err != nil {
				t.Fatalf("start the stand-in: %v %s", err, stderr)
			}
			greeting := ""
			if tc.greeting {
				greeting = "        greeting: activemq\n"
			}
			pb := writeFile(t, dir, fmt.Sprintf("probe%d.yml", tc.port), strings.Replace(probePlay, "GREETING", greeting, 1))
			vars := writeFile(t, dir, fmt.Sprintf("vars%d.yml", tc.port), fmt.Sprintf("restart: %q\npidfile: %q\nport: %d\n", restart, pidfile, tc.port))
			stdout, _, code := tendRun(t, "run", "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json",
				"--lock-file", filepath.Join(dir, "run.lock"), "-e", "@"+vars, pb)
			if code != 0 {
				t.Fatalf("exit %d, want 0", code)
			}
			count := findTask(t, parseEvents(t, stdout), h.Name, "count").Change
			own, _ := count.Data["own_probes"].(float64)
			if count.Data["count"] != 0.0 {
				t.Errorf("CLOSE_WAIT count %v after the restart, want 0: %s", count.Data["count"], count.Summary)
			}
			// The stand-in's CLOSE_WAIT sockets, counted by ss on the host:
			// the probes' own, which a silent stand-in keeps.
			out, _, err := h.Exec(context.Background(), "ss", "-Htan", "state", "close-wait", fmt.Sprintf("( sport = :%d )", tc.port))
			if err != nil {
				t.Fatal(err)
			}
			if n := len(strings.Fields(out)) / 4; float64(n) != own || (!tc.greeting && n == 0) {
				t.Errorf("ss sees %d CLOSE_WAIT, tend left out %v of its own probes:\n%s", n, own, out)
			}
			if want := fmt.Sprintf("(left out: %s of tend's own probes)", pluralSockets(int(own))); own > 0 && !strings.Contains(count.Summary, want) {
				t.Errorf("summary %q does not say %q", count.Summary, want)
			}
		})
	}
}

func pluralSockets(n int) string {
	if n == 1 {
		return "1 socket"
	}
	return strconv.Itoa(n) + " sockets"
}
