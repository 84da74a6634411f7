package main

import (
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"
	"time"
)

// unitFile is one systemd unit: its file name and text.
type unitFile struct{ name, text string }

// systemdUnits renders the service and its timer.
func (s *schedule) systemdUnits() []unitFile {
	args := s.runArgs
	if !s.hasRunFlag("lock-file") {
		// The lock and the --min-interval record beside it survive
		// reboots in the service's StateDirectory.
		args = append(args, "--lock-file=/var/lib/tend/"+s.name+".lock")
	}
	argv := append([]string{s.tendPath(), "run", s.playbook}, args...)
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = systemdQuote(a)
	}
	success := "8"
	if s.hasRunFlag("detailed-exitcode") {
		success = "2 8"
	}
	var svc strings.Builder
	fmt.Fprintf(&svc, "# Written by tend schedule systemd; enable with: systemctl daemon-reload && systemctl enable --now %s.timer\n", s.name)
	fmt.Fprintf(&svc, "[Unit]\nDescription=tend: run %s\nWants=network-online.target\nAfter=network-online.target\n\n", unitEscape(s.playbook))
	svc.WriteString("[Service]\nType=oneshot\nStateDirectory=tend\n")
	fmt.Fprintf(&svc, "ExecStart=%s\n", strings.Join(quoted, " "))
	svc.WriteString("# 8: an identical run succeeded within --min-interval (the timer fired twice): nothing was done\n")
	fmt.Fprintf(&svc, "SuccessExitStatus=%s\n", success)
	svc.WriteString("# SIGTERM: each host finishes its current step, then tend stops (exit 143)\nKillSignal=SIGTERM\n")

	var timer strings.Builder
	fmt.Fprintf(&timer, "[Unit]\nDescription=tend: run %s on a schedule\n\n", unitEscape(s.playbook))
	fmt.Fprintf(&timer, "[Timer]\nOnCalendar=%s\nRandomizedDelaySec=%d\n", s.calendar, int(s.jitter/time.Second))
	timer.WriteString("# a run missed while the machine was off runs at boot\nPersistent=true\n")
	fmt.Fprintf(&timer, "Unit=%s.service\n\n[Install]\nWantedBy=timers.target\n", s.name)
	return []unitFile{{s.name + ".service", svc.String()}, {s.name + ".timer", timer.String()}}
}

func (s *schedule) tendPath() string {
	if s.tend != "" {
		return s.tend
	}
	return "/usr/local/bin/tend"
}

var systemdBare = regexp.MustCompile(`^[A-Za-z0-9_@+=:,./-]+$`)

// systemdQuote quotes one ExecStart= word: in double quotes when it is not
// plain, with \ and " escaped; $ and % (variable and specifier expansion)
// doubled either way.
func systemdQuote(a string) string {
	a = strings.NewReplacer("%", "%%", "$", "$$").Replace(a)
	if systemdBare.MatchString(a) {
		return a
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`).Replace(a) + `"`
}

// unitEscape makes text safe in a unit's Description=: one line, %
// specifiers doubled.
func unitEscape(s string) string {
	return strings.NewReplacer("%", "%%", "\n", " ").Replace(s)
}

var shellBare = regexp.MustCompile(`^[A-Za-z0-9_@+=:,./-]+$`)

// cronQuote quotes one word for cron's /bin/sh: single quotes when not
// plain; then cron's % (a newline to cron) escaped as \%.
func cronQuote(a string) string {
	if !shellBare.MatchString(a) {
		a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.ReplaceAll(a, "%", `\%`)
}

// cronText renders the crontab line and comments on it.
func (s *schedule) cronText() string {
	argv := append([]string{s.tendPath(), "run", s.playbook}, s.runArgs...)
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = cronQuote(a)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: written by tend schedule cron. Install with crontab -e as the user who runs it\n", s.name)
	b.WriteString("# (in /etc/cron.d, put that user after the five time fields). The fixed delay spreads\n")
	b.WriteString("# playbooks scheduled alike; tend's lock keeps runs from overlapping (exit 7), and an\n")
	b.WriteString("# identical run within --min-interval of the last success does nothing (exit 8).\n")
	fmt.Fprintf(&b, "%s sleep %d && %s\n", s.calendar, s.offset(), strings.Join(quoted, " "))
	return b.String()
}

// kubeMounts are where the pod finds the files the CronJob mounts.
const (
	kubeInventoryDir  = "/etc/tend/inventory"
	kubePlaybookDir   = "/etc/tend/playbook"
	kubeKnownHostsDir = "/etc/tend/known_hosts"
	kubeSSHKeyDir     = "/etc/tend/ssh"
)

// kubeArg escapes $( in an argument: Kubernetes expands $(VAR) in args.
func kubeArg(a string) string { return strings.ReplaceAll(a, "$(", "$$(") }

// kubeSource is a local file that the CronJob mounts from a ConfigMap or a
// Secret: the kubectl command that creates it is printed.
type kubeSource struct{ kind, name, key, file string }

// kubePlan maps the run's file arguments to where the pod mounts them:
// the pod's arguments, the ConfigMaps and Secret to create, and the
// playbook's key when it is a file ("": a shipped playbook).
func (s *schedule) kubePlan() (args []string, sources []kubeSource, playbookKey string) {
	knownHosts, sshKey := "$HOME/.ssh/known_hosts", "$HOME/.ssh/id_ed25519"
	var inventories []kubeSource
	for _, a := range s.runArgs {
		name, val, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		switch name {
		case "inventory":
			if _, err := os.Stat(val); err != nil && strings.Contains(val, ",") {
				args = append(args, kubeArg(a)) // a host list
				continue
			}
			key := fmt.Sprintf("%d-%s", len(inventories), path.Base(val))
			key = kubeKeyUnsafe.ReplaceAllString(key, "_")
			inventories = append(inventories, kubeSource{"configmap", s.name + "-inventory", key, absPath(val)})
			args = append(args, "--inventory="+kubeInventoryDir+"/"+key)
		case "known-hosts":
			knownHosts = absPath(val)
		case "private-key":
			sshKey = absPath(val)
		default:
			args = append(args, kubeArg(a))
		}
	}
	args = append(args, "--known-hosts="+kubeKnownHostsDir+"/known_hosts", "--private-key="+kubeSSHKeyDir+"/id")
	if s.shards > 1 {
		args = append(args, fmt.Sprintf("--shard=$(JOB_COMPLETION_INDEX)/%d", s.shards))
	}
	sources = append(sources, inventories...)
	sources = append(sources,
		kubeSource{"configmap", s.name + "-known-hosts", "known_hosts", knownHosts},
		kubeSource{"secret", s.name + "-ssh-key", "id", sshKey})
	if absOr(s.playbook) != s.playbook || strings.Contains(s.playbook, "/") {
		playbookKey = path.Base(s.playbook)
		sources = append(sources, kubeSource{"configmap", s.name + "-playbook", playbookKey, absPath(s.playbook)})
	}
	return args, sources, playbookKey
}
