package modules

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// recorder is a Reporter that keeps every message.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) report(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, msg)
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// TestWaitTap: the remote wait loop's stderr, in whatever chunks it
// arrives, becomes one report per whole state line, in the words of what
// is waited for; other lines are ignored.
func TestWaitTap(t *testing.T) {
	for _, tc := range []struct {
		name             string
		goal             string
		greeting, accept bool
		chunks           []string
		want             []string
	}{
		{"greeting", ":61616 greeting", true, true,
			[]string{"tend-wait listen=0 accept=0 greet", "ing=0\n", "bash: noise\ntend-wait listen=1 accept=0 greeting=0\ntend-wait listen=1 accept=1 greeting=0\n", "tend-wait listen=1"},
			[]string{"waiting for :61616 greeting (nothing listens)", "waiting for :61616 greeting (listens, does not accept yet)",
				"waiting for :61616 greeting (accepts, no greeting yet)"}},
		{"accept", "10.0.0.5:61616 to accept connections", false, true,
			[]string{"tend-wait listen=0 accept=0 greeting=0\n"},
			[]string{"waiting for 10.0.0.5:61616 to accept connections (nothing listens)"}},
		{"refuse", ":61616 to refuse connections", false, false,
			[]string{"tend-wait listen=1 accept=1 greeting=0\n"},
			[]string{"waiting for :61616 to refuse connections (still accepts)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			tap := newWaitTap(WithReporter(context.Background(), rec.report), tc.goal, tc.greeting, tc.accept)
			for _, c := range tc.chunks {
				if n, err := tap.Write([]byte(c)); n != len(c) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if got := rec.all(); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("reports:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
	if newWaitTap(context.Background(), "x", true, true) != nil {
		t.Error("a tap without a Reporter: the command should need none")
	}
	if g := waitGoal("127.0.0.1", 61616, true, true); g != ":61616 greeting" {
		t.Errorf("goal %q", g)
	}
}

// slowStart runs the restart command given as its arguments, saying so on
// stdout (the test's stand-in, started through a `sleep 3; exec`, comes
// back 3 s after the command ended, as a broker slow to start).
const slowStart = `echo "stopping mq"; "$@"; echo "started mq"`

// TestServiceReportsWaiting restarts a stand-in that comes back after 3 s
// and records what the service module reports meanwhile: the restart, then
// the wait for the port and greeting with the state the remote loop saw
// (nothing listening yet), then the end of the wait; the restart command's
// output is kept for -v.
func TestServiceReportsWaiting(t *testing.T) {
	lab := newMQLab(t)
	port := lab.port()
	pidfile, _ := lab.start("mq", port, true)
	slowDaemon := append([]string{"/bin/sh", "-c", slowStart, "sh", "/bin/sh", "-c", daemonScript, "sh", pidfile, "restart",
		"/bin/sh", "-c", `sleep 3; exec "$0" "$@"`}, lab.standinArgv(port, true)...)
	m := newServiceT(t, serviceYAML("restarted", slowDaemon,
		fmt.Sprintf("name: mq\npidfile: %s\nwait_port: %d\nwait_timeout: 30s\ngreeting: activemq\n", pidfile, port)))
	rec := &recorder{}
	ctx := WithReporter(context.Background(), rec.report)
	planned, err := m.Check(ctx, lab.conn)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Apply(ctx, lab.conn, planned)
	if err != nil || got.Failed {
		t.Fatalf("apply: %v %+v", err, got)
	}
	// Exactly these, in order; a probe may also catch the stand-in
	// between its listen and its greeting (another state of the goal).
	goal := fmt.Sprintf("waiting for :%d greeting", port)
	want := []string{"restarting mq", goal, goal + " (nothing listens)", ""}
	var msgs []string
	for _, msg := range rec.all() {
		if !strings.HasPrefix(msg, goal+" (") || msg == want[2] {
			msgs = append(msgs, msg)
		}
	}
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("reports:\n%q\nwant:\n%q", rec.all(), want)
	}
	if got.Data["stdout"] != "stopping mq\nstarted mq" {
		t.Errorf("restart output %q", got.Data["stdout"])
	}
}
