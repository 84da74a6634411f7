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
		"host: x":                                        "port",
		"port: 61616\nstate: up":                         `play.yml:2:8: wait_for: state must be started, stopped or drained, not "up"`,
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
