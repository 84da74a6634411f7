package modules

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"tend/runner/plan"
)

// TestLabWaitForPath: wait_for path, search_regex, delay and sleep on a
// real sshd lab host. A background process on the host creates, appends to
// or removes the file after 2 s; the assertions are on poll counts and
// results, never on wall time.
func TestLabWaitForPath(t *testing.T) {
	b := newBootLab(t)
	dir := t.TempDir()
	later := func(shell string) { // runs shell on the host after 2 s, detached
		b.ssh("nohup sh -c 'sleep 2; " + shell + "' </dev/null >/dev/null 2>&1 &")
	}
	wait := func(args string) (plan.Change, []string) {
		t.Helper()
		m, err := waitForSpec.New(Args{Node: argsNode(t, args), File: "play.yml"})
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var said []string
		ctx := WithReporter(context.Background(), func(msg string) { mu.Lock(); said = append(said, msg); mu.Unlock() })
		c, err := m.Check(ctx, b.conn)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		return c, said
	}
	polls := func(c plan.Change) int { n, _ := c.Data["polls"].(int); return n }
	f := filepath.Join(dir, "f")

	t.Run("present", func(t *testing.T) {
		later("echo up > " + f)
		c, said := wait("path: " + f + "\nsleep: 300ms\ntimeout: 60")
		if c.Failed || polls(c) < 2 || !strings.HasPrefix(c.Summary, "done waiting for "+f+" to exist") {
			t.Errorf("got %+v", c)
		}
		// The host loop's progress line reached the reporter.
		if !strings.Contains(strings.Join(said, "|"), "waiting for "+f+" to exist (does not exist)") {
			t.Errorf("progress: %q", said)
		}
	})
	t.Run("absent", func(t *testing.T) {
		later("rm -f " + f)
		c, _ := wait("path: " + f + "\nstate: absent\nsleep: 300ms")
		if _, err := os.Stat(f); c.Failed || polls(c) < 2 || err == nil {
			t.Errorf("got %+v (stat: %v)", c, err)
		}
	})
	t.Run("search_regex on a file", func(t *testing.T) {
		os.WriteFile(f, []byte("state: starting\n"), 0o644)
		later("echo state: ready >> " + f)
		c, _ := wait("path: " + f + "\nsearch_regex: '^state: (ready|up)$'\nsleep: 300ms")
		if c.Failed || c.Data["match"] != "state: ready" || polls(c) < 2 {
			t.Errorf("got %+v", c)
		}
		c, _ = wait("path: " + f + "\nsearch_regex: '^state: down'\nsleep: 300ms\ntimeout: 1\nmsg: never down")
		if !c.Failed || c.Msg != "never down" {
			t.Errorf("no match: %+v", c)
		}
	})
	t.Run("delay", func(t *testing.T) {
		os.Remove(f)
		later("touch " + f)
		// The first check comes after the delay, once the file exists.
		c, _ := wait("path: " + f + "\ndelay: 4\nsleep: 300ms")
		if c.Failed || polls(c) != 1 {
			t.Errorf("delay 4: %d polls, want 1: %+v", polls(c), c)
		}
	})
	t.Run("sleep", func(t *testing.T) {
		os.Remove(f)
		later("touch " + f)
		// Absent at the first poll, present at the second, 5 s later.
		c, _ := wait("path: " + f + "\nsleep: 5")
		if c.Failed || polls(c) != 2 {
			t.Errorf("sleep 5: %d polls, want 2: %+v", polls(c), c)
		}
	})
	t.Run("search_regex on a greeting", func(t *testing.T) {
		bin := filepath.Join(dir, "tend-standin-mq")
		if out, err := exec.Command("go", "build", "-o", bin, "tend/internal/standin/cmd/tend-standin-mq").CombinedOutput(); err != nil {
			t.Fatalf("building the stand-in: %v\n%s", err, out)
		}
		pidfile := filepath.Join(dir, "mq.pid")
		t.Cleanup(func() {
			if b, err := os.ReadFile(pidfile); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
					if p, err := os.FindProcess(pid); err == nil {
						p.Kill()
					}
				}
			}
		})
		later("exec " + bin + " -listen 127.0.0.1:61616 -pidfile " + pidfile + " -lifetime 2m")
		c, _ := wait("port: 61616\nsearch_regex: 'Active(MQ)'\nsleep: 300ms")
		if c.Failed || c.Data["match"] != "ActiveMQ" || polls(c) < 2 {
			t.Errorf("greeting: %+v", c)
		}
		// The host loop keeps trying the same greeting until the timeout:
		// more than the two polls of one try and one retry.
		c, _ = wait("port: 61616\nsearch_regex: '^HTTP/'\nsleep: 300ms\ntimeout: 3")
		if !c.Failed || !strings.Contains(c.Msg, `timeout: waited 3s for :61616 greeting to match "^HTTP/"`) || polls(c) <= 2 {
			t.Errorf("greeting without a match: %+v", c)
		}
	})
}
