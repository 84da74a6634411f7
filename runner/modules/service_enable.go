package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tend/runner/plan"
	"tend/runner/transport"
)

// How the service module reads and changes whether a service starts at
// boot (enabled) and whether its systemd unit is masked, and how it puts
// those parts together with the state part (service.go) in one dry run and
// one apply. The order is Ansible's: daemon-reload, mask/unmask,
// enable/disable, then the state.

// serviceBoot is what one read said about how the service starts at boot.
type serviceBoot struct {
	enabled, masked bool
	// tool changes it: systemctl, update-rc.d, chkconfig or none.
	tool string
	// links: update-rc.d found start or kill links already (no defaults
	// needed before enable).
	links bool
	// said is the evidence: "systemctl is-enabled: disabled".
	said string
	// noScript: SysV without chkconfig and no /etc/init.d/NAME to link.
	noScript bool
}

// systemdBootScript prints systemctl is-enabled's exit code and output.
const systemdBootScript = `out=$(systemctl is-enabled "$1" 2>&1); rc=$?
echo "rc=$rc"; printf '%s\n' "$out" | head -n 5
`

// sysvBootScript says which tool manages SysV boot links (update-rc.d on
// Debian, chkconfig on Red Hat) and whether $1 is enabled: on in runlevels
// 3 and 5 by chkconfig --list (as Ansible), else a start link S<nn>$1 in
// /etc/rc[2345].d.
const sysvBootScript = `if command -v update-rc.d >/dev/null 2>&1; then tool=update-rc.d
elif command -v chkconfig >/dev/null 2>&1; then tool=chkconfig
else tool=none; fi
echo "tool=$tool"
if [ "$tool" = chkconfig ]; then
  case $(chkconfig --list "$1" 2>&1) in *3:on*5:on*) echo enabled=1 ;; *) echo enabled=0 ;; esac
  exit 0
fi
s=0 k=0
for f in /etc/rc[2345].d/S[0-9][0-9]"$1"; do { [ -L "$f" ] || [ -e "$f" ]; } && s=1; done
for f in /etc/rc[0-6S].d/[SK][0-9][0-9]"$1"; do { [ -L "$f" ] || [ -e "$f" ]; } && k=1; done
echo "enabled=$s"; echo "links=$k"
[ -e "/etc/init.d/$1" ] || echo script=0
`

// sysvBootActScript enables ($2 = enable; $3 = 1 when links exist, else
// update-rc.d defaults installs them first) or disables $1.
const sysvBootActScript = `case $4 in
chkconfig) exec chkconfig "$1" "$([ "$2" = enable ] && echo on || echo off)" ;;
esac
if [ "$2" = enable ] && [ "$3" != 1 ]; then update-rc.d "$1" defaults || exit; fi
exec update-rc.d "$1" "$2"
`

// readBoot reads, in one remote command, whether the service is enabled
// (and masked, under systemd).
func (m *serviceModule) readBoot(ctx context.Context, conn transport.Conn, manager string) (serviceBoot, error) {
	script := sysvBootScript
	if manager == "systemd" {
		script = systemdBootScript
	}
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", script, "tend-service", m.name}, Timeout: 30 * time.Second, MaxOutput: 4096})
	if err != nil {
		return serviceBoot{}, fmt.Errorf("service: %s boot state: %w", m.name, err)
	}
	b := parseBoot(manager, string(res.Stdout))
	if b.noScript && m.enabled != nil && *m.enabled && !b.enabled {
		// As Ansible ("could not find the requested service"): a dry run
		// must not promise to enable what has no init script.
		return serviceBoot{}, fmt.Errorf("service: %s: no init script /etc/init.d/%s to enable", m.name, m.name)
	}
	return b, nil
}

