package modules

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kballard/go-shellquote"
	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// serviceSpec restarts, starts or stops a service through systemd, SysV
// init or a command, then waits until its port accepts connections again
// (optionally with an ActiveMQ greeting). Spec.Verifiable is false because
// restarted always changes; started and stopped say they are verifiable
// through (*serviceModule).Verifiable.
var serviceSpec = Spec{New: newService}

// systemdSpec is Ansible's systemd and systemd_service: the service module
// with manager systemd.
var systemdSpec = Spec{New: func(a Args) (Module, error) { return newServiceAs(a, "systemd", "systemd") }}

// systemdServiceSpec is systemdSpec under its newer name.
var systemdServiceSpec = Spec{New: func(a Args) (Module, error) { return newServiceAs(a, "systemd_service", "systemd") }}

// serviceArgs are the YAML arguments of service.
type serviceArgs struct {
	Name    string `yaml:"name"`
	State   string `yaml:"state"`
	Manager string `yaml:"manager"`
	// Enabled starts the service at boot (nil: left as it is).
	Enabled *bool `yaml:"enabled"`
	// Masked masks the systemd unit (nil: left as it is).
	Masked *bool `yaml:"masked"`
	// DaemonReload runs systemctl daemon-reload before anything else.
	DaemonReload bool `yaml:"daemon_reload"`
	// Command is an argv list, or a string split into words with shell
	// quoting rules (never run through a shell).
	Command     []string      `yaml:"command"`
	PIDCommand  []string      `yaml:"pid_command"`
	PIDFile     string        `yaml:"pidfile"`
	WaitPort    int           `yaml:"wait_port"`
	WaitHost    string        `yaml:"wait_host"`
	WaitTimeout time.Duration `yaml:"wait_timeout"`
	Greeting    string        `yaml:"greeting"`
	// CommandTimeout bounds the manager's restart/start/stop command itself.
	CommandTimeout time.Duration `yaml:"command_timeout"`
}

// serviceModule is one service task.
type serviceModule struct {
	name, state, manager string
	command, pidCommand  []string
	pidfile              string
	waitPort             int
	waitHost             string
	waitTimeout          time.Duration
	commandTimeout       time.Duration
	greeting             bool
	// enabled and masked are nil when the task leaves them as they are.
	enabled, masked *bool
	daemonReload    bool
	// status: only a name was given; Check reads the unit's status.
	status bool
	// module is the name errors carry: service, systemd or systemd_service.
	module string
}

// servicePrivate carries what Check saw to Apply.
type servicePrivate struct {
	manager string
	// boot is how the service starts at boot (read when enabled or masked
	// is asked for).
	boot    serviceBoot
	running bool
	// listening: something holds wait_port (listens or accepts), even when
	// it does not count as running (no greeting): a restart, not a start.
	listening bool
	// unknown: nothing tells whether it runs (manager command, no pidfile,
	// pid_command or wait_port).
	unknown bool
	pid     int
	// evidence says what running was judged by ("systemctl is-active",
	// "127.0.0.1:61616 accepts and greets"); byPort when wait_port judged.
	evidence string
	byPort   bool
	warnings []string
}

// describe is what follows "NAME is running" or "would restart NAME":
// " (pid 42): 127.0.0.1:61616 accepts and greets", " (systemctl is-active,
// pid 42)".
func (p servicePrivate) describe() string {
	pid := ""
	if p.pid > 0 {
		pid = fmt.Sprintf("pid %d", p.pid)
	}
	switch {
	case p.byPort && pid != "":
		return " (" + pid + "): " + p.evidence
	case p.byPort:
		return ": " + p.evidence
	case pid != "":
		return " (" + p.evidence + ", " + pid + ")"
	}
	return " (" + p.evidence + ")"
}

// starts reports whether a restart only needs to start the service:
// nothing runs (nor holds wait_port) by the evidence.
func (p servicePrivate) starts() bool { return !p.unknown && !p.running && !p.listening }

