package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tend/internal/lab"
	"tend/runner"
)

// slowRestartScript restarts a stand-in MQ that comes back slowly: $1
// pidfile, $2 the stand-in. It kills the old one, then starts the new one
// detached, 3 s late, as a broker whose JVM takes a while; it says what it
// does on stdout.
const slowRestartScript = `#!/bin/sh
pidfile=$1 bin=$2
echo "restart-mq: stopping"
if [ -f "$pidfile" ]; then
  old=$(cat "$pidfile"); kill "$old" 2>/dev/null
  i=0; while kill -0 "$old" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  rm -f "$pidfile"
fi
setsid sh -c 'sleep 3; exec "$0" "$@"' "$bin" -listen 127.0.0.1:61616 -pidfile "$pidfile" -lifetime 10m </dev/null >/dev/null 2>&1 &
echo "restart-mq: starting in the background"
`

const slowRestartPlay = `- hosts: all
  tasks:
    - name: restart
      service:
        name: mq
        state: restarted
        command: "{{ script }} {{ dir }}/{{ inventory_hostname }}.pid {{ bin }}"
        pidfile: "{{ dir }}/{{ inventory_hostname }}.pid"
        wait_port: 61616
        greeting: activemq
        wait_timeout: 30s
`

// TestProgressWhileWaiting: on real sshd hosts whose broker comes back 3 s
// after its restart command ended, --format json carries progress events
// for each host while it waits — at least two, the first a second into the
// task, then at least a second apart (by their elapsed times), all between
// the host's task_start and its task result, saying what it waits for —
// and -v shows the restart command's output in the text view.
func TestProgressWhileWaiting(t *testing.T) {
	l := lab.New(t, 2)
	dir := t.TempDir()
	script := writeFile(t, dir, "restart-mq.sh", slowRestartScript)
	os.Chmod(script, 0o755)
	t.Cleanup(func() {
		for _, h := range l.Hosts {
			if b, err := os.ReadFile(filepath.Join(dir, h.Name+".pid")); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
					exec.Command("kill", strconv.Itoa(pid)).Run()
				}
			}
		}
	})
	inv := l.WriteInventory(t)
	pb := writeFile(t, dir, "restart.yml", slowRestartPlay)
	vars := writeFile(t, dir, "vars.yml", fmt.Sprintf("script: %q\ndir: %q\nbin: %q\n", script, dir, standin(t)))
	tend := func(args ...string) (string, string) {
		t.Helper()
		stdout, stderr, code := tendRun(t, append([]string{"run", "-i", inv, "--known-hosts", l.KnownHosts,
			"--lock-file", filepath.Join(dir, "run.lock"), "-e", "@" + vars}, append(args, pb)...)...)
		if code != 0 {
			t.Fatalf("exit %d, want 0", code)
		}
		return stdout, stderr
	}

	stdout, _ := tend("--format", "json")
	type span struct{ started, done bool }
	spans := map[string]*span{}
	progress := map[string][]runner.Progress{}
	for _, e := range parseEvents(t, stdout) {
		var d struct {
			Host, Task string
		}
		_ = json.Unmarshal(e.Data, &d)
		switch e.Event {
		case "task_start":
			spans[d.Host] = &span{started: true}
		case "task":
			if s := spans[d.Host]; s != nil {
				s.done = true
			}
		case "progress":
			var p runner.Progress
			if err := json.Unmarshal(e.Data, &p); err != nil {
				t.Fatal(err)
			}
			if s := spans[p.Host]; s == nil || !s.started || s.done {
				t.Errorf("progress of %s outside its task: %+v", p.Host, p)
			}
			progress[p.Host] = append(progress[p.Host], p)
		}
	}
	for _, h := range l.Hosts {
		ps := progress[h.Name]
		if len(ps) < 2 {
			t.Errorf("%s: %d progress events during a wait of 3 s or more, want at least 2: %+v", h.Name, len(ps), ps)
			continue
		}
		waits := 0
		for i, p := range ps {
			if p.Play != "" || p.Task != "restart" {
				t.Errorf("%s: progress of play %q task %q", h.Name, p.Play, p.Task)
			}
			if i == 0 && p.Elapsed < time.Second {
				t.Errorf("%s: first progress %s into the task, want a second at least", h.Name, p.Elapsed)
			}
			if i > 0 && p.Elapsed-ps[i-1].Elapsed < time.Second {
				t.Errorf("%s: progress events %s apart, want one a second at most", h.Name, p.Elapsed-ps[i-1].Elapsed)
			}
			if strings.HasPrefix(p.Msg, "waiting for :61616 greeting") {
				waits++
			}
		}
		if waits == 0 {
			t.Errorf("%s: no progress says it waits for :61616 greeting: %+v", h.Name, ps)
		}
	}

	// -v: the restart command's output, in the text view (not a terminal:
	// no progress line on stderr).
	stdout, stderr := tend("-v")
	if n := strings.Count(stdout, "    stdout: restart-mq: stopping\n    stdout: restart-mq: starting in the background\n"); n != len(l.Hosts) {
		t.Errorf("-v shows the restart output %d times, want once per host:\n%s", n, stdout)
	}
	if strings.Contains(stderr, "waiting for") {
		t.Errorf("progress on a stderr that is no terminal: %q", stderr)
	}
}
