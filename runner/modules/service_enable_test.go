package modules

import (
	"context"
	"strings"
	"testing"

	"tend/runner/plan"
	"tend/runner/transport"
)

// TestServiceBootArgs: enabled, masked and daemon_reload are refused where
// they cannot apply, before any host is contacted, with file:line:col.
func TestServiceBootArgs(t *testing.T) {
	for _, tc := range []struct{ module, src, want string }{
		{"service", "name: mq\nmanager: sysv", `play.yml:1:1: service: service needs state, enabled, masked or daemon_reload (a status query, name only, needs systemd)`},
		{"service", "command: /x start\npidfile: /run/x.pid", `service needs state, enabled, masked or daemon_reload`},
		{"systemd", "{}", `play.yml:1:1: systemd: name is required with manager systemd`},
		{"service", "command: /x start\npidfile: /run/x.pid\nstate: started\nenabled: true", `play.yml:4:10: service: enabled does not apply to manager command`},
		{"service", "command: /x start\nstate: restarted\nmasked: false", `play.yml:3:9: service: masked does not apply to manager command`},
		{"service", "command: /x start\nstate: restarted\ndaemon_reload: true", `play.yml:3:16: service: daemon_reload does not apply to manager command`},
		{"service", "command: /x start\nwait_port: 80\nstate: reloaded", `play.yml:3:8: service: state reloaded needs manager systemd or sysv`},
		{"service", "name: mq\nmanager: sysv\nmasked: true", `play.yml:3:9: service: masked needs systemd, not manager sysv`},
		{"service", "name: mq\nmanager: sysv\ndaemon_reload: true", `play.yml:3:16: service: daemon_reload needs systemd`},
		{"service", "name: mq\nmanager: systemv\nenabled: true", `play.yml:2:10: service: manager must be auto, systemd, sysv or command, not "systemv"; did you mean "systemd"?`},
		{"service", "name: mq\nenabled: maybe", `play.yml:2:10`},
		// The project's rule for YAML 1.1 booleans: refused, never guessed.
		{"service", "name: mq\nenabled: maybe", `play.yml:2:10: enabled: must be true or false, not "maybe"`},
		{"service", "name: mq\nenable: true", `did you mean "enabled"?`},
		{"systemd", "name: mq\nstate: reloded", `play.yml:2:8: systemd: state must be restarted, started, stopped or reloaded, not "reloded"; did you mean "reloaded"?`},
		{"systemd", "name: mq\ndaemon_reload: true\nmaskd: true", `did you mean "masked"?`},
		{"systemd", "enabled: true", `play.yml:1:1: systemd: name is required with manager systemd`},
	} {
		spec := serviceSpec
		if tc.module == "systemd" {
			spec = systemdSpec
		}
		_, err := spec.New(Args{Node: argsNode(t, tc.src), File: "play.yml"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: err = %v, want %q", tc.module, tc.src, err, tc.want)
		}
	}
	// Only a name: a status query (service and systemd), not refused.
	for _, spec := range []Spec{serviceSpec, systemdSpec} {
		m, err := spec.New(Args{Node: argsNode(t, "name: mq"), File: "play.yml"})
		if err != nil || !m.(*serviceModule).status || !m.(*serviceModule).Verifiable() {
			t.Errorf("name only: %v %+v", err, m)
		}
	}
	// Accepted: enabled alone, daemon_reload alone under systemd, reloaded.
	for _, src := range []string{"name: mq\nenabled: false", "daemon_reload: true", "name: mq\nstate: reloaded\nmasked: false", "name: mq\nenabled: '{{ on }}'"} {
		if _, err := systemdSpec.New(Args{Node: argsNode(t, src), File: "play.yml"}); err != nil {
			t.Errorf("systemd %q: %v", src, err)
		}
	}
	m := newServiceT(t, "name: mq\nstate: started\nenabled: true")
	if m.enabled == nil || !*m.enabled || !m.Verifiable() {
		t.Errorf("enabled: %+v", m)
	}
	if m := newServiceT(t, "name: mq\nstate: started\ndaemon_reload: true"); m.Verifiable() {
		t.Errorf("daemon_reload always changes: must not be verifiable")
	}
}

// TestServiceBootPlan: the dry run says what it would change and what it
// saw ("would enable mq (now disabled)"); what holds already is no change.
func TestServiceBootPlan(t *testing.T) {
	sd := func(out string) servicePrivate {
		return servicePrivate{manager: "systemd", boot: parseBoot("systemd", out), running: true, pid: 42, evidence: "systemctl is-active"}
	}
	sysv := func(out string) servicePrivate {
		return servicePrivate{manager: "sysv", boot: parseBoot("sysv", out), running: true, pid: 7, evidence: "init script status exit 0"}
	}
	for _, tc := range []struct {
		args    string
		p       servicePrivate
		action  plan.Action
		summary string
	}{
		{"enabled: true", sd("rc=1\ndisabled"), plan.Update, "would enable mq (now disabled)"},
		{"enabled: true", sd("rc=0\nenabled"), plan.None, "mq is enabled (systemctl is-enabled: enabled)"},
		{"enabled: true", sd("rc=0\nindirect"), plan.Update, "would enable mq (now disabled)"},
		{"enabled: false", sd("rc=0\nenabled"), plan.Update, "would disable mq (now enabled)"},
		{"enabled: false\nstate: started", sd("rc=1\ndisabled"), plan.None, "mq is disabled (systemctl is-enabled: disabled); mq is running (systemctl is-active, pid 42)"},
		{"masked: true", sd("rc=1\nmasked"), plan.None, "mq is masked (systemctl is-enabled: masked)"},
		{"masked: false\nenabled: true", sd("rc=1\nmasked"), plan.Update, "would unmask mq (now masked); would enable mq (now disabled)"},
		{"daemon_reload: true\nstate: reloaded", sd("rc=0\nenabled"), plan.Restart, "would run systemctl daemon-reload; would reload mq (systemctl is-active, pid 42)"},
		{"enabled: true", sysv("tool=update-rc.d\nenabled=0\nlinks=1"), plan.Update, "would enable mq (now disabled)"},
		{"enabled: true\nstate: started", sysv("tool=update-rc.d\nenabled=1\nlinks=1"), plan.None, "mq is enabled (a start link in /etc/rc[2345].d); mq is running (init script status exit 0, pid 7)"},
		{"enabled: false", sysv("tool=chkconfig\nenabled=1"), plan.Update, "would disable mq (now enabled)"},
	} {
		m := newServiceT(t, "name: mq\nmanager: "+tc.p.manager+"\n"+tc.args)
		c := m.plan(tc.p)
		if c.Action != tc.action || c.Summary != tc.summary {
			t.Errorf("%q:\n got %s %q\nwant %s %q", tc.args, c.Action, c.Summary, tc.action, tc.summary)
		}
	}
}

// TestServiceEnableWithoutInitScript: under SysV, enabling a service that
// has no /etc/init.d script fails the check (as Ansible's "could not find
// the requested service"), instead of a dry run promising "would enable".
func TestServiceEnableWithoutInitScript(t *testing.T) {
	if b := parseBoot("sysv", "tool=update-rc.d\nenabled=0\nlinks=0\nscript=0\n"); !b.noScript || b.enabled {
		t.Errorf("parseBoot: %+v, want no script, not enabled", b)
	}
	const name = "tend-no-such-service-4711"
	m := newServiceT(t, "name: "+name+"\nmanager: sysv\nenabled: true")
	_, err := m.Check(context.Background(), transport.Local())
	if want := "service: " + name + ": no init script /etc/init.d/" + name + " to enable"; err == nil || err.Error() != want {
		t.Fatalf("Check: %v, want %q", err, want)
	}
}