// serviceNameRE admits systemd unit and init script names; no slash, no
// leading dash.
var serviceNameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9@._:+\\-]*$`)

func newService(a Args) (Module, error) { return newServiceAs(a, "service", "auto") }

// newServiceAs builds a service task for the module named module, whose
// manager defaults to manager (systemd for the systemd modules).
func newServiceAs(a Args, module, manager string) (Module, error) {
	args := serviceArgs{Manager: manager, WaitHost: "127.0.0.1", WaitTimeout: 60 * time.Second, CommandTimeout: 120 * time.Second}
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	bad := func(key, format string, v ...any) error {
		return posErr(a.File, argValueNode(a.Node, key), module, format, v...)
	}
	m := &serviceModule{module: module, enabled: args.Enabled, masked: args.Masked, daemonReload: args.DaemonReload,
		name: args.Name, state: args.State, manager: args.Manager, pidfile: args.PIDFile,
		waitPort: args.WaitPort, waitHost: args.WaitHost, waitTimeout: args.WaitTimeout, commandTimeout: args.CommandTimeout}
	var err error
	if m.command, err = argvArg(a, "command", args.Command); err != nil {
		return nil, err
	}
	if m.pidCommand, err = argvArg(a, "pid_command", args.PIDCommand); err != nil {
		return nil, err
	}
	if m.name != "" && !hasTemplate(m.name) && !serviceNameRE.MatchString(m.name) {
		return nil, bad("name", "not a service name: %q", m.name)
	}
	switch m.state {
	case "restarted", "started", "stopped", "reloaded":
	case "":
		if m.enabled == nil && m.masked == nil && !m.daemonReload && !templatedArg(a.Node, "enabled") && !templatedArg(a.Node, "masked") {
			// Only a name: a status query (service_status.go), under systemd.
			if m.manager != "auto" && m.manager != "systemd" && !hasTemplate(m.manager) || len(args.Command) > 0 {
				return nil, bad("state", "%s needs state, enabled, masked or daemon_reload (a status query, name only, needs systemd)", module)
			}
			m.status = true
		}
	default:
		if !hasTemplate(m.state) {
			return nil, bad("state", "state must be restarted, started, stopped or reloaded, not %q%s", m.state,
				yamlnode.DidYouMean(m.state, []string{"restarted", "started", "stopped", "reloaded"}))
		}
	}
	if m.manager == "auto" && len(m.command) > 0 {
		m.manager = "command"
	}
	switch m.manager {
	case "auto", "systemd", "sysv":
		if len(m.command) > 0 {
			return nil, bad("command", "command is only for manager: command")
		}
		if m.name == "" && (m.state != "" || m.enabled != nil || m.masked != nil || m.status) {
			return nil, bad("name", "name is required with manager %s", m.manager)
		}
		if m.manager == "sysv" && m.masked != nil {
			return nil, bad("masked", "masked needs systemd, not manager sysv")
		}
		if m.manager == "sysv" && m.daemonReload {
			return nil, bad("daemon_reload", "daemon_reload needs systemd, not manager sysv")
		}
	case "command":
		if len(m.command) == 0 {
			return nil, bad("command", "manager command needs a command")
		}
		for _, kv := range []struct {
			key string
			set bool
		}{{"enabled", m.enabled != nil}, {"masked", m.masked != nil}, {"daemon_reload", m.daemonReload}} {
			if key := kv.key; kv.set {
				return nil, bad(key, "%s does not apply to manager command (tend cannot know how a command starts at boot); use manager systemd or sysv", key)
			}
		}
		if m.state == "reloaded" {
			return nil, bad("state", "state reloaded needs manager systemd or sysv; with manager command use restarted")
		}
		if m.state != "restarted" && m.pidfile == "" && len(m.pidCommand) == 0 && m.waitPort == 0 {
			return nil, bad("state", "with manager command, state %s needs pidfile, pid_command or wait_port to tell whether it runs", m.state)
		}
	default:
		if !hasTemplate(m.manager) {
			return nil, bad("manager", "manager must be auto, systemd, sysv or command, not %q%s", m.manager,
				yamlnode.DidYouMean(m.manager, []string{"auto", "systemd", "sysv", "command"}))
		}
	}
	if m.pidfile != "" && !hasTemplate(m.pidfile) && !path.IsAbs(m.pidfile) {
		return nil, bad("pidfile", "pidfile must be an absolute path")
	}
	if err := checkPortArg(a, "service", "wait_port", m.waitPort, false); err != nil {
		return nil, err
	}
	if err := checkHostArg(a, "service", "wait_host", m.waitHost); err != nil {
		return nil, err
	}
	switch args.Greeting {
	case "":
	case "activemq":
		m.greeting = true
		if m.waitPort == 0 && !templatedArg(a.Node, "wait_port") {
			return nil, bad("greeting", "greeting needs wait_port")
		}
	default:
		if !hasTemplate(args.Greeting) { // rendered per host: "" or activemq then
			return nil, bad("greeting", "unknown greeting %q (known: activemq)", args.Greeting)
		}
	}
	return m, nil
}

// argvArg reads an argv argument: a YAML list is argv as is; a string is
// split into words with shell quoting rules (no shell ever runs it).
func argvArg(a Args, key string, decoded []string) ([]string, error) {
	v, ok := lookupArg(a.Node, key)
	if !ok || v.Kind != yaml.ScalarNode {
		return decoded, nil
	}
	words, err := shellquote.Split(v.Value)
	if err != nil {
		return nil, posErr(a.File, v, "service", "%s: %v", key, err)
	}
	return words, nil
}

// Verifiable reports whether re-running Check after Apply must find nothing
// left to do: false for restarted, reloaded and daemon_reload (always
// changes), true otherwise.
func (m *serviceModule) Verifiable() bool {
	return m.state != "restarted" && m.state != "reloaded" && !m.daemonReload
}

func (m *serviceModule) label() string {
	if m.name != "" {
		return m.name
	}
	if len(m.command) == 0 {
		return "systemd"
	}
	return path.Base(m.command[0])
}

// Check finds the manager and whether the service runs, and with which PID.
func (m *serviceModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	if m.status {
		return m.statusQuery(ctx, conn)
	}
	p, err := m.observe(ctx, conn)
	if err != nil {
		return plan.Change{}, err
	}
	return m.plan(p), nil
}

// statePlan is the dry run of the state part of what observe saw: where it
// says "not running: would start", Apply starts the service (restarted and
// reloaded included).
func (m *serviceModule) statePlan(p servicePrivate) plan.Change {
	c := plan.Change{Action: plan.None, Private: p, Warnings: p.warnings, Data: map[string]any{
		"name": m.label(), "manager": p.manager, "state": m.state, "running": p.running, "pid": p.pid, "evidence": p.evidence}}
	switch {
	case m.state == "reloaded" && p.running:
		c.Action, c.Summary = plan.Restart, fmt.Sprintf("would reload %s%s", m.label(), p.describe())
	case m.state == "restarted" && p.unknown:
		c.Action, c.Summary = plan.Restart, fmt.Sprintf("would restart %s (%s)", m.label(), p.evidence)
	case m.state == "restarted" && !p.starts():
		c.Action, c.Summary = plan.Restart, fmt.Sprintf("would restart %s%s", m.label(), p.describe())
	case m.state != "stopped" && !p.running:
		c.Action, c.Summary = plan.Restart, fmt.Sprintf("%s not running: would start (%s)", m.label(), p.evidence)
	case m.state == "started":
		c.Summary = fmt.Sprintf("%s is running%s", m.label(), p.describe())
	case p.running:
		c.Action, c.Summary = plan.Restart, fmt.Sprintf("would stop %s%s", m.label(), p.describe())
	default:
		c.Summary = fmt.Sprintf("%s is stopped (%s)", m.label(), p.evidence)
	}
	return c
}

// applyState runs the manager's action, then waits up to wait_timeout for
// the service to come back (or go away). Not coming back is a failed
// result. It tells ctx's Reporter what it runs and waits for, and keeps the
// action's output in stdout and stderr.
func (m *serviceModule) applyState(ctx context.Context, conn transport.Conn, p servicePrivate) (plan.Change, error) {
	verb := map[string]string{"restarted": "restart", "started": "start", "stopped": "stop", "reloaded": "reload"}[m.state]
	if (m.state == "restarted" || m.state == "reloaded") && p.starts() {
		verb = "start" // not running: a start, as the dry run said
	}
	data := map[string]any{"name": m.label(), "manager": p.manager, "state": m.state, "old_pid": p.pid, "new_pid": 0}
	if m.waitPort > 0 {
		data["port"] = m.waitPort
	}
	c := plan.Change{Action: plan.Restart, Data: data}
	fail := func(format string, v ...any) (plan.Change, error) {
		c.Failed, c.Msg = true, fmt.Sprintf(format, v...)
		c.Summary = fmt.Sprintf("%s %s failed", verb, m.label())
		return c, nil
	}
	argv := m.actionArgv(p.manager, verb)
	report(ctx, map[string]string{"restart": "restarting ", "start": "starting ", "stop": "stopping ", "reload": "reloading "}[verb]+m.label())
	// OwnSession: the action may start a daemon that keeps the output open.
	res, err := conn.Run(ctx, transport.Command{Argv: argv, Timeout: m.commandTimeout, OwnSession: true})
	// The action's own output, registered and shown by a verbose view.
	data["stdout"] = strings.TrimRight(string(res.Stdout), "\n")
	data["stderr"] = strings.TrimRight(string(res.Stderr), "\n")
	switch {
	case errors.Is(err, transport.ErrTimeout):
		return fail("%s %s: %s did not finish within %s", verb, m.label(), argv[0], m.commandTimeout)
	case err != nil:
		return plan.Change{}, err
	case res.ExitCode != 0:
		return fail("%s %s: %s exited %d: %s", verb, m.label(), argv[0], res.ExitCode, lastLine(res.Stderr, res.Stdout))
	}
	why, err := m.waitSettled(ctx, conn, p.manager)
	if err != nil {
		return plan.Change{}, err
	}
	if why != "" {
		return fail("%s did not %s within %s: %s", m.label(), map[bool]string{true: "stop", false: "come back"}[m.state == "stopped"], m.waitTimeout, why)
	}
	if m.state == "stopped" {
		c.Summary = fmt.Sprintf("stopped %s (was pid %s)", m.label(), pidText(p.pid))
		return c, nil
	}
	if m.greeting {
		data["greeting"] = true
	}
	newPID, err := m.findPID(ctx, conn, p.manager)
	if err != nil {
		return plan.Change{}, err
	}
	data["new_pid"] = newPID
	c.Summary = fmt.Sprintf("%s %s: pid %s -> %s", map[string]string{"restart": "restarted", "start": "started", "reload": "reloaded"}[verb], m.label(), pidText(p.pid), pidText(newPID))
	if verb == "reload" {
		c.Summary = "reloaded " + m.label()
		if newPID > 0 {
			c.Summary += fmt.Sprintf(" (pid %d)", newPID)
		}
	}
	if (m.state == "restarted" || m.state == "reloaded") && verb == "start" {
		c.Summary = fmt.Sprintf("started %s (was not running): pid %s", m.label(), pidText(newPID))
	}
	if verb == "restart" {
		if p.pid > 0 && p.pid == newPID {
			c.Warnings = append(c.Warnings, fmt.Sprintf("pid %d unchanged after restart: the process may not have restarted", newPID))
		}
	}
	if m.waitPort > 0 {
		c.Summary += fmt.Sprintf("; %s:%d accepts", m.waitHost, m.waitPort)
		if m.greeting {
			c.Summary += ", ActiveMQ greeting seen"
		}
	}
	return c, nil
}

// waitSettled polls every minPoll until the service is up (or down, for
// stopped) or wait_timeout passes; it returns why not, or "".
func (m *serviceModule) waitSettled(ctx context.Context, conn transport.Conn, manager string) (string, error) {
	deadline := time.Now().Add(m.waitTimeout)
	for {
		why := ""
		if m.waitPort > 0 {
			// The port part of the wait loops on the host: one command.
			pr, _, err := waitPort(ctx, conn, m.waitHost, m.waitPort, m.greeting && m.state != "stopped",
				m.state != "stopped", max(time.Until(deadline), 0), minPoll)
			if err != nil {
				return "", err
			}
			target := fmt.Sprintf("%s:%d", m.waitHost, m.waitPort)
			switch {
			case m.state == "stopped" && pr.Accepts:
				why = target + " still accepts connections"
			case m.state != "stopped" && !pr.Accepts:
				why = target + " does not accept connections"
				if pr.Listening {
					why = target + " listens but does not accept connections"
				}
			case m.state != "stopped" && m.greeting && pr.NoBash:
				why = "no bash on the host to read the ActiveMQ greeting"
			case m.state != "stopped" && m.greeting && !pr.Greeting:
				why = target + " accepts connections but sent no ActiveMQ greeting (OpenWire WireFormatInfo)"
			}
		}
		// The manager must agree that the service came back; that it went
		// away, the port alone tells when given (an init script's status
		// may say running for a stopped service).
		if why == "" && (m.waitPort == 0 || m.state != "stopped") && (manager != "command" || m.pidfile != "" || len(m.pidCommand) > 0) {
			running, _, _, err := m.running(ctx, conn, manager)
			if err != nil {
				return "", err
			}
			if running == (m.state == "stopped") {
				why = map[bool]string{true: "still running", false: "not running"}[running]
			}
		}
		if why == "" || time.Now().Add(minPoll).After(deadline) {
			return why, nil
		}
		report(ctx, fmt.Sprintf("waiting for %s to %s (%s)", m.label(), map[bool]string{true: "stop", false: "come back"}[m.state == "stopped"], why))
		if err := sleepCtx(ctx, minPoll); err != nil {
			return "", err
		}
	}
}

func pidText(pid int) string {
	if pid <= 0 {
		return "?"
	}
	return strconv.Itoa(pid)
}

// lastLine is the last non-empty line of the first non-empty output.
func lastLine(outs ...[]byte) string {
	for _, o := range outs {
		if s := strings.TrimSpace(string(o)); s != "" {
			lines := strings.Split(s, "\n")
			return strings.TrimSpace(lines[len(lines)-1])
		}
	}
	return "(no output)"
}
