package modules

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"tend/runner/transport"
)

// How the service module talks to each manager: systemd, SysV init (an
// /etc/init.d script or the service command) or the task's own command,
// and how it finds the service's PID.

// detectManagerScript prints systemd when systemd runs and answers, else
// sysv when /etc/init.d/$1 or the service command exists, else none.
const detectManagerScript = `if [ -d /run/systemd/system ] && systemctl show --property=Version >/dev/null 2>&1; then echo systemd
elif [ -x "/etc/init.d/$1" ] || command -v service >/dev/null 2>&1; then echo sysv
else echo none; fi
`

// sysvScript runs /etc/init.d/$1 $2, or `service $1 $2` when there is no
// such script.
const sysvScript = `if [ -x "/etc/init.d/$1" ]; then exec "/etc/init.d/$1" "$2"; fi
exec service "$1" "$2"
`

// pidfileScript prints the PID in pidfile $1 when that process is alive
// (a zombie not yet reaped is dead).
const pidfileScript = `pid=$(head -c 64 -- "$1" 2>/dev/null | tr -dc 0-9)
[ -n "$pid" ] && [ -d "/proc/$pid" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && echo "$pid"
exit 0
`

// observe resolves the manager and reads whether the service runs, what
// said so, and its PID.
func (m *serviceModule) observe(ctx context.Context, conn transport.Conn) (servicePrivate, error) {
	p := servicePrivate{manager: m.manager}
	if p.manager == "auto" {
		res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", detectManagerScript, "tend-service", m.name}, MaxOutput: 256})
		if err != nil {
			return p, fmt.Errorf("service: %w", err)
		}
		p.manager = strings.TrimSpace(string(res.Stdout))
		if p.manager != "systemd" && p.manager != "sysv" {
			return p, fmt.Errorf("service: %s: neither systemd nor an init script or service command found; set manager: command", m.name)
		}
	}
	if p.manager != "systemd" && (m.masked != nil || m.daemonReload) {
		return p, fmt.Errorf("service: %s: masked and daemon_reload need systemd; the host runs %s", m.label(), p.manager)
	}
	if p.manager == "systemd" && m.waitPort == 0 && m.pidfile == "" && len(m.pidCommand) == 0 {
		return m.observeSystemd(ctx, conn, p)
	}
	var err error
	if m.enabled != nil || m.masked != nil {
		if p.boot, err = m.readBoot(ctx, conn, p.manager); err != nil {
			return p, err
		}
	}
	if m.state == "" {
		return p, nil
	}
	switch {
	case m.waitPort > 0:
		// The port (and the greeting) is the truth, not a status exit code:
		// Debian's /etc/init.d/activemq status exits 0 printing "(stopped)".
		var pr probeResult
		if pr, err = probePort(ctx, conn, m.waitHost, m.waitPort, m.greeting && m.state != "stopped"); err != nil {
			return p, err
		}
		p.byPort = true
		p.running, p.listening, p.evidence = m.portEvidence(pr)
	case p.manager == "command" && m.pidfile == "" && len(m.pidCommand) == 0:
		p.unknown, p.evidence = true, "no pidfile, pid_command or wait_port tells whether it runs"
		return p, nil
	default:
		if p.running, p.evidence, p.warnings, err = m.running(ctx, conn, p.manager); err != nil {
			return p, err
		}
	}
	if !p.running && !p.listening {
		return p, nil
	}
	p.pid, err = m.findPID(ctx, conn, p.manager)
	return p, err
}

// portEvidence reads a probe of wait_port: whether the service runs (it
// accepts, and greets when a greeting is asked for; for state stopped any
// connection accepted counts), whether something holds the port at all, and
// the words that say so.
func (m *serviceModule) portEvidence(pr probeResult) (running, held bool, evidence string) {
	target := net.JoinHostPort(m.waitHost, strconv.Itoa(m.waitPort))
	greet := m.greeting && m.state != "stopped"
	switch {
	case pr.NoBash && pr.Listening:
		return true, true, target + " listens (no bash on the host to connect to it)"
	case pr.NoBash:
		return false, false, "nothing listens on " + target
	case pr.Accepts && greet && pr.Greeting:
		return true, true, target + " accepts and greets"
	case pr.Accepts && greet:
		return false, true, target + " accepts but sent no ActiveMQ greeting"
	case pr.Accepts:
		return true, true, target + " accepts"
	case pr.Listening:
		return false, true, target + " listens but does not accept connections"
	}
	return false, false, target + " does not accept connections"
}

// listener scans wait_port: whether a socket listens on it (in the host's
// network namespace) and the PID of the process holding it (0: not visible).
func (m *serviceModule) listener(ctx context.Context, conn transport.Conn) (pid int, listening bool, err error) {
	sc, err := scanListeners(ctx, conn, m.waitPort)
	if err != nil {
		return 0, false, err
	}
	r := summarizePort(sc, m.waitPort, 0, nil, nil)
	for _, h := range r.Holders {
		if h.Listening {
			return h.PID, true, nil
		}
	}
	return 0, r.Listening, nil
}

