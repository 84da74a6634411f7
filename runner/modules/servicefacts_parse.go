package modules

import (
	"regexp"
	"strings"
)

// sysvStatusRE is Ansible's pattern for a line of `service --status-all`:
// "[ + ]" running, "[ - ]" stopped; "[ ? ]" lines are left out.
var sysvStatusRE = regexp.MustCompile(`(?m)^\s*\[ (\+|-) \]\s+(.+)$`)

// systemdBadStates are the list-units fields that stand for the unit's
// status (and shift the line by one field), as Ansible reads them.
var systemdBadStates = []string{"not-found", "masked", "failed"}

// ParseServiceFacts reads ServiceFactsScript's output into Ansible's
// services fact — each name to {name, state, source} for SysV (no status,
// as Ansible's `service --status-all` reader), {name, state, status,
// source} for systemd, systemd's entries overriding — and the warnings
// Ansible gives for a tool that failed. Backends tend does not read
// (chkconfig, upstart, OpenRC) are named in a warning.
func ParseServiceFacts(out string) (map[string]any, []string) {
	services := map[string]any{}
	var warnings []string
	sections := map[string][]string{} // "sysv", "units", "files": head fields and body
	shows := map[string][2]string{}   // unit: rc, body
	var cur string
	body := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "@@tend "); ok {
			f := strings.Fields(rest)
			switch f[0] {
			case "show":
				if len(f) >= 3 {
					cur = "show " + f[2]
					shows[f[2]] = [2]string{f[1], ""}
				}
			case "other":
				if len(f) >= 2 {
					warnings = append(warnings, "service_facts: the host has "+f[1]+"; tend reads only SysV (service --status-all) and systemd services, as Ansible on Debian")
				}
				cur = ""
				continue
			default:
				cur = f[0]
				sections[cur] = f[1:]
			}
			continue
		}
		if cur != "" {
			body[cur] = append(body[cur], line)
		}
	}
	if h, ok := sections["sysv"]; ok && len(h) == 2 && !(h[0] == "4" && h[1] == "0") {
		if h[0] != "0" {
			warnings = append(warnings, "Unable to query 'service' tool ("+h[0]+")")
		}
		for _, m := range sysvStatusRE.FindAllStringSubmatch(strings.Join(body["sysv"], "\n"), -1) {
			state := "stopped"
			if m[1] == "+" {
				state = "running"
			}
			services[m[2]] = map[string]any{"name": m[2], "state": state, "source": "sysv"}
		}
	}
	if h, ok := sections["units"]; ok {
		if len(h) > 0 && h[0] != "0" {
			warnings = append(warnings, "Could not list units from systemd (exit "+h[0]+")")
		} else {
			for _, line := range body["units"] {
				if !strings.Contains(line, ".service") {
					continue
				}
				f := strings.Fields(line)
				status := ""
				for _, bad := range systemdBadStates {
					for _, x := range f {
						if x == bad && status == "" {
							status = bad
						}
					}
				}
				if status != "" {
					f = f[1:]
				} else if len(f) > 2 {
					status = f[2]
				}
				if len(f) < 4 {
					continue
				}
				state := "stopped"
				if f[3] == "running" {
					state = "running"
				}
				services[f[0]] = map[string]any{"name": f[0], "state": state, "status": status, "source": "systemd"}
			}
		}
	}
	if h, ok := sections["files"]; ok {
		if len(h) > 0 && h[0] != "0" {
			warnings = append(warnings, "Could not get unit files data from systemd (exit "+h[0]+")")
		} else {
			for _, line := range body["files"] {
				if !strings.Contains(line, ".service") {
					continue
				}
				f := strings.Fields(line)
				if len(f) < 2 {
					continue
				}
				name, status := f[0], f[1]
				if s, ok := services[name].(map[string]any); ok && s["source"] == "systemd" {
					if !isBadState(s["status"]) {
						s["status"] = status
					}
					continue
				}
				state := "unknown"
				if sh, ok := shows[name]; ok && sh[0] == "0" {
					if b := strings.TrimRight(strings.Join(body["show "+name], "\n"), " \t\n"); b != "" {
						state = strings.Replace(b, "ActiveState=", "", -1)
					}
				}
				services[name] = map[string]any{"name": name, "state": state, "status": status, "source": "systemd"}
			}
		}
	}
	return services, warnings
}

// isBadState reports whether a systemd status is one of systemdBadStates.
func isBadState(v any) bool {
	s, _ := v.(string)
	for _, b := range systemdBadStates {
		if s == b {
			return true
		}
	}
	return false
}
