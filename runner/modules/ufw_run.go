package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"tend/runner/plan"
	"tend/runner/transport"
)

// ufwMarker ends each section of the read script's output.
const ufwMarker = "--tend-ufw-section--"

// ufwReadScript reads what community.general.ufw compares, in one command:
// the ufw program's path (looked up as Ansible's get_bin_path does, the
// sbin directories added), its version, `ufw status verbose`, the tuple
// lines of the user rules files (the module's list of places), and the
// default policies of /etc/default/ufw. Each section is printed then
// followed by a newline and the marker line, so a section is the output
// exactly as the program printed it. Read-only.
const ufwReadScript = `PATH=$PATH:/sbin:/usr/sbin:/usr/local/sbin
LANG=C LC_ALL=C; export LANG LC_ALL
m=` + ufwMarker + `
u=$(command -v ufw) || { echo "Failed to find required executable \"ufw\" in paths: $PATH" >&2; exit 127; }
printf '%s' "$u"; printf '\n%s\n' "$m"
"$u" --version || exit
printf '\n%s\n' "$m"
"$u" status verbose || exit
printf '\n%s\n' "$m"
grep -h '^### tuple' /lib/ufw/user.rules /lib/ufw/user6.rules /etc/ufw/user.rules /etc/ufw/user6.rules /var/lib/ufw/user.rules /var/lib/ufw/user6.rules 2>/dev/null
printf '\n%s\n' "$m"
grep '^DEFAULT_[A-Z]*_POLICY=' /etc/default/ufw 2>/dev/null
printf '\n%s\n' "$m"
`

// ufwState is what the read script found on the host.
type ufwState struct {
	bin           string
	major, minor  int
	versionKnown  bool
	status, rules string
	policies      map[string]string // DEFAULT_INPUT_POLICY -> DROP
	failMsg       string            // why the read failed
}

// readUfw runs the read script. A host without ufw, or a ufw that fails,
// is a failed result (ok false), as the module fails.
func readUfw(ctx context.Context, conn transport.Conn) (st ufwState, ok bool, err error) {
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", ufwReadScript}})
	if err != nil {
		return st, false, fmt.Errorf("ufw: read the firewall's state: %w", err)
	}
	if res.ExitCode != 0 {
		st.failMsg = strings.TrimSpace(firstNonEmptyStr(string(res.Stderr), lastSection(string(res.Stdout))))
		return st, false, nil
	}
	parts := strings.Split(string(res.Stdout), "\n"+ufwMarker+"\n")
	if len(parts) < 6 {
		return st, false, fmt.Errorf("ufw: read the firewall's state: unexpected output %q", res.Stdout)
	}
	st.bin, st.status, st.rules = parts[0], parts[2], parts[3]
	st.major, st.minor, st.versionKnown = ufwParseVersion(parts[1])
	st.policies = map[string]string{}
	for _, l := range strings.Split(parts[4], "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			st.policies[k] = strings.Trim(v, `"'`)
		}
	}
	return st, true, nil
}

// lastSection is the output after the last marker (what a failing program
// printed on stdout).
func lastSection(s string) string {
	if i := strings.LastIndex(s, ufwMarker+"\n"); i >= 0 {
		return s[i+len(ufwMarker)+1:]
	}
	return s
}

// ufwVersionRE is the module's version pattern on `ufw --version`'s first
// line. Its greedy `.+` reads "ufw 0.36.2" as 6.2, as the module does;
// either way comments are on.
var ufwVersionRE = regexp.MustCompile(`^ufw.+(\d+)\.(\d+)(?:\.(\d+))?.*$`)

// ufwParseVersion reads major and minor from `ufw --version`.
func ufwParseVersion(out string) (major, minor int, ok bool) {
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		mm := ufwVersionRE.FindStringSubmatch(l)
		if mm == nil {
			return 0, 0, false
		}
		major, _ = strconv.Atoi(mm[1])
		minor, _ = strconv.Atoi(mm[2])
		return major, minor, true
	}
	return 0, 0, false
}

// withComment: ufw has comments from 0.35 on; the module leaves the
// comment out for an older one.
func (st ufwState) withComment() bool {
	return st.versionKnown && (st.major > 0 || st.minor >= 35)
}

// run runs ufw with args in the C locale, as the module does.
func (st ufwState) run(ctx context.Context, conn transport.Conn, args ...string) (transport.Result, error) {
	argv := append([]string{"env", "LANG=C", "LC_ALL=C", st.bin}, args...)
	res, err := conn.Run(ctx, transport.Command{Argv: argv})
	if err != nil {
		return res, fmt.Errorf("ufw: %s: %w", strings.Join(args, " "), err)
	}
	return res, nil
}

// commandLine is a command as the module registers it: the words joined.
func (st ufwState) commandLine(args []string) string {
	return strings.Join(append([]string{st.bin}, args...), " ")
}