// actionArgv is the command that restarts, starts or stops the service.
func (m *serviceModule) actionArgv(manager, verb string) []string {
	switch manager {
	case "systemd":
		return []string{"systemctl", verb, m.name}
	case "sysv":
		return []string{"/bin/sh", "-c", sysvScript, "tend-service", m.name, verb}
	}
	return m.command
}

// statusSaysStoppedRE finds an init script's status output that says the
// service is not running although the script exited 0.
var statusSaysStoppedRE = regexp.MustCompile(`(?i)\b(stopped|not running|dead|inactive)\b`)

// running asks the manager whether the service runs, without wait_port:
// systemctl is-active, the init script's status exit code (LSB: 0 runs), or
// a live PID from pidfile or pid_command. It says which evidence it used,
// and warns when an init script's words contradict its exit code.
func (m *serviceModule) running(ctx context.Context, conn transport.Conn, manager string) (running bool, evidence string, warnings []string, err error) {
	switch manager {
	case "systemd", "sysv":
		argv := []string{"systemctl", "is-active", m.name}
		if manager == "sysv" {
			argv = []string{"/bin/sh", "-c", sysvScript, "tend-service", m.name, "status"}
		}
		res, err := conn.Run(ctx, transport.Command{Argv: argv, Timeout: 30 * time.Second, MaxOutput: 64 << 10})
		if err != nil {
			return false, "", nil, fmt.Errorf("service: %s status: %w", m.name, err)
		}
		said := lastLine(res.Stdout, res.Stderr)
		switch {
		case manager == "systemd" && res.ExitCode == 0:
			return true, "systemctl is-active", nil, nil
		case manager == "systemd":
			return false, "systemctl is-active: " + said, nil, nil
		case res.ExitCode != 0:
			return false, fmt.Sprintf("init script status exit %d", res.ExitCode), nil, nil
		}
		if statusSaysStoppedRE.MatchString(said) {
			warnings = append(warnings, fmt.Sprintf("init script status exited 0 but printed %q: judged running by its exit code; set wait_port to judge by the port", said))
		}
		return true, "init script status exit 0", warnings, nil
	}
	pid, from, err := m.ownPID(ctx, conn)
	if err != nil || pid > 0 {
		return pid > 0, from, nil, err
	}
	return false, "no live pid from " + from, nil, nil
}

// ownPID reads the PID from pidfile or pid_command (0 when none is alive),
// and says where it looked ("pidfile /run/mq.pid", "pid_command").
func (m *serviceModule) ownPID(ctx context.Context, conn transport.Conn) (pid int, from string, err error) {
	var looked []string
	for i, argv := range [][]string{
		{"/bin/sh", "-c", pidfileScript, "tend-service", m.pidfile},
		m.pidCommand,
	} {
		if len(argv) == 0 || argv[len(argv)-1] == "" {
			continue
		}
		src := map[int]string{0: "pidfile " + m.pidfile, 1: "pid_command"}[i]
		looked = append(looked, src)
		// pid_command (i == 1) is the user's: a session of its own.
		res, err := conn.Run(ctx, transport.Command{Argv: argv, Timeout: 30 * time.Second, MaxOutput: 64 << 10, OwnSession: i == 1})
		if err != nil {
			return 0, "", fmt.Errorf("service: %s pid: %w", m.label(), err)
		}
		if f := strings.Fields(string(res.Stdout)); res.ExitCode == 0 && len(f) > 0 {
			if pid, err := strconv.Atoi(f[0]); err == nil && pid > 0 {
				return pid, src, nil
			}
		}
	}
	return 0, strings.Join(looked, " or "), nil
}

// findPID tries pidfile, pid_command, systemd's MainPID, then the process
// holding wait_port's listening socket.
func (m *serviceModule) findPID(ctx context.Context, conn transport.Conn, manager string) (int, error) {
	if pid, _, err := m.ownPID(ctx, conn); err != nil || pid > 0 {
		return pid, err
	}
	if manager == "systemd" {
		res, err := conn.Run(ctx, transport.Command{Argv: []string{"systemctl", "show", "-p", "MainPID", m.name}, MaxOutput: 4096})
		if err != nil {
			return 0, fmt.Errorf("service: %s MainPID: %w", m.name, err)
		}
		v := strings.TrimPrefix(strings.TrimSpace(string(res.Stdout)), "MainPID=")
		if pid, err := strconv.Atoi(v); err == nil && pid > 0 {
			return pid, nil
		}
	}
	if m.waitPort > 0 {
		pid, _, err := m.listener(ctx, conn)
		return pid, err
	}
	return 0, nil
}