// parseBoot reads systemdBootScript's or sysvBootScript's output. Under
// systemd, as Ansible: enabled is exit 0 unless the output is only
// "indirect" or "alias"; masked is the output "masked" or "masked-runtime".
func parseBoot(manager, out string) serviceBoot {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if manager == "systemd" {
		b := serviceBoot{tool: "systemctl"}
		said := ""
		if len(lines) > 1 {
			said = strings.TrimSpace(lines[len(lines)-1])
		}
		b.said = "systemctl is-enabled: " + said
		b.enabled = lines[0] == "rc=0" && said != "indirect" && said != "alias"
		b.masked = said == "masked" || said == "masked-runtime"
		return b
	}
	b := serviceBoot{}
	for _, l := range lines {
		switch l {
		case "tool=update-rc.d", "tool=chkconfig", "tool=none":
			b.tool = strings.TrimPrefix(l, "tool=")
		case "enabled=1":
			b.enabled = true
		case "links=1":
			b.links = true
		case "script=0":
			b.noScript = true
		}
	}
	switch {
	case b.tool == "chkconfig":
		b.said = "chkconfig --list: " + m2s(b.enabled, "on in runlevels 3 and 5", "not on in runlevels 3 and 5")
	case b.enabled:
		b.said = "a start link in /etc/rc[2345].d"
	default:
		b.said = "no start link in /etc/rc[2345].d"
	}
	return b
}

