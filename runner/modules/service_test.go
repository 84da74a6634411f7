package modules

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"tend/runner/plan"
)

func newServiceT(t *testing.T, src string) *serviceModule {
	t.Helper()
	m, err := newService(Args{Node: argsNode(t, src), File: "play.yml"})
	if err != nil {
		t.Fatal(err)
	}
	return m.(*serviceModule)
}

// serviceYAML renders a service task's arguments with a command list.
func serviceYAML(state string, argv []string, extra string) string {
	b, _ := yaml.Marshal(map[string]any{"state": state, "command": argv})
	return string(b) + extra
}

func TestServiceArgs(t *testing.T) {
	m := newServiceT(t, "name: activemq\nstate: restarted\nwait_port: 61616\ngreeting: activemq")
	if m.manager != "auto" || m.waitTimeout.Seconds() != 60 || !m.greeting || m.waitHost != "127.0.0.1" || m.Verifiable() {
		t.Errorf("module = %+v", m)
	}
	m = newServiceT(t, "state: started\ncommand: /opt/activemq/bin/activemq start --extdir 'a b'\npidfile: /run/mq.pid\nwait_timeout: 90")
	if m.manager != "command" || strings.Join(m.command, "|") != "/opt/activemq/bin/activemq|start|--extdir|a b" ||
		m.waitTimeout.Seconds() != 90 || !m.Verifiable() {
		t.Errorf("string command: %+v", m)
	}
	m = newServiceT(t, "state: restarted\ncommand: [/bin/sh, -c, 'kill $(cat /run/x.pid); start-x']")
	if len(m.command) != 3 || m.label() != "sh" {
		t.Errorf("list command: %q", m.command)
	}
	for src, want := range map[string]string{
		"name: mq\nmanager: command":                             "state",
		"name: mq\nstate: reload":                                `play.yml:2:8: service: state must be restarted, started, stopped or reloaded, not "reload"; did you mean "reloaded"?`,
		"name: -mq\nstate: started":                              `play.yml:1:7: service: not a service name: "-mq"`,
		"name: ../../bin/x\nstate: started":                      "not a service name",
		"state: started":                                         "name is required",
		"name: mq\nstate: started\nmanager: upstart":             "manager must be auto, systemd, sysv or command",
		"name: mq\nstate: started\nmanager: command":             "manager command needs a command",
		"state: started\ncommand: /x start":                      "needs pidfile, pid_command or wait_port",
		"name: mq\nstate: started\nmanager: systemd\ncommand: x": "command is only for manager: command",
		"name: mq\nstate: started\ngreeting: activemq":           "greeting needs wait_port",
		"name: mq\nstate: started\nwait_port: 1\ngreeting: amqp": `unknown greeting "amqp"`,
		"name: mq\nstate: started\nwait_port: 0x10":              "wait_port",
		"name: mq\nstate: started\nwait_host: '-oX'":             "not a host name",
		"name: mq\nstate: started\npidfile: run/mq.pid":          "absolute path",
		"state: restarted\ncommand: \"/x 'unclosed\"":            "command",
		"name: mq\nstate: started\nwait_timeout: soon":           "wait_timeout",
		"name: mq\nstate: started\nwiat_port: 61616":             "wait_port",
	} {
		_, err := newService(Args{Node: argsNode(t, src), File: "play.yml"})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", src, err, want)
		}
	}
	// Templates are not judged before rendering.
	for _, src := range []string{
		"name: '{{ svc }}'\nstate: '{{ st }}'\nwait_port: '{{ p }}'\ngreeting: activemq",
		"name: mq\nstate: restarted\nwait_port: 61616\ngreeting: '{{ mq_greeting }}'", // "" or activemq once rendered
	} {
		if _, err := newService(Args{Node: argsNode(t, src), File: "play.yml"}); err != nil {
			t.Errorf("templated args %q: %v", src, err)
		}
	}
}

