package modules

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tend/runner/plan"
	"tend/runner/transport"
)

func newWaitForT(t *testing.T, src string) *waitForModule {
	t.Helper()
	m, err := newWaitFor(Args{Node: argsNode(t, src), File: "play.yml"})
	if err != nil {
		t.Fatal(err)
	}
	return m.(*waitForModule)
}

func TestWaitForArgs(t *testing.T) {
	m := newWaitForT(t, "port: 61616")
	if m.host != "127.0.0.1" || m.state != "started" || m.timeout != time.Minute || m.sleep != time.Second || len(m.active) != 6 {
		t.Errorf("defaults: %+v", m)
	}
	m = newWaitForT(t, "port: 61616\nstate: drained\nactive_connection_states: CLOSE_WAIT\nsleep: 10ms\ntimeout: 5")
	if m.sleep != minPoll || m.timeout != 5*time.Second || len(m.active) != 1 || m.active[0] != tcpCloseWait {
		t.Errorf("drained: %+v", m)
	}
	for src, want := range map[string]string{
		"host: x\nport: 1\npath: /x":                     "play.yml:3:7: wait_for: port and path cannot both be given",
		"port: 61616\nstate: up":                         `play.yml:2:8: wait_for: state must be started, stopped, drained, present or absent, not "up"`,
		"port: 61616\nhost: 'a;id'":                      "not a host name or IP address",
		"port: 61616\nhost: -oProxy":                     "not a host name or IP address",
		"port: 61616\ntimeout: -1":                       "timeout",
		"port: 61616\nactive_connection_states: [bogus]": `unknown TCP state "bogus"`,
		"port: 61616\ndelya: 1":                          "delay",
	} {
		_, err := newWaitFor(Args{Node: argsNode(t, src), File: "play.yml"})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", src, err, want)
		}
	}
}

func TestWaitForStates(t *testing.T) {
	lab := newMQLab(t)
	ctx := context.Background()
	port, free := lab.port(), lab.port()
	lab.start("mq", port, true)

	check := func(src string) plan.Change {
		t.Helper()
		c, err := newWaitForT(t, src).Check(ctx, lab.conn)
		if err != nil {
			t.Fatal(err)
		}
		if c.Action != plan.Read {
			t.Errorf("%q: action %s", src, c.Action)
		}
		return c
	}
	if c := check(fmt.Sprintf("port: %d", port)); c.Failed || !strings.HasPrefix(c.Summary, fmt.Sprintf("127.0.0.1:%d is started after ", port)) {
		t.Errorf("started: %+v", c)
	}
	if c := check(fmt.Sprintf("port: %d\nstate: stopped", free)); c.Failed {
		t.Errorf("stopped on a free port: %+v", c)
	}
	c := check(fmt.Sprintf("port: %d\ntimeout: 0", free))
	if !c.Failed || c.Msg != fmt.Sprintf("timeout: 127.0.0.1:%d not started after 0s", free) {
		t.Errorf("started on a free port: %+v", c)
	}
	if c := check(fmt.Sprintf("port: %d\ntimeout: 0\nmsg: MQ is down", free)); c.Msg != "MQ is down" {
		t.Errorf("msg: %+v", c)
	}

	// CLOSE_WAIT is not an active state by default (as in Ansible), so the
	// port counts as drained; listing it makes the leak block draining.
	lab.load(port, 2, true)
	if c := check(fmt.Sprintf("port: %d\nstate: drained", port)); c.Failed {
		t.Errorf("drained: %+v", c)
	}
	eventually(t, "2 CLOSE_WAIT block draining", func() bool {
		c = check(fmt.Sprintf("port: %d\nstate: drained\nactive_connection_states: [close-wait]\ntimeout: 0", port))
		return c.Failed && c.Data["connections"] == 2
	})
	if !strings.HasSuffix(c.Msg, "not drained after 0s (2 connections left)") {
		t.Errorf("drained msg %q", c.Msg)
	}
}

// countingConn counts the commands run through it: each is one SSH session.
type countingConn struct {
	transport.Conn
	runs atomic.Int32
}

func (c *countingConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	c.runs.Add(1)
	return c.Conn.Run(ctx, cmd)
}

