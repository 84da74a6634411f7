package modules

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"tend/runner/plan"
)

func newTCPStatesT(t *testing.T, src string) *tcpStatesModule {
	t.Helper()
	m, err := newTCPStates(Args{Node: argsNode(t, src), File: "play.yml"})
	if err != nil {
		t.Fatal(err)
	}
	return m.(*tcpStatesModule)
}

func TestTCPStatesArgs(t *testing.T) {
	m := newTCPStatesT(t, "port: 61616\nstates: [close-wait, LISTEN]")
	if m.port != 61616 || !m.holders || len(m.states) != 2 || m.states[1] != tcpListen {
		t.Errorf("module = %+v", m)
	}
	if m := newTCPStatesT(t, "port: '{{ mq_port }}'\nholders: false"); m.port != 0 || m.holders {
		t.Errorf("templated port must pass validation: %+v", m)
	}
	for src, want := range map[string]string{
		"states: [close-wait]":             "port",
		"port: 70000":                      "play.yml:1:7: tcp_states: port must be a port between 1 and 65535, not 70000",
		"port: 61616\nremote_port: -1":     "remote_port must be a port",
		"port: 61616\nstates: [half-open]": `play.yml:2:9: tcp_states: unknown state "half-open"`,
		"port: 61616\nholder: true":        "holder",
	} {
		_, err := newTCPStates(Args{Node: argsNode(t, src), File: "play.yml"})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", src, err, want)
		}
	}
}

// TestTCPStatesCloseWaitHolder leaves N server-side CLOSE_WAIT sockets in a
// stand-in broker and expects tcp_states to count them and name the
// stand-in's PID as their holder.
func TestTCPStatesCloseWaitHolder(t *testing.T) {
	lab := newMQLab(t)
	port := lab.port()
	_, pid := lab.start("mq", port, true)
	const n = 5
	lab.load(port, n, true)

	m := newTCPStatesT(t, fmt.Sprintf("port: %d", port))
	var c plan.Change
	eventually(t, "5 CLOSE_WAIT held by the stand-in", func() bool {
		var err error
		if c, err = m.Check(context.Background(), lab.conn); err != nil {
			t.Fatal(err)
		}
		hs := c.Data["holders"].([]any)
		return c.Data["count"] == n && len(hs) == 1 && hs[0].(map[string]any)["close_wait"] == n
	})
	if c.Action != plan.Read || c.Failed {
		t.Errorf("change = %+v", c)
	}
	h := c.Data["holders"].([]any)[0].(map[string]any)
	if h["pid"] != pid || h["command"] != "tend-standin-mq" || h["listening"] != true || h["fds"].(int) < n+1 {
		t.Errorf("holder = %v, want pid %d", h, pid)
	}
	states := c.Data["states"].(map[string]any)
	if states["close_wait"] != n || states["listen"] != 1 || c.Data["listening"] != true {
		t.Errorf("states = %v", states)
	}
	want := fmt.Sprintf("5 CLOSE_WAIT on :%d held by tend-standin-mq (pid %d): ", port, pid)
	if !strings.HasPrefix(c.Summary, want) {
		t.Errorf("summary %q, want prefix %q", c.Summary, want)
	}
	netns := c.Data["netns"].(map[string]any)
	if lab.ns != "" {
		// The holder lives in the lab's namespace, which is this
		// connection's, and not this test process's.
		own, _ := os.Readlink("/proc/self/ns/net")
		if netns["self"] != h["netns"] || h["netns"] == own || h["netns"] == "" {
			t.Errorf("netns: connection %v, holder %v, test process %s", netns["self"], h["netns"], own)
		}
	}

	// ss and /proc/net/tcp{,6} tell the same: counts, states and holders.
	for _, holders := range []bool{true, false} {
		viaSS, _, err1 := scanPortFrom(context.Background(), lab.conn, port, holders, true, false)
		viaProc, _, err2 := scanPortFrom(context.Background(), lab.conn, port, holders, false, false)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		a, b := summarizePort(viaSS, port, 0, nil, nil), summarizePort(viaProc, port, 0, nil, nil)
		if fmt.Sprint(a.Counts, a.CloseWait, a.Listening, a.Holders) != fmt.Sprint(b.Counts, b.CloseWait, b.Listening, b.Holders) ||
			viaSS.BadLines != 0 || viaProc.BadLines != 0 || len(viaSS.Sockets) < n+1 || viaSS.Source != "ss" || viaProc.Source != "tcp" {
			t.Errorf("holders %v: %s says %+v (%d bad lines), %s %+v (%d bad lines)", holders, viaSS.Source, a, viaSS.BadLines, viaProc.Source, b, viaProc.BadLines)
		}
	}

	// Listeners only: ss lists just the LISTEN socket, with the same holder.
	ls, lerr := scanListeners(context.Background(), lab.conn, port)
	if lerr != nil {
		t.Fatal(lerr)
	}
	lr := summarizePort(ls, port, 0, nil, nil)
	if ls.Source != "ssl" || len(ls.Sockets) != 1 || ls.Sockets[0].State != tcpListen || !lr.Listening ||
		len(lr.Holders) != 1 || lr.Holders[0].PID != pid || !lr.Holders[0].Listening {
		t.Errorf("listeners only (%s): sockets %+v holders %+v, want the LISTEN socket held by %d", ls.Source, ls.Sockets, lr.Holders, pid)
	}

	// Without holders: the same counts, no fd scan.
	c, err := newTCPStatesT(t, fmt.Sprintf("port: %d\nholders: false\nstates: [close-wait]", port)).Check(context.Background(), lab.conn)
	if err != nil {
		t.Fatal(err)
	}
	if c.Data["count"] != n || len(c.Data["holders"].([]any)) != 0 || len(c.Data["states"].(map[string]any)) != 1 {
		t.Errorf("without holders: %v", c.Data)
	}
}
