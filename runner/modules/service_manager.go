package modules

import (
	"context"
	"fmt"
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

// observe resolves the manager and reads whether the service runs.
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
	if p.manager == "command" && m.pidfile == "" && len(m.pidCommand) == 0 && m.waitPort > 0 {
		// Only the port tells: one scan says whether something listens on it
		// and which process holds the listening socket.
		pid, listening, err := m.listener(ctx, conn)
		p.running, p.pid = listening, pid
		return p, err
	}
	var err error
	if p.running, err = m.running(ctx, conn, p.manager); err != nil || !p.running {
		return p, err
	}
	p.pid, err = m.findPID(ctx, conn, p.manager)
	return p, err
}

// listener scans wait_port: whether a socket listens on it (in the host's
// network namespace) and the PID of the process holding it (0: not visible).
func (m *serviceModule) listener(ctx context.Context, conn transport.Conn) (pid int, listening bool, err error) {
	sc, err := scanListeners(ctx, conn, m.waitPort)
	if err != nil {
		return 0, false, err
	}
	r := summarizePort(sc, m.waitPort, 0, nil)
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

// running asks the manager; with manager command a live PID, else a port
// that accepts connections, means running.
func (m *serviceModule) running(ctx context.Context, conn transport.Conn, manager string) (bool, error) {
	var argv []string
	switch manager {
	case "systemd":
		argv = []string{"systemctl", "is-active", "--quiet", m.name}
	case "sysv":
		argv = []string{"/bin/sh", "-c", sysvScript, "tend-service", m.name, "status"}
	default:
		pid, err := m.ownPID(ctx, conn)
		if err != nil || pid > 0 || m.waitPort == 0 {
			return pid > 0, err
		}
		pr, err := probePort(ctx, conn, m.waitHost, m.waitPort, false)
		return pr.Accepts, err
	}
	res, err := conn.Run(ctx, transport.Command{Argv: argv, Timeout: 30 * time.Second, MaxOutput: 64 << 10})
	if err != nil {
		return false, fmt.Errorf("service: %s status: %w", m.name, err)
	}
	return res.ExitCode == 0, nil
}

// ownPID reads the PID from pidfile or pid_command (0 when none is alive).
func (m *serviceModule) ownPID(ctx context.Context, conn transport.Conn) (int, error) {
	for i, argv := range [][]string{
		{"/bin/sh", "-c", pidfileScript, "tend-service", m.pidfile},
		m.pidCommand,
	} {
		if len(argv) == 0 || argv[len(argv)-1] == "" {
			continue
		}
		// pid_command (i == 1) is the user's: a session of its own.
		res, err := conn.Run(ctx, transport.Command{Argv: argv, Timeout: 30 * time.Second, MaxOutput: 64 << 10, OwnSession: i == 1})
		if err != nil {
			return 0, fmt.Errorf("service: %s pid: %w", m.label(), err)
		}
		if f := strings.Fields(string(res.Stdout)); res.ExitCode == 0 && len(f) > 0 {
			if pid, err := strconv.Atoi(f[0]); err == nil && pid > 0 {
				return pid, nil
			}
		}
	}
	return 0, nil
}

// findPID tries pidfile, pid_command, systemd's MainPID, then the process
// holding wait_port's listening socket.
func (m *serviceModule) findPID(ctx context.Context, conn transport.Conn, manager string) (int, error) {
	if pid, err := m.ownPID(ctx, conn); err != nil || pid > 0 {
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
