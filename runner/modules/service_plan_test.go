package modules

import (
	"testing"

	"tend/runner/plan"
)

// TestServicePortEvidence: with wait_port the probe alone says whether the
// service runs, and in which words.
func TestServicePortEvidence(t *testing.T) {
	for _, tc := range []struct {
		name, args    string
		pr            probeResult
		running, held bool
		evidence      string
	}{
		{"greets", "state: started\ngreeting: activemq", probeResult{Listening: true, Accepts: true, Greeting: true}, true, true, "127.0.0.1:61616 accepts and greets"},
		{"no greeting", "state: started\ngreeting: activemq", probeResult{Listening: true, Accepts: true}, false, true, "127.0.0.1:61616 accepts but sent no ActiveMQ greeting"},
		{"accepts", "state: restarted", probeResult{Listening: true, Accepts: true}, true, true, "127.0.0.1:61616 accepts"},
		{"stopped ignores the greeting", "state: stopped\ngreeting: activemq", probeResult{Accepts: true}, true, true, "127.0.0.1:61616 accepts"},
		{"listens only", "state: started", probeResult{Listening: true}, false, true, "127.0.0.1:61616 listens but does not accept connections"},
		{"nothing", "state: started\ngreeting: activemq", probeResult{}, false, false, "127.0.0.1:61616 does not accept connections"},
		{"no bash, listening", "state: started", probeResult{NoBash: true, Listening: true, Accepts: true}, true, true, "127.0.0.1:61616 listens (no bash on the host to connect to it)"},
		{"no bash, nothing", "state: started", probeResult{NoBash: true}, false, false, "nothing listens on 127.0.0.1:61616"},
		{"ipv6", "state: started\nwait_host: '::1'", probeResult{Accepts: true}, true, true, "[::1]:61616 accepts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newServiceT(t, "name: mq\nwait_port: 61616\n"+tc.args)
			running, held, ev := m.portEvidence(tc.pr)
			if running != tc.running || held != tc.held || ev != tc.evidence {
				t.Errorf("got %v %v %q, want %v %v %q", running, held, ev, tc.running, tc.held, tc.evidence)
			}
		})
	}
}

// TestServicePlan: the dry run names its evidence, and a restart of a
// service that does not run (nor holds its port) is a start.
func TestServicePlan(t *testing.T) {
	port := func(running, held bool, ev string, pid int) servicePrivate {
		return servicePrivate{manager: "sysv", running: running, listening: held, pid: pid, evidence: ev, byPort: true}
	}
	mgr := func(running bool, ev string, pid int) servicePrivate {
		return servicePrivate{manager: "systemd", running: running, pid: pid, evidence: ev}
	}
	const accepts, refuses = "127.0.0.1:61616 accepts and greets", "127.0.0.1:61616 does not accept connections"
	for _, tc := range []struct {
		state   string
		p       servicePrivate
		action  plan.Action
		summary string
		starts  bool
	}{
		{"started", port(true, true, accepts, 42), plan.None, "mq is running (pid 42): " + accepts, false},
		{"started", port(true, true, accepts, 0), plan.None, "mq is running: " + accepts, false},
		{"started", port(false, false, refuses, 0), plan.Restart, "mq not running: would start (" + refuses + ")", true},
		{"started", mgr(true, "systemctl is-active", 42), plan.None, "mq is running (systemctl is-active, pid 42)", false},
		{"started", mgr(true, "init script status exit 0", 0), plan.None, "mq is running (init script status exit 0)", false},
		{"started", mgr(false, "systemctl is-active: inactive", 0), plan.Restart, "mq not running: would start (systemctl is-active: inactive)", true},
		{"restarted", port(true, true, accepts, 42), plan.Restart, "would restart mq (pid 42): " + accepts, false},
		{"restarted", port(false, false, refuses, 0), plan.Restart, "mq not running: would start (" + refuses + ")", true},
		// Something holds the port but does not greet: a restart, not a start.
		{"restarted", port(false, true, "127.0.0.1:61616 accepts but sent no ActiveMQ greeting", 7), plan.Restart,
			"would restart mq (pid 7): 127.0.0.1:61616 accepts but sent no ActiveMQ greeting", false},
		{"restarted", mgr(false, "init script status exit 3", 0), plan.Restart, "mq not running: would start (init script status exit 3)", true},
		{"restarted", servicePrivate{manager: "command", unknown: true, evidence: "no pidfile, pid_command or wait_port tells whether it runs"},
			plan.Restart, "would restart mq (no pidfile, pid_command or wait_port tells whether it runs)", false},
		{"stopped", port(true, true, "127.0.0.1:61616 accepts", 42), plan.Restart, "would stop mq (pid 42): 127.0.0.1:61616 accepts", false},
		{"stopped", port(false, false, refuses, 0), plan.None, "mq is stopped (" + refuses + ")", true},
		{"stopped", mgr(false, "no live pid from pidfile /run/mq.pid", 0), plan.None, "mq is stopped (no live pid from pidfile /run/mq.pid)", true},
	} {
		m := newServiceT(t, "name: mq\nstate: "+tc.state)
		c := m.plan(tc.p)
		if c.Action != tc.action || c.Summary != tc.summary || c.Data["evidence"] != tc.p.evidence || c.Data["running"] != tc.p.running {
			t.Errorf("%s %+v:\n got %s %q %v\nwant %s %q", tc.state, tc.p, c.Action, c.Summary, c.Data, tc.action, tc.summary)
		}
		if tc.p.starts() != tc.starts {
			t.Errorf("%s %+v: starts() = %v", tc.state, tc.p, !tc.starts)
		}
	}
}
