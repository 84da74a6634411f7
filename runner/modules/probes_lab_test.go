package modules

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tend/runner/plan"
	"tend/runner/transport"
)

// TestProbesAreNotCounted: a stand-in that never closes keeps a CLOSE_WAIT
// for every connection tend's own probes close; the counts run in the same
// host context leave those out and say so, and only those.
func TestProbesAreNotCounted(t *testing.T) {
	lab := newMQLab(t)
	for _, greeting := range []bool{false, true} {
		t.Run(fmt.Sprintf("greeting=%v", greeting), func(t *testing.T) {
			ctx := WithProbeLedger(context.Background(), NewProbeLedger())
			port := lab.port()
			pidfile, _ := lab.start(fmt.Sprintf("mq%d", port), port, greeting)
			lab.load(port, 2, greeting) // two real leaks: they must stay counted
			extra := fmt.Sprintf("name: mq\npidfile: %s\nwait_port: %d\nwait_timeout: 30s\n", pidfile, port)
			if greeting {
				extra += "greeting: activemq\n"
			}
			m := newServiceT(t, serviceYAML("restarted", lab.serviceCommand(pidfile, "restart", port, greeting), extra))
			planned, err := m.Check(ctx, lab.conn)
			if err != nil || planned.Action != plan.Restart {
				t.Fatalf("check: %+v %v", planned, err)
			}
			if got, err := m.Apply(ctx, lab.conn, planned); err != nil || got.Failed {
				t.Fatalf("apply: %+v %v", got, err)
			}
			lab.load(port, 2, greeting) // and two on the new process
			// wait_for probes the port once more.
			if c, err := newWaitForT(t, fmt.Sprintf("port: %d\ntimeout: 10s", port)).Check(ctx, lab.conn); err != nil || c.Failed {
				t.Fatalf("wait_for: %+v %v", c, err)
			}
			states := newTCPStatesT(t, fmt.Sprintf("port: %d", port))
			c, err := states.Check(ctx, lab.conn)
			if err != nil {
				t.Fatal(err)
			}
			if c.Data["count"] != 2 {
				t.Errorf("CLOSE_WAIT count %v, want the 2 of the load only: %s", c.Data["count"], c.Summary)
			}
			// What the sockets really are, counted with no ledger: the
			// probes' own CLOSE_WAITs exist on the silent stand-in (a
			// greeting one is reset by the probe closing with unread bytes).
			all, err := states.Check(context.Background(), lab.conn)
			if err != nil {
				t.Fatal(err)
			}
			own := c.Data["own_probes"].(int)
			n := all.Data["count"].(int)
			// On the silent stand-in the probes' sockets stay; on a greeting
			// one a probe's reset may still be on its way at the first scan
			// and done by the second, so fewer may be left then.
			if !greeting && n != 2+own || greeting && (n < 2 || n > 2+own) || all.Data["own_probes"] != 0 {
				t.Errorf("without the ledger: %v CLOSE_WAIT (%v own), with it 2 and %d own", all.Data["count"], all.Data["own_probes"], own)
			}
			if !greeting && own == 0 {
				t.Errorf("no probe socket found on a silent stand-in that never closes: %s", all.Summary)
			}
			if want := fmt.Sprintf("(left out: %s of tend's own probes); listening", plural(own, "socket")); own > 0 &&
				(!strings.HasPrefix(c.Summary, fmt.Sprintf("2 CLOSE_WAIT on :%d held by tend-standin-mq", port)) || !strings.Contains(c.Summary, want)) {
				t.Errorf("summary %q, want it to say %q", c.Summary, want)
			}
			// Draining with CLOSE_WAIT as an active state is not blocked by
			// the probes' own sockets: only the 2 of the load are left.
			d, err := newWaitForT(t, fmt.Sprintf("port: %d\nstate: drained\nactive_connection_states: [close-wait]\ntimeout: 0", port)).Check(ctx, lab.conn)
			if err != nil || d.Data["connections"] != 2 {
				t.Errorf("drained: %+v %v", d, err)
			}
		})
	}
}

// TestProbeReportsItsConnection: the probe names its connection's local
// address, through ss where the host has it, else through /proc/net/tcp,
// and that address is the peer of exactly one server socket on the port.
func TestProbeReportsItsConnection(t *testing.T) {
	lab := newMQLab(t)
	port := lab.port()
	lab.start(fmt.Sprintf("mq%d", port), port, false)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	// A PATH without ss: readlink and grep only.
	noSS := t.TempDir()
	for _, tool := range []string{"readlink", "grep"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("no %s", tool)
		}
		if err := os.Symlink(p, filepath.Join(noSS, tool)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, path, word string }{
		{"ss", os.Getenv("PATH"), "probe_ss="},
		{"proc", noSS, "probe_proc="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := lab.conn.Run(context.Background(), transport.Command{
				Argv: []string{"env", "PATH=" + tc.path, bash, "-c", probeConnect, "tend-probe", "127.0.0.1", strconv.Itoa(port), "0"}, Timeout: time.Minute})
			if err != nil || !strings.Contains(string(res.Stdout), "accept=1") {
				t.Fatalf("probe: %v %q %q", err, res.Stdout, res.Stderr)
			}
			out := string(res.Stdout)
			if strings.Count(out, "probe_") != 1 || !strings.Contains(out, tc.word) {
				t.Fatalf("probe output %q, want one %s", out, tc.word)
			}
			ctx := WithProbeLedger(context.Background(), NewProbeLedger())
			recordProbes(ctx, port, out)
			sc, _, err := scanPort(ctx, lab.conn, port, false)
			if err != nil {
				t.Fatal(err)
			}
			if r := summarizePort(sc, port, 0, nil, probeLedgerFrom(ctx).own(port)); r.Own != 1 {
				t.Errorf("%q names %d server sockets, want 1: %+v", out, r.Own, r)
			}
		})
	}
}