// m2s picks yes or no by b.
func m2s(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// bootSteps are the boot changes a task needs, in Ansible's order, each as
// its verb (daemon-reload, mask, unmask, enable, disable).
func (m *serviceModule) bootSteps(p servicePrivate) []string {
	var steps []string
	if m.daemonReload {
		steps = append(steps, "daemon-reload")
	}
	if m.masked != nil && *m.masked != p.boot.masked {
		steps = append(steps, m2s(*m.masked, "mask", "unmask"))
	}
	if m.enabled != nil && *m.enabled != p.boot.enabled {
		steps = append(steps, m2s(*m.enabled, "enable", "disable"))
	}
	return steps
}

// plan is the dry run of what observe saw: boot changes first ("would
// enable mq (now disabled)"), then the state part.
func (m *serviceModule) plan(p servicePrivate) plan.Change {
	c := plan.Change{Action: plan.None, Private: p, Warnings: p.warnings, Data: map[string]any{"name": m.label(), "manager": p.manager, "state": m.state}}
	var parts []string
	for _, step := range m.bootSteps(p) {
		c.Action = plan.Update
		switch step {
		case "daemon-reload":
			parts = append(parts, "would run systemctl daemon-reload")
		case "mask", "unmask":
			parts = append(parts, fmt.Sprintf("would %s %s (now %s)", step, m.label(), m2s(p.boot.masked, "masked", "not masked")))
		default:
			parts = append(parts, fmt.Sprintf("would %s %s (now %s)", step, m.label(), m2s(p.boot.enabled, "enabled", "disabled")))
		}
	}
	if m.masked != nil {
		c.Data["masked"] = p.boot.masked
		if *m.masked == p.boot.masked {
			parts = append(parts, fmt.Sprintf("%s is %s (%s)", m.label(), m2s(p.boot.masked, "masked", "not masked"), p.boot.said))
		}
	}
	if m.enabled != nil {
		c.Data["enabled"] = p.boot.enabled
		if *m.enabled == p.boot.enabled {
			parts = append(parts, fmt.Sprintf("%s is %s (%s)", m.label(), m2s(p.boot.enabled, "enabled", "disabled"), p.boot.said))
		}
	}
	if m.state != "" {
		s := m.statePlan(p)
		if s.Action != plan.None {
			c.Action = s.Action
		}
		for k, v := range s.Data {
			c.Data[k] = v
		}
		parts = append(parts, s.Summary)
	}
	c.Summary = strings.Join(parts, "; ")
	return c
}

// Apply makes the boot changes, rechecks that they hold, then brings the
// service to its state when the dry run said so.
func (m *serviceModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	p, ok := planned.Private.(servicePrivate)
	if !ok { // a saved plan carries no Private: look again
		var err error
		if p, err = m.observe(ctx, conn); err != nil {
			return plan.Change{}, err
		}
	}
	c := plan.Change{Action: plan.Update, Data: map[string]any{"name": m.label(), "manager": p.manager, "state": m.state}}
	steps := m.bootSteps(p)
	var done []string
	for _, step := range steps {
		argv := []string{"systemctl", step}
		switch {
		case step == "daemon-reload":
		case p.manager == "systemd":
			argv = append(argv, m.name)
		case p.boot.tool == "none":
			c.Failed, c.Msg = true, fmt.Sprintf("%s %s: neither update-rc.d nor chkconfig on the host", step, m.label())
			c.Summary = fmt.Sprintf("%s %s failed", step, m.label())
			return c, nil
		default:
			argv = []string{"/bin/sh", "-c", sysvBootActScript, "tend-service", m.name, step, m2s(p.boot.links, "1", "0"), p.boot.tool}
		}
		report(ctx, step+" "+m.label())
		res, err := conn.Run(ctx, transport.Command{Argv: argv, Timeout: m.commandTimeout})
		if err != nil {
			return plan.Change{}, fmt.Errorf("service: %s %s: %w", step, m.label(), err)
		}
		if res.ExitCode != 0 {
			c.Failed, c.Msg = true, fmt.Sprintf("%s %s: exit %d: %s", step, m.label(), res.ExitCode, lastLine(res.Stderr, res.Stdout))
			c.Summary = fmt.Sprintf("%s %s failed", step, m.label())
			return c, nil
		}
		done = append(done, m2s(step == "daemon-reload", "ran systemctl daemon-reload", strings.TrimSuffix(step, "e")+"ed "+m.label()))
	}
	// The recheck: what was asked must hold now, by the same read as Check.
	if m.enabled != nil || m.masked != nil {
		b, err := m.readBoot(ctx, conn, p.manager)
		if err != nil {
			return plan.Change{}, err
		}
		c.Data["enabled"], c.Data["masked"] = b.enabled, b.masked
		if (m.enabled != nil && b.enabled != *m.enabled) || (m.masked != nil && b.masked != *m.masked) {
			c.Failed = true
			c.Msg = fmt.Sprintf("%s: after %s, %s", m.label(), strings.Join(steps, ", "), b.said)
			c.Summary = strings.Join(steps, ", ") + " " + m.label() + " did not hold"
			return c, nil
		}
	}
	if m.state != "" && m.statePlan(p).Action != plan.None {
		s, err := m.applyState(ctx, conn, p)
		if err != nil {
			return plan.Change{}, err
		}
		for k, v := range c.Data {
			if _, ok := s.Data[k]; !ok {
				s.Data[k] = v
			}
		}
		s.Summary = strings.Join(append(done, s.Summary), "; ")
		return s, nil
	}
	if len(done) == 0 { // nothing to do after all (a saved plan, looked at again)
		c.Action = plan.None
		return m.plan(p), nil
	}
	c.Summary = strings.Join(done, "; ")
	return c, nil
}

// systemdObserveScript reads in one remote command what Check needs under
// systemd: is-enabled ($2 = 1), is-active and MainPID ($3 = 1).
const systemdObserveScript = `if [ "$2" = 1 ]; then out=$(systemctl is-enabled "$1" 2>&1); echo "rc=$?"; printf '%s\n' "$out" | tail -n 1; fi
echo --
if [ "$3" = 1 ]; then out=$(systemctl is-active "$1" 2>&1); rc=$?; echo "active_rc=$rc"
  printf 'said=%s\n' "$(printf '%s\n' "$out" | tail -n 1)"
  [ $rc = 0 ] && systemctl show -p MainPID "$1"; fi
exit 0
`

// observeSystemd is observe under systemd without wait_port, pidfile or
// pid_command: one remote read for boot state, activity and PID.
func (m *serviceModule) observeSystemd(ctx context.Context, conn transport.Conn, p servicePrivate) (servicePrivate, error) {
	boot, state := m.enabled != nil || m.masked != nil, m.state != ""
	if !boot && !state {
		return p, nil
	}
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", systemdObserveScript, "tend-service", m.name,
		m2s(boot, "1", "0"), m2s(state, "1", "0")}, Timeout: 30 * time.Second, MaxOutput: 8192})
	if err != nil {
		return p, fmt.Errorf("service: %s status: %w", m.name, err)
	}
	bootOut, stateOut, _ := strings.Cut(string(res.Stdout), "--\n")
	if boot {
		p.boot = parseBoot("systemd", bootOut)
	}
	if !state {
		return p, nil
	}
	said := ""
	for _, l := range strings.Split(stateOut, "\n") {
		switch {
		case l == "active_rc=0":
			p.running = true
		case strings.HasPrefix(l, "said="):
			said = strings.TrimPrefix(l, "said=")
		case strings.HasPrefix(l, "MainPID="):
			p.pid, _ = strconv.Atoi(strings.TrimPrefix(l, "MainPID="))
		}
	}
	p.evidence = "systemctl is-active"
	if !p.running {
		p.evidence += ": " + m2s(said == "", "(no output)", said)
		p.pid = 0
	}
	return p, nil
}
