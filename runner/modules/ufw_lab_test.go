package modules

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"tend/internal/lab"
	"tend/runner/plan"
	"tend/runner/transport"
)

// ufwLabPrepare is run inside a lab host before anything there runs ufw.
// The lab hosts share this machine's kernel and, without an overlay, its
// /etc: it refuses to go on unless /etc is the lab's overlay, then makes
// ufw write no sysctl (IPT_SYSCTL set to an empty file: ufw-init applies
// it only when non-empty) and starts from Debian's fresh state: disabled,
// no user rules, logging off, incoming allowed (so that the test's
// changes are changes).
const ufwLabPrepare = `set -e
grep -q ' /etc .* - overlay tend-lab-etc ' /proc/self/mountinfo || { echo "/etc is not the lab's overlay: refusing to run ufw" >&2; exit 1; }
: > /etc/ufw/tend-empty-sysctl.conf
sed -i 's|^IPT_SYSCTL=.*|IPT_SYSCTL=/etc/ufw/tend-empty-sysctl.conf|; s|^DEFAULT_INPUT_POLICY=.*|DEFAULT_INPUT_POLICY="ACCEPT"|' /etc/default/ufw
grep -qx 'IPT_SYSCTL=/etc/ufw/tend-empty-sysctl.conf' /etc/default/ufw
printf 'ENABLED=no\nLOGLEVEL=off\n' > /etc/ufw/ufw.conf
cp /usr/share/ufw/iptables/user.rules /usr/share/ufw/iptables/user6.rules /etc/ufw/
`

// ufwLab is one lab host with an overlay /etc, prepared for ufw, and an
// SSH connection to it as root.
func ufwLab(t *testing.T) (*lab.Host, transport.Conn) {
	t.Helper()
	if _, err := exec.LookPath("ufw"); err != nil {
		t.Skip("ufw not installed (scripts/test.sh installs it)")
	}
	l := lab.New(t, 1, lab.WithOverlayEtc())
	h := l.Hosts[0]
	if _, _, err := h.Exec(context.Background(), "/bin/sh", "-c", ufwLabPrepare); err != nil {
		t.Fatal(err)
	}
	c := dialLab(t, l, h, "root")
	return h, c
}