// TestServiceRestartCommand restarts a stand-in broker holding CLOSE_WAIT
// sockets through manager: command and expects the new process to listen,
// greet, hold none of the old sockets, and be reported with both PIDs.
func TestServiceRestartCommand(t *testing.T) {
	lab := newMQLab(t)
	port := lab.port()
	pidfile, oldPID := lab.start("mq", port, true)
	lab.load(port, 3, true)
	ctx := context.Background()

	m := newServiceT(t, serviceYAML("restarted", lab.serviceCommand(pidfile, "restart", port, true),
		fmt.Sprintf("name: mq\npidfile: %s\nwait_port: %d\nwait_timeout: 30s\ngreeting: activemq\n", pidfile, port)))
	planned, err := m.Check(ctx, lab.conn)
	if err != nil {
		t.Fatal(err)
	}
	if planned.Action != plan.Restart || planned.Summary != fmt.Sprintf("would restart mq (pid %d): 127.0.0.1:%d accepts and greets", oldPID, port) {
		t.Fatalf("check = %+v", planned)
	}
	got, err := m.Apply(ctx, lab.conn, planned)
	if err != nil {
		t.Fatal(err)
	}
	newPID := lab.waitPID(pidfile)
	if got.Failed || got.Data["old_pid"] != oldPID || got.Data["new_pid"] != newPID || newPID == oldPID || got.Data["greeting"] != true {
		t.Fatalf("apply = %+v (old %d, new %d)", got, oldPID, newPID)
	}
	want := fmt.Sprintf("restarted mq: pid %d -> %d; 127.0.0.1:%d accepts, ActiveMQ greeting seen", oldPID, newPID, port)
	if got.Summary != want {
		t.Errorf("summary %q\nwant %q", got.Summary, want)
	}
	c, err := newTCPStatesT(t, fmt.Sprintf("port: %d", port)).Check(ctx, lab.conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range c.Data["holders"].([]any) {
		if h.(map[string]any)["pid"] == oldPID {
			t.Errorf("old process still holds sockets: %v", c.Data)
		}
	}
	if c.Data["count"].(int) >= 3 {
		t.Errorf("CLOSE_WAIT count after restart = %v", c.Data["count"])
	}

	// started: nothing to do now; stopped: would stop the new PID. A saved
	// plan (no Private) applies too.
	started := newServiceT(t, serviceYAML("started", lab.serviceCommand(pidfile, "restart", port, true),
		fmt.Sprintf("pidfile: %s\n", pidfile)))
	if c, err := started.Check(ctx, lab.conn); err != nil || c.Action != plan.None || c.Data["pid"] != newPID ||
		c.Summary != fmt.Sprintf("sh is running (pidfile %s, pid %d)", pidfile, newPID) {
		t.Errorf("started: %+v %v", c, err)
	}
	stopped := newServiceT(t, serviceYAML("stopped", lab.serviceCommand(pidfile, "stop", port, true),
		fmt.Sprintf("pidfile: %s\nwait_port: %d\n", pidfile, port)))
	c, err = stopped.Check(ctx, lab.conn)
	if err != nil || c.Action != plan.Restart || c.Summary != fmt.Sprintf("would stop sh (pid %d): 127.0.0.1:%d accepts", newPID, port) {
		t.Fatalf("stopped check: %+v %v", c, err)
	}
	if c, err = stopped.Apply(ctx, lab.conn, plan.Change{Action: plan.Restart}); err != nil || c.Failed {
		t.Fatalf("stop: %+v %v", c, err)
	}
	if c, err = stopped.Check(ctx, lab.conn); err != nil || c.Action != plan.None {
		t.Errorf("after stop: %+v %v", c, err)
	}
}

// TestServiceNeverComesBack: the command stops the broker and starts
// nothing; the task fails within wait_timeout and says why.
func TestServiceNeverComesBack(t *testing.T) {
	lab := newMQLab(t)
	port := lab.port()
	pidfile, _ := lab.start("mq", port, true)
	m := newServiceT(t, serviceYAML("restarted", lab.serviceCommand(pidfile, "stop", port, true),
		fmt.Sprintf("name: mq\nwait_port: %d\nwait_timeout: 1s\n", port)))
	got, err := m.Apply(context.Background(), lab.conn, plan.Change{Action: plan.Restart})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("mq did not come back within 1s: 127.0.0.1:%d does not accept connections", port)
	if !got.Failed || got.Msg != want || got.Summary != "restart mq failed" {
		t.Errorf("got %+v\nwant msg %q", got, want)
	}

	// A restart command that fails is a failed result with its exit code.
	m = newServiceT(t, "name: mq\nstate: restarted\ncommand: [/bin/sh, -c, 'echo no broker here >&2; exit 3']")
	if got, err := m.Apply(context.Background(), lab.conn, plan.Change{Action: plan.Restart}); err != nil ||
		!got.Failed || got.Msg != "restart mq: /bin/sh exited 3: no broker here" {
		t.Errorf("failing command: %+v %v", got, err)
	}
}

// TestServiceGreeting: a listener that accepts but does not speak OpenWire
// is not a broker that came back.
func TestServiceGreeting(t *testing.T) {
	lab := newMQLab(t)
	ctx := context.Background()
	greets, silent := lab.port(), lab.port()
	lab.start("greets", greets, true)
	silentPID, _ := lab.start("silent", silent, false)

	for _, tc := range []struct {
		port          int
		greeting, ask bool
	}{{greets, true, true}, {silent, false, true}, {greets, false, false}} {
		pr, err := probePort(ctx, lab.conn, "127.0.0.1", tc.port, tc.ask)
		if err != nil {
			t.Fatal(err)
		}
		if !pr.Listening || !pr.Accepts || pr.Greeting != tc.greeting {
			t.Errorf("probe :%d greeting=%v: %+v", tc.port, tc.ask, pr)
		}
	}
	free := lab.port()
	if pr, err := probePort(ctx, lab.conn, "127.0.0.1", free, true); err != nil || pr.Accepts || pr.Listening {
		t.Errorf("free port: %+v %v", pr, err)
	}

	m := newServiceT(t, serviceYAML("restarted", lab.serviceCommand(silentPID, "restart", silent, false),
		fmt.Sprintf("name: mq\nwait_port: %d\nwait_timeout: 1s\ngreeting: activemq\n", silent)))
	got, err := m.Apply(ctx, lab.conn, plan.Change{Action: plan.Restart})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Failed || !strings.Contains(got.Msg, "accepts connections but sent no ActiveMQ greeting") {
		t.Errorf("silent broker: %+v", got)
	}
}
