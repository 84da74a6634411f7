package modules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/internal/lab"
	"tend/runner/plan"
	"tend/runner/transport"
)

// The boot side of the service module (enabled, masked, daemon_reload,
// reloaded) against a real sshd lab host. The lab hosts do not run systemd
// as PID 1, so:
//   - SysV is real: Debian's update-rc.d writes the rc?.d links of a test
//     init script in the host's private /etc (lab.WithOverlayEtc);
//   - systemd is a STAND-IN: a stub `systemctl` (stubSystemctl) first in
//     the PATH of root's sessions on the host records its calls and answers
//     is-enabled / is-active / show from files. It proves which systemctl
//     commands tend runs and how it reads their answers, not systemd itself.

// bootLab is one lab host with a private /etc and an SSH connection.
type bootLab struct {
	t    *testing.T
	l    *lab.Lab
	h    *lab.Host
	conn transport.Conn
}

func newBootLab(t *testing.T) *bootLab {
	t.Helper()
	l := lab.New(t, 1, lab.WithOverlayEtc())
	b := &bootLab{t: t, l: l, h: l.Hosts[0]}
	b.dial()
	return b
}

// dial connects anew: sshd reads root's login shell when a connection
// authenticates.
func (b *bootLab) dial() {
	b.t.Helper()
	c := dialLab(b.t, b.l, b.h, "root")
	b.conn = c
}

// ssh runs a shell command on the host and returns its stdout.
func (b *bootLab) ssh(command string) string {
	b.t.Helper()
	out, stderr, err := b.l.SSH(context.Background(), b.h, command)
	if err != nil {
		b.t.Fatalf("%s: %v %s", command, err, stderr)
	}
	return out
}

// run builds the module from args, checks, and applies when the check
// found something to do; it returns the check's and the apply's results.
func (b *bootLab) run(spec Spec, args string) (check, apply plan.Change) {
	b.t.Helper()
	m, err := spec.New(Args{Node: argsNode(b.t, args), File: "play.yml"})
	if err != nil {
		b.t.Fatal(err)
	}
	ctx := context.Background()
	if check, err = m.Check(ctx, b.conn); err != nil {
		b.t.Fatalf("check %q: %v", args, err)
	}
	if check.Action == plan.None {
		return check, check
	}
	if apply, err = m.Apply(ctx, b.conn, check); err != nil {
		b.t.Fatalf("apply %q: %v", args, err)
	}
	if apply.Failed {
		b.t.Fatalf("apply %q failed: %s: %s", args, apply.Summary, apply.Msg)
	}
	return check, apply
}