// failed is the result of a ufw command that failed: its stderr, else its
// stdout, as the module's msg, with the commands run so far.
func ufwFailed(msg string, cmds []string) plan.Change {
	return plan.Change{Action: plan.None, Failed: true, Msg: strings.TrimSpace(msg),
		Data: map[string]any{"commands": cmds}}
}

// Check reads the firewall and predicts, as the module's check mode does,
// whether the task would change it: state and default from `ufw status
// verbose`, logging from its Logging line, a rule from `ufw --dry-run`'s
// rule tuples against the user rules files. Nothing is changed.
func (m *ufwModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	st, ok, err := readUfw(ctx, conn)
	if err != nil {
		return plan.Change{}, err
	}
	if !ok {
		return ufwFailed(st.failMsg, nil), nil
	}
	cmds := []string{st.bin + " status verbose", "grep -h '^### tuple' (user rules)"}
	var why []string
	for _, c := range m.commands(st.withComment()) {
		var reason string
		switch c.key {
		case "state":
			reason = m.predictState(st.status)
		case "default":
			reason = m.predictDefault(st.status, st.policies)
		case "logging":
			reason = m.predictLogging(st.status)
		case "rule":
			args := append([]string{"--dry-run"}, c.args...)
			cmds = append(cmds, st.bin+" --version", st.commandLine(args))
			res, err := st.run(ctx, conn, args...)
			if err != nil {
				return plan.Change{}, err
			}
			if res.ExitCode != 0 {
				return ufwFailed(firstNonEmptyStr(string(res.Stderr), string(res.Stdout)), cmds), nil
			}
			reason = m.predictRule(st.rules, string(res.Stdout), c.args)
		}
		if reason != "" {
			why = append(why, reason)
		}
	}
	// msg is the status, as the module returns it after apply (the same
	// status when nothing changes; its check mode returns none).
	ch := plan.Change{Action: plan.None, Msg: strings.TrimRight(st.status, " \t\r\n"), Data: map[string]any{"commands": cmds}}
	if len(why) == 0 {
		ch.Summary = "ufw already as asked (" + ufwStatusLine(st.status) + ")"
		return ch, nil
	}
	ch.Action, ch.Summary = plan.Update, strings.Join(why, "; ")
	return ch, nil
}

// ufwStatusLine is the first line of `ufw status verbose`.
func ufwStatusLine(status string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(status), "\n")
	return l
}

// ufwActive is the module's test: " active" (not "inactive") in the status.
func ufwActive(status string) bool { return strings.Contains(status, " active") }

// predictState: reloaded and reset always change; enabled and disabled
// when the status says otherwise.
func (m *ufwModule) predictState(status string) string {
	switch {
	case m.state == "reloaded" || m.state == "reset":
		return "would run ufw " + ufwStateVerbs[m.state] + " (always a change)"
	case m.state == "enabled" && !ufwActive(status):
		return "would enable ufw (" + ufwStatusLine(status) + ")"
	case m.state == "disabled" && ufwActive(status):
		return "would disable ufw (" + ufwStatusLine(status) + ")"
	}
	return ""
}

var (
	ufwLoggingRE = regexp.MustCompile(`Logging: (on|off)(?: \(([a-z]+)\))?`)
	ufwDefaultRE = regexp.MustCompile(`Default: (deny|allow|reject) \(incoming\), (deny|allow|reject) \(outgoing\), (deny|allow|reject|disabled) \(routed\)`)
)

// predictLogging is the module's comparison with the Logging line; it also
// decides whether logging counts as changed after apply.
func (m *ufwModule) predictLogging(status string) string {
	mm := ufwLoggingRE.FindStringSubmatch(status)
	if mm == nil {
		return "would set logging " + m.logging + " (no Logging line in the status)"
	}
	onOff, level := mm[1], mm[2]
	now := strings.TrimSpace(onOff + " " + level)
	switch {
	case m.logging != "off" && onOff == "off", m.logging != "off" && m.logging != "on" && m.logging != level,
		m.logging == "off" && onOff != "off":
		return "would set logging " + m.logging + " (now " + now + ")"
	}
	return ""
}

// ufwPolicyVar is the /etc/default/ufw variable of each direction, and
// ufwPolicyValue the iptables target of each policy.
var (
	ufwPolicyVar   = map[string]string{"incoming": "DEFAULT_INPUT_POLICY", "outgoing": "DEFAULT_OUTPUT_POLICY", "routed": "DEFAULT_FORWARD_POLICY"}
	ufwPolicyValue = map[string]string{"allow": "ACCEPT", "deny": "DROP", "reject": "REJECT"}
)

