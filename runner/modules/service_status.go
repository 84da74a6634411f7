package modules

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tend/runner/plan"
	"tend/runner/transport"
)

// A systemd (or service) task with only a name, as Ansible's systemd
// module takes it: a read-only status query. It changes nothing, runs in
// check mode too, and registers `status`, the unit's `systemctl show`
// properties (ActiveState, SubState, LoadState, MainPID, ...), for a
// later when:, failed_when: or assert.

// statusQuery reads the unit's properties with `systemctl show`. Under
// manager auto (the service module) the host must run systemd. A show
// that fails leaves status empty with a warning, as Ansible does.
func (m *serviceModule) statusQuery(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	if m.manager == "auto" {
		res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", detectManagerScript, "tend-service", m.name}, MaxOutput: 256})
		if err != nil {
			return plan.Change{}, fmt.Errorf("service: %w", err)
		}
		if got := strings.TrimSpace(string(res.Stdout)); got != "systemd" {
			return plan.Change{}, fmt.Errorf("%s: %s: a status query (name only) needs systemd; the host runs %s: give state or enabled", m.module, m.name, m2s(got == "none", "no service manager", got))
		}
	}
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"systemctl", "show", "--", m.name}, Timeout: 30 * time.Second, MaxOutput: 1 << 20})
	if err != nil {
		return plan.Change{}, fmt.Errorf("%s: %s status: %w", m.module, m.name, err)
	}
	c := plan.Change{Action: plan.None, Data: map[string]any{"name": m.name, "manager": "systemd", "status": map[string]any{}}}
	if res.ExitCode != 0 {
		c.Warnings = []string{fmt.Sprintf("systemctl show %s exited %d: %s", m.name, res.ExitCode, lastLine(res.Stderr, res.Stdout))}
		c.Summary = fmt.Sprintf("%s: no status (systemctl show exited %d)", m.name, res.ExitCode)
		return c, nil
	}
	status := parseSystemctlShow(string(res.Stdout))
	c.Data["status"] = status
	c.Summary = fmt.Sprintf("%s: %v/%v (systemctl show)", m.name, orQ(status["ActiveState"]), orQ(status["SubState"]))
	return c, nil
}

// orQ is v, or "?" when v is nil.
func orQ(v any) any {
	if v == nil {
		return "?"
	}
	return v
}

// parseSystemctlShow reads `systemctl show` output (KEY=value lines) as
// Ansible's parse_systemctl_show does: values are strings, trimmed; an
// Exec* value that opens a "{" without closing it runs on over the next
// lines up to the one ending in "}".
func parseSystemctlShow(out string) map[string]any {
	status := map[string]any{}
	key := ""
	var multi []string
	for _, line := range strings.Split(out, "\n") {
		if key != "" {
			multi = append(multi, line)
			if strings.HasSuffix(strings.TrimRight(line, " \t\r"), "}") {
				status[key] = strings.TrimSpace(strings.Join(multi, "\n"))
				key, multi = "", nil
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if strings.HasPrefix(k, "Exec") && strings.HasPrefix(strings.TrimLeft(v, " \t"), "{") &&
			!strings.HasSuffix(strings.TrimRight(v, " \t\r"), "}") {
			key, multi = k, []string{v}
			continue
		}
		status[k] = strings.TrimSpace(v)
	}
	return status
}