// TestLabUfw runs ufw on a real host (its own network namespace and
// overlay /etc): each step is checked (the prediction, nothing written),
// applied, and checked again (nothing left to do), as the engine verifies.
func TestLabUfw(t *testing.T) {
	_, conn := ufwLab(t)
	ctx := context.Background()
	sh := func(script string) string {
		t.Helper()
		res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", script}})
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("%s: %v exit %d: %s", script, err, res.ExitCode, res.Stderr)
		}
		return string(res.Stdout)
	}
	files := func() string {
		return sh("cat /etc/ufw/user.rules /etc/ufw/user6.rules /etc/ufw/ufw.conf /etc/default/ufw")
	}
	tuples := func() string { return sh("grep -h '^### tuple' /etc/ufw/user.rules /etc/ufw/user6.rules || true") }
	// step checks src (want: the prediction), applies when it plans a
	// change (wantApplied: the applied result's changed), then checks again.
	step := func(src string, want, wantApplied bool) plan.Change {
		t.Helper()
		m := newUfwT(t, src)
		before := files()
		c, err := m.Check(ctx, conn)
		if err != nil || c.Failed {
			t.Fatalf("%q: check: %v %s", src, err, c.Msg)
		}
		if c.Changed() != want {
			t.Fatalf("%q: check: changed=%v, want %v (%s)", src, c.Changed(), want, c.Summary)
		}
		if after := files(); after != before {
			t.Fatalf("%q: check changed the files:\n%s\n---\n%s", src, before, after)
		}
		if !c.Changed() {
			return c
		}
		a, err := m.Apply(ctx, conn, c)
		if err != nil || a.Failed {
			t.Fatalf("%q: apply: %v %s", src, err, a.Msg)
		}
		if a.Changed() != wantApplied {
			t.Fatalf("%q: apply: changed=%v, want %v (%s)", src, a.Changed(), wantApplied, a.Summary)
		}
		if IsVerifiable(ufwSpec, m) {
			if c2, err := m.Check(ctx, conn); err != nil || c2.Changed() {
				t.Fatalf("%q: recheck after apply: %v %s", src, err, c2.Summary)
			}
		}
		return a
	}

	step("rule: allow\nport: 22\nproto: tcp", true, true)
	if got := tuples(); !strings.Contains(got, "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n") {
		t.Fatalf("allow 22/tcp: tuples %q", got)
	}
	step("rule: allow\nport: 22\nproto: tcp", false, false)
	// While ufw is inactive its status has no Default and no Logging line:
	// the module predicts a change every time, counts default as unchanged
	// (the status is the same) and logging as changed.
	step("policy: deny", true, false)
	if got := sh("grep ^DEFAULT_INPUT_POLICY= /etc/default/ufw"); got != "DEFAULT_INPUT_POLICY=\"DROP\"\n" {
		t.Fatalf("policy deny: %q", got)
	}
	step("logging: low", true, true)
	step("logging: low", true, true)
	a := step("state: enabled", true, true)
	if !strings.HasPrefix(a.Msg, "Status: active\nLogging: on (low)\nDefault: deny (incoming), allow (outgoing)") {
		t.Fatalf("enabled: msg %q", a.Msg)
	}
	step("state: enabled", false, false)
	// Active: the status tells, and a second run finds nothing to do.
	step("default: deny\ndirection: incoming", false, false)
	step("policy: reject\ndirection: outgoing", true, true)
	step("policy: allow\ndirection: outgoing", true, true)
	step("logging: 'on'", false, false)
	step("logging: medium", true, true)
	step("logging: low", true, true)
	// The connection still works (22/tcp allowed before), and the rule is
	// in the host's own netfilter tables.
	if got := sh("iptables -S ufw-user-input"); !strings.Contains(got, "-A ufw-user-input -p tcp -m tcp --dport 22 -j ACCEPT") {
		t.Fatalf("iptables in the host: %s", got)
	}
	step("rule: limit\nport: ssh\nproto: tcp\ncomment: rate-limit ssh", true, true)
	step("rule: allow\nsrc: 10.20.0.0/16\nport: '8000:8100'\nproto: tcp\ncomment: app range", true, true)
	got := tuples()
	for _, w := range []string{"### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=726174652d6c696d697420737368\n",
		"### tuple ### allow tcp 8000:8100 0.0.0.0/0 any 10.20.0.0/16 in comment=6170702072616e6765\n"} {
		if !strings.Contains(got, w) {
			t.Fatalf("tuples %q lack %q", got, w)
		}
	}
	// A comment alone differs: the rule is updated.
	step("rule: allow\nsrc: 10.20.0.0/16\nport: '8000:8100'\nproto: tcp\ncomment: app range 2", true, true)
	// insert 1 puts the rule first.
	step("rule: deny\nfrom: 192.0.2.7\ninsert: 1", true, true)
	if got := tuples(); !strings.HasPrefix(got, "### tuple ### deny any any 0.0.0.0/0 any 192.0.2.7 in\n") {
		t.Fatalf("insert 1: tuples %q", got)
	}
	step("rule: deny\nfrom: 192.0.2.7\ninsert: 1", false, false)
	step("rule: allow\nsrc: 10.20.0.0/16\nport: '8000:8100'\nproto: tcp\ncomment: app range 2\ndelete: true", true, true)
	if got := tuples(); strings.Contains(got, "8000:8100") {
		t.Fatalf("deleted rule still there: %q", got)
	}
	step("rule: allow\nsrc: 10.20.0.0/16\nport: '8000:8100'\nproto: tcp\ndelete: true", false, false)
	step("rule: allow\ndirection: out\ninterface: eth0\nport: 53\nproto: udp\nlog: true", true, true)
	// Routed shows "disabled" with forwarding off, whatever the policy: the
	// command still writes /etc/default/ufw, and (as the module) the task is
	// not changed since the status is the same.
	step("default: allow\ndirection: routed", true, false)
	if got := sh("grep ^DEFAULT_FORWARD_POLICY= /etc/default/ufw"); got != "DEFAULT_FORWARD_POLICY=\"ACCEPT\"\n" {
		t.Fatalf("routed: %q", got)
	}
	// A profile ufw does not know fails in the check with ufw's message.
	c, err := newUfwT(t, "rule: allow\nname: NoSuchProfile").Check(ctx, conn)
	if err != nil || !c.Failed || !strings.Contains(c.Msg, "NoSuchProfile") {
		t.Fatalf("unknown profile: %v failed=%v %q", err, c.Failed, c.Msg)
	}
	if m := newUfwT(t, "state: reloaded"); IsVerifiable(ufwSpec, m) {
		t.Fatal("reloaded must not be verifiable")
	}
	step("state: reloaded", true, true)
	step("state: disabled", true, true)
	step("state: reset", true, true)
	if got := tuples(); got != "" {
		t.Fatalf("after reset: tuples %q", got)
	}
	// The machine's own firewall was never touched: no ufw chain here.
	if out, err := exec.Command("iptables", "-S").Output(); err == nil && strings.Contains(string(out), "ufw-") {
		t.Fatalf("ufw chains in this machine's own namespace:\n%s", out)
	}
}

// TestLabUfwMissing: a host without ufw fails the task with the module's
// message.
func TestLabUfwMissing(t *testing.T) {
	_, conn := ufwLab(t)
	ctx := context.Background()
	m := newUfwT(t, "state: enabled")
	c, err := m.Check(ctx, noUfwConn{conn})
	if err != nil || !c.Failed || !strings.Contains(c.Msg, `Failed to find required executable "ufw"`) {
		t.Fatalf("got %v failed=%v %q", err, c.Failed, c.Msg)
	}
}

// noUfwConn runs commands with a PATH where ufw cannot be found.
type noUfwConn struct{ transport.Conn }

func (c noUfwConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if len(cmd.Argv) == 3 && cmd.Argv[0] == "/bin/sh" {
		script := strings.ReplaceAll(cmd.Argv[2], "PATH=$PATH:/sbin:/usr/sbin:/usr/local/sbin", "PATH=/nonexistent")
		cmd.Argv = []string{"/bin/sh", "-c", script}
	}
	return c.Conn.Run(ctx, cmd)
}