// testInitScript is a minimal LSB init script for update-rc.d; it appends
// each verb it is given to the file VERBS, and its status says running
// while VERBS.running exists.
const testInitScript = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          tendsvc
# Required-Start:    $remote_fs
# Required-Stop:     $remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: tend test service
### END INIT INFO
echo "$1" >> VERBS
case $1 in
start) touch VERBS.running ;;
stop) rm -f VERBS.running ;;
status) [ -f VERBS.running ] || exit 3 ;;
esac
exit 0
`

// TestLabServiceSysVEnabled: enabled true/false through update-rc.d: the
// dry run says what it would do and writes nothing, apply makes (or
// disables) the start links, and a second run changes nothing.
func TestLabServiceSysVEnabled(t *testing.T) {
	b := newBootLab(t)
	if strings.TrimSpace(b.ssh("command -v update-rc.d || true")) == "" {
		t.Skip("no update-rc.d on this machine")
	}
	verbs := filepath.Join(t.TempDir(), "verbs")
	b.ssh("cat > /etc/init.d/tendsvc <<'EOF'\n" + strings.ReplaceAll(testInitScript, "VERBS", verbs) + "EOF\nchmod 755 /etc/init.d/tendsvc")
	links := func() string {
		return strings.TrimSpace(b.ssh("ls /etc/rc[0-6S].d 2>/dev/null | grep -E '^[SK][0-9][0-9]tendsvc$' | sort | tr '\\n' ' '"))
	}
	const on = "name: tendsvc\nmanager: sysv\nenabled: true"
	m, _ := serviceSpec.New(Args{Node: argsNode(t, on), File: "play.yml"})
	c, err := m.Check(context.Background(), b.conn)
	if err != nil {
		t.Fatal(err)
	}
	if c.Action != plan.Update || c.Summary != "would enable tendsvc (now disabled)" || links() != "" {
		t.Fatalf("check: %s %q; links %q", c.Action, c.Summary, links())
	}
	_, apply := b.run(serviceSpec, on)
	if apply.Summary != "enabled tendsvc" || !strings.Contains(links(), "S01tendsvc") {
		t.Fatalf("apply: %q; links %q", apply.Summary, links())
	}
	if check, _ := b.run(serviceSpec, on); check.Action != plan.None || check.Summary != "tendsvc is enabled (a start link in /etc/rc[2345].d)" {
		t.Errorf("second run: %s %q", check.Action, check.Summary)
	}
	// The machine's own /etc never saw it: the host's /etc is private.
	if m, _ := filepath.Glob("/etc/rc2.d/*tendsvc"); len(m) > 0 {
		t.Errorf("the machine's /etc/rc2.d has %v", m)
	}
	const off = "name: tendsvc\nmanager: sysv\nenabled: false"
	check, apply := b.run(serviceSpec, off)
	if check.Summary != "would disable tendsvc (now enabled)" || apply.Summary != "disabled tendsvc" ||
		strings.Contains(links(), "S01tendsvc") || !strings.Contains(links(), "K01tendsvc") {
		t.Fatalf("disable: %q -> %q; links %q", check.Summary, apply.Summary, links())
	}
	if check, _ := b.run(serviceSpec, off); check.Action != plan.None {
		t.Errorf("second disable: %s %q", check.Action, check.Summary)
	}
	// Enable again: the links exist, so no defaults, only enable.
	if _, apply := b.run(serviceSpec, on); !strings.Contains(links(), "S01tendsvc") {
		t.Errorf("re-enable: %q; links %q", apply.Summary, links())
	}
	// reloaded: a start when it does not run, a reload when it does.
	const reload = "name: tendsvc\nmanager: sysv\nstate: reloaded"
	check, apply = b.run(serviceSpec, reload)
	if check.Summary != "tendsvc not running: would start (init script status exit 3)" || !strings.HasPrefix(apply.Summary, "started tendsvc (was not running)") {
		t.Errorf("reload of a stopped service: %q -> %q", check.Summary, apply.Summary)
	}
	check, apply = b.run(serviceSpec, reload)
	if check.Summary != "would reload tendsvc (init script status exit 0)" || apply.Summary != "reloaded tendsvc" {
		t.Errorf("reload: %q -> %q", check.Summary, apply.Summary)
	}
	if got, _ := os.ReadFile(verbs); strings.Join(strings.Fields(string(got)), " ") != "status start status status reload status" {
		t.Errorf("init script verbs: %q", got)
	}
}

// stubSystemctl is the systemd STAND-IN (see the top of this file): it
// appends each call to $D/calls and keeps each unit's is-enabled answer in
// $D/NAME.enabled (default disabled) and its activity in $D/NAME.active.
const stubSystemctl = `#!/bin/sh
D=STUBDIR
echo "$*" >> "$D/calls"
case $1 in
is-enabled) s=$(cat "$D/$2.enabled" 2>/dev/null || echo disabled); echo "$s"; [ "$s" = enabled ] ;;
is-active) [ -f "$D/$2.active" ] && { echo active; exit 0; }; echo inactive; exit 3 ;;
enable) [ "$2" = stuck ] && exit 0; [ "$(cat "$D/$2.enabled" 2>/dev/null)" = masked ] && { echo "unit $2 is masked" >&2; exit 1; }; echo enabled > "$D/$2.enabled" ;;
disable) echo disabled > "$D/$2.enabled" ;;
mask) echo masked > "$D/$2.enabled" ;;
unmask) echo disabled > "$D/$2.enabled" ;;
start|restart) touch "$D/$2.active" ;;
stop) rm -f "$D/$2.active" ;;
reload|daemon-reload) ;;
show) echo MainPID=4242 ;;
*) echo "stub systemctl: $1 not handled" >&2; exit 1 ;;
esac
`

// TestLabServiceSystemdStandIn: enabled, masked, daemon_reload and
// reloaded under manager systemd run the right systemctl commands, in
// Ansible's order, read the answers, recheck, and are idempotent. It uses
// the stub systemctl stand-in, not systemd.
func TestLabServiceSystemdStandIn(t *testing.T) {
	b := newBootLab(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "systemctl"), []byte(strings.ReplaceAll(stubSystemctl, "STUBDIR", dir)), 0o755); err != nil {
		t.Fatal(err)
	}
	// Root's login shell on the host puts the stub first in PATH.
	wrapper := filepath.Join(dir, "shell")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\nPATH="+dir+":$PATH; export PATH\nexec /bin/sh \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	b.ssh("sed -i 's#^\\(root:[^:]*:0:0:[^:]*:[^:]*:\\).*#\\1" + wrapper + "#' /etc/passwd")
	b.dial()
	calls := func() string {
		out, _ := os.ReadFile(filepath.Join(dir, "calls"))
		os.Remove(filepath.Join(dir, "calls"))
		return strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", " | ")
	}
	if got := strings.TrimSpace(b.ssh("command -v systemctl")); got != filepath.Join(dir, "systemctl") {
		t.Fatalf("stub not first in PATH: %q", got)
	}
	calls()
	for _, step := range []struct{ args, check, apply, calls string }{
		{"name: web\nenabled: true\nstate: started", "would enable web (now disabled); web not running: would start (systemctl is-active: inactive)",
			"enabled web; started web: pid ? -> 4242",
			"is-enabled web | is-active web | enable web | is-enabled web | start web | is-active web | show -p MainPID web"},
		{"name: web\nenabled: true\nstate: started", "web is enabled (systemctl is-enabled: enabled); web is running (systemctl is-active, pid 4242)", "",
			"is-enabled web | is-active web | show -p MainPID web"},
		{"name: web\nmasked: true", "would mask web (now not masked)", "masked web", "is-enabled web | mask web | is-enabled web"},
		{"name: web\nmasked: true", "web is masked (systemctl is-enabled: masked)", "", "is-enabled web"},
		{"name: web\nmasked: false\nenabled: true\ndaemon_reload: true", "would run systemctl daemon-reload; would unmask web (now masked); would enable web (now disabled)",
			"ran systemctl daemon-reload; unmasked web; enabled web",
			"is-enabled web | daemon-reload | unmask web | enable web | is-enabled web"},
		{"name: web\nstate: reloaded", "would reload web (systemctl is-active, pid 4242)", "reloaded web (pid 4242)",
			"is-active web | show -p MainPID web | reload web | is-active web | show -p MainPID web"},
	} {
		check, apply := b.run(systemdSpec, step.args)
		if check.Summary != step.check || (step.apply != "" && apply.Summary != step.apply) || (step.apply == "" && check.Action != plan.None) {
			t.Errorf("%q:\n check %s %q\n apply %q\nwant %q / %q", step.args, check.Action, check.Summary, apply.Summary, step.check, step.apply)
		}
		if got := calls(); got != step.calls {
			t.Errorf("%q: systemctl calls\n got %s\nwant %s", step.args, got, step.calls)
		}
	}
	// Check under systemd is one remote read: is-enabled, is-active and
	// MainPID together.
	counted := &countingConn{Conn: b.conn}
	m0, _ := systemdSpec.New(Args{Node: argsNode(t, "name: web\nenabled: true\nstate: started"), File: "play.yml"})
	if c, err := m0.Check(context.Background(), counted); err != nil || c.Action != plan.None || counted.runs.Load() != 1 {
		t.Errorf("check: %d remote commands, want 1: %v %+v", counted.runs.Load(), err, c)
	}
	calls()
	// The recheck: systemctl enable exits 0 but the unit stays disabled.
	m, _ := systemdSpec.New(Args{Node: argsNode(t, "name: stuck\nenabled: true"), File: "play.yml"})
	c, err := m.Check(context.Background(), b.conn)
	if err != nil {
		t.Fatal(err)
	}
	if c, err = m.Apply(context.Background(), b.conn, c); err != nil || !c.Failed || c.Msg != "stuck: after enable, systemctl is-enabled: disabled" {
		t.Errorf("enable that does not hold: %v %+v", err, c)
	}
}