// predictDefault is the module's comparison with the Default line (a
// "disabled" routed policy never differs there), plus, unlike the module,
// the policy in /etc/default/ufw: with forwarding off the status says
// routed "disabled" whatever the file holds, and `ufw default deny routed`
// still writes the file, so the command must run for the same end state.
func (m *ufwModule) predictDefault(status string, policies map[string]string) string {
	dir := m.direction
	if dir == "" {
		dir = "incoming"
	}
	mm := ufwDefaultRE.FindStringSubmatch(status)
	if mm == nil {
		return "would set the default " + dir + " policy to " + m.policy + " (no Default line in the status)"
	}
	now := map[string]string{"incoming": mm[1], "outgoing": mm[2], "routed": mm[3]}[dir]
	if now != m.policy && now != "disabled" {
		return "would set the default " + dir + " policy to " + m.policy + " (now " + now + ")"
	}
	if file, ok := policies[ufwPolicyVar[dir]]; ok && file != ufwPolicyValue[m.policy] {
		return "would set the default " + dir + " policy to " + m.policy + " (" + ufwPolicyVar[dir] + "=" + file + " in /etc/default/ufw)"
	}
	return ""
}

// predictRule compares `ufw --dry-run`'s rule tuples with the user rules
// files' as the module does: no change when every line of the dry run says
// "Skipping"; with an IPv4 (IPv6) from or to address only the tuples
// holding one are compared, since the dry run shows only that family.
func (m *ufwModule) predictRule(pre, dry string, args []string) string {
	lines := strings.SplitAfter(dry, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	skipping := 0
	for _, l := range lines {
		if strings.Contains(l, "Skipping") {
			skipping++
		}
	}
	if skipping > 0 && skipping == len(lines) {
		return ""
	}
	var tuples strings.Builder
	for _, l := range lines {
		if strings.HasPrefix(l, "### tuple") {
			tuples.WriteString(l)
		}
	}
	after := tuples.String()
	switch {
	case ufwIPv4Start.MatchString(m.fromIP) || ufwIPv4Start.MatchString(m.toIP):
		pre, after = ufwLinesMatching(ufwIPv4, pre), ufwLinesMatching(ufwIPv4, after)
	case ufwIPv6Start.MatchString(m.fromIP) || ufwIPv6Start.MatchString(m.toIP):
		pre, after = ufwLinesMatching(ufwIPv6, pre), ufwLinesMatching(ufwIPv6, after)
	}
	if pre == after {
		return ""
	}
	return "would run ufw " + strings.Join(args, " ") + ufwTupleDiff(pre, after)
}

// ufwTupleDiff lists the tuples the dry run removes (-) and adds (+).
func ufwTupleDiff(before, after string) string {
	in := func(s, l string) bool {
		for _, x := range strings.Split(s, "\n") {
			if x == l {
				return true
			}
		}
		return false
	}
	var b strings.Builder
	for _, l := range strings.Split(before, "\n") {
		if l != "" && !in(after, l) {
			b.WriteString("\n  - " + l)
		}
	}
	for _, l := range strings.Split(after, "\n") {
		if l != "" && !in(before, l) {
			b.WriteString("\n  + " + l)
		}
	}
	return b.String()
}

// Apply reads the firewall again, runs the task's ufw commands in order
// and reads it once more: changed when `ufw status verbose` or the user
// rules' tuples differ, or for reloaded, reset and a logging change (the
// module's rules). A failing command fails the task with its message.
func (m *ufwModule) Apply(ctx context.Context, conn transport.Conn, _ plan.Change) (plan.Change, error) {
	pre, ok, err := readUfw(ctx, conn)
	if err != nil {
		return plan.Change{}, err
	}
	if !ok {
		return ufwFailed(pre.failMsg, nil), nil
	}
	forced := (m.state == "reloaded" || m.state == "reset") || (m.logging != "" && m.predictLogging(pre.status) != "")
	var cmds []string
	for _, c := range m.commands(pre.withComment()) {
		cmds = append(cmds, pre.commandLine(c.args))
		res, err := pre.run(ctx, conn, c.args...)
		if err != nil {
			return plan.Change{}, err
		}
		if res.ExitCode != 0 {
			return ufwFailed(firstNonEmptyStr(string(res.Stderr), string(res.Stdout)), cmds), nil
		}
	}
	post, ok, err := readUfw(ctx, conn)
	if err != nil {
		return plan.Change{}, err
	}
	if !ok {
		return ufwFailed(post.failMsg, cmds), nil
	}
	m.unsettled = (m.policy != "" && !ufwDefaultRE.MatchString(post.status)) ||
		(m.logging != "" && !ufwLoggingRE.MatchString(post.status))
	msg := strings.TrimRight(post.status, " \t\r\n")
	ch := plan.Change{Action: plan.None, Msg: msg, Data: map[string]any{"commands": cmds}}
	ch.Summary = "ran " + strings.Join(cmds, "; ")
	if forced || pre.status != post.status || pre.rules != post.rules {
		ch.Action = plan.Update
		if d := ufwTupleDiff(pre.rules, post.rules); d != "" {
			ch.Summary += d
		}
	}
	return ch, nil
}