// TestWaitForLoopsOnTheHost: waiting for a port that opens a second later
// polls on the host (every 200 ms there) in one command, not one per probe.
func TestWaitForLoopsOnTheHost(t *testing.T) {
	lab := newMQLab(t)
	port := lab.port()
	conn := &countingConn{Conn: lab.conn}
	started := make(chan error, 1)
	go func() { // not lab.start: no t.Fatal outside the test's goroutine
		time.Sleep(time.Second)
		_, err := lab.conn.Run(context.Background(), transport.Command{
			Argv: lab.serviceCommand(filepath.Join(lab.dir, "late.pid"), "restart", port, true), Timeout: time.Minute})
		started <- err
	}()
	defer func() {
		if err := <-started; err != nil {
			t.Errorf("starting the stand-in: %v", err)
		}
	}()
	c, err := newWaitForT(t, fmt.Sprintf("port: %d\ntimeout: 30s\nsleep: 0", port)).Check(context.Background(), conn)
	if err != nil || c.Failed {
		t.Fatalf("wait: %+v %v", c, err)
	}
	if n := conn.runs.Load(); n != 1 {
		t.Errorf("%d commands for one wait, want 1", n)
	}
	if e, _ := c.Data["elapsed"].(float64); e < 0.9 {
		t.Errorf("elapsed %v s: the port opened after 1 s", e)
	}
}

// TestWaitForPathArgs: path, search_regex, delay and sleep are checked
// before any host is contacted, with file:line:col and a did-you-mean.
func TestWaitForPathArgs(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"path: /tmp/x\nstate: stopped", "play.yml:2:8: wait_for: with path, state must be present (or started) or absent, not \"stopped\""},
		{"path: /tmp/x\nstate: drained", "stopped and drained are for a port"},
		{"path: tmp/x", `play.yml:1:7: wait_for: path must be absolute, not "tmp/x"`},
		{"path: /tmp/x\nstate: presnt", `did you mean "present"?`},
		{"path: /tmp/x\nstate: absent\nsearch_regex: ready", "play.yml:3:15: wait_for: search_regex only applies to state present or started, not absent"},
		{"port: 80\nstate: stopped\nsearch_regex: ready", "search_regex only applies to state present or started, not stopped"},
		{"search_regex: ready", "play.yml:1:15: wait_for: search_regex needs path (a file's content) or port (its greeting)"},
		{"path: /tmp/x\nsearch_regex: '(?<=a)b'", `play.yml:2:15: wait_for: regular expression "(?<=a)b", at character 1: lookbehind`},
		{"path: /tmp/x\nsearch_regx: a", `did you mean "search_regex"?`},
		{"path: /tmp/x\ndelay: -1", "play.yml:2:8: delay"},
		{"state: absent", "play.yml:1:8: wait_for: state absent needs port or path"},
		{"port: 0", "play.yml:1:7: wait_for: port must be a port between 1 and 65535, not 0"},
	} {
		_, err := newWaitFor(Args{Node: argsNode(t, tc.src), File: "play.yml"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.src, err, tc.want)
		}
	}
	for _, tc := range []struct{ src, state string }{
		{"path: /tmp/x", "present"},
		{"path: /tmp/x\nstate: started", "present"},
		{"path: /tmp/x\nstate: absent", "absent"},
		{"port: 80\nstate: present", "started"},
		{"port: 80\nstate: absent", "stopped"},
		{"port: 80\nsearch_regex: '^AMQP'", "started"},
	} {
		if m := newWaitForT(t, tc.src); m.state != tc.state {
			t.Errorf("%q: state %q, want %q", tc.src, m.state, tc.state)
		}
	}
	if m := newWaitForT(t, "path: /x\nsearch_regex: '^ready$'"); m.search == nil || m.search.re.MatchString("x\nready\ny") != true || m.searchSource() != "^ready$" {
		t.Errorf("search_regex is multiline, as Ansible's: %+v", m.search)
	}
}

// TestParseWaitRound reads what the host loops print.
func TestParseWaitRound(t *testing.T) {
	for _, tc := range []struct {
		out, key string
		want     waitRound
	}{
		{"exists=0 polls=7 sum=\n", "exists", waitRound{polls: 7}},
		{"exists=1 polls=1 sum=\n", "exists", waitRound{reached: true, polls: 1}},
		{"exists=1 polls=2 sum=1_2\ncontent\nstate: ready\n", "exists", waitRound{reached: true, polls: 2, sum: "1_2", content: []byte("state: ready\n")}},
		{"accept=1 polls=3 sum=9_4 greeting=00414d51\n", "accept", waitRound{reached: true, polls: 3, sum: "9_4", content: []byte("\x00AMQ")}},
		{"accept=0 polls=3 sum= greeting=\n", "accept", waitRound{polls: 3}},
	} {
		got := parseWaitRound(tc.out, tc.key)
		if got.reached != tc.want.reached || got.polls != tc.want.polls || got.sum != tc.want.sum || string(got.content) != string(tc.want.content) || (got.content == nil) != (tc.want.content == nil) {
			t.Errorf("%q: got %+v, want %+v", tc.out, got, tc.want)
		}
	}
}
