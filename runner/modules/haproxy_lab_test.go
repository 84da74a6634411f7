package modules

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tend/internal/lab"
	"tend/runner/plan"
	"tend/runner/transport"
)

// haproxyLabDir is where, inside the lab host, the sockets live: the
// host's private /etc (the lab's overlay).
const haproxyLabDir = "/etc/tend-haproxy"

// haproxyLabConfig is the lab's HAProxy: an admin socket and a user-level
// one, two backends, a server that starts disabled, and api/web1 checked
// against a listener that accepts and drops (so its checks pass).
const haproxyLabConfig = `global
	stats socket ` + haproxyLabDir + `/admin.sock mode 600 level admin
	stats socket ` + haproxyLabDir + `/user.sock mode 600 level user
defaults
	mode tcp
	timeout connect 1s
	timeout client 10s
	timeout server 10s
frontend fe
	bind 127.0.0.1:18080
	default_backend www
frontend sink
	bind 127.0.0.1:18090
	tcp-request connection reject
backend www
	balance roundrobin
	server web1 127.0.0.1:18081 weight 10
	server web2 127.0.0.1:18082 disabled
	server web3 127.0.0.1:18083
backend api
	balance roundrobin
	server web1 127.0.0.1:18090 weight 8 check inter 100ms
	server api2 127.0.0.1:18084
`

// haproxyLab starts a real HAProxy inside a lab host (its own network
// namespace and overlay /etc) with the config in the test's temporary
// directory, stopped by PID at cleanup, and dials the host as root.
func haproxyLab(t *testing.T) (*lab.Host, transport.Conn) {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy not installed (scripts/test.sh installs it)")
	}
	l := lab.New(t, 1, lab.WithOverlayEtc())
	h := l.Hosts[0]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, _, err := h.Exec(ctx, "mkdir", "-p", haproxyLabDir); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(haproxyLabConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	p := h.Start(t, bin, "-db", "-f", cfg)
	t.Cleanup(func() { p.Stop() })
	if _, _, err := h.Exec(ctx, "/bin/sh", "-c", `until [ -S "$1" ]; do sleep 0.05; done`, "sh", haproxyLabDir+"/admin.sock"); err != nil {
		t.Fatalf("haproxy never made its socket: %v\n%s", err, p.Output())
	}
	c := dialLab(t, l, h, "root")
	return h, c
}

// TestLabHaproxy drives a real HAProxy: each step is checked (the
// prediction, nothing sent that changes HAProxy), applied, compared with
// what show stat then says, and checked again (nothing left to do).
func TestLabHaproxy(t *testing.T) {
	_, conn := haproxyLab(t)
	ctx := context.Background()
	sock := "\nsocket: " + haproxyLabDir + "/admin.sock"
	stat := func() []haproxyRow {
		t.Helper()
		m := newHaproxyT(t, "state: enabled\nhost: x"+sock)
		v, err := m.read(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		return v.rows
	}
	status := func(b, s string) string {
		t.Helper()
		r, ok := haproxyFind(stat(), b, s)
		if !ok {
			t.Fatalf("no %s/%s in show stat", b, s)
		}
		return haproxyDescribe(haproxyServerState{r.Status, r.Weight, r.Scur})
	}
	step := func(src string, want bool) plan.Change {
		t.Helper()
		m := newHaproxyT(t, src+sock)
		before := stat()
		c, err := m.Check(ctx, conn)
		if err != nil || c.Failed {
			t.Fatalf("%q: check: %v %s", src, err, c.Msg)
		}
		if c.Changed() != want {
			t.Fatalf("%q: check: changed=%v, want %v (%s)", src, c.Changed(), want, c.Summary)
		}
		if after := stat(); !haproxySameRows(before, after) {
			t.Fatalf("%q: check changed HAProxy:\n%+v\n---\n%+v", src, before, after)
		}
		if !c.Changed() {
			return c
		}
		a, err := m.Apply(ctx, conn, c)
		if err != nil || a.Failed {
			t.Fatalf("%q: apply: %v %s", src, err, a.Msg)
		}
		if !a.Changed() || len(a.Warnings) > 0 {
			t.Fatalf("%q: apply: changed=%v warnings %q (%s)", src, a.Changed(), a.Warnings, a.Summary)
		}
		// The prediction is what HAProxy now shows (a checked server
		// leaving maintenance may show "UP 1/3" until its next checks).
		for _, v := range c.Values {
			b, s, _ := strings.Cut(v.Key, "/")
			got := status(b, s)
			ps, pw, _ := strings.Cut(v.After, ", ")
			gs, gw, _ := strings.Cut(got, ", ")
			if pw != gw || (gs != ps && !strings.HasPrefix(gs, ps+" ")) {
				t.Fatalf("%q: predicted %s: %s, HAProxy shows %s", src, v.Key, v.After, got)
			}
		}
		if c2, err := m.Check(ctx, conn); err != nil || c2.Changed() {
			t.Fatalf("%q: recheck after apply: %v %s", src, err, c2.Summary)
		}
		return a
	}

	if got := status("www", "web2"); got != "MAINT, weight 1" {
		t.Fatalf("web2 starts %q", got)
	}
	step("state: drain\nhost: web1\nbackend: www", true)
	step("state: drain\nhost: web1\nbackend: www", false)
	// No backend: every backend holding web1 (www draining, api up).
	a := step("state: disabled\nhost: web1", true)
	if got := a.Data["command"]; !equalAny(got, []string{"get weight www/web1; disable server www/web1", "get weight api/web1; disable server api/web1"}) {
		t.Fatalf("disabled everywhere: commands %q", got)
	}
	if got := a.Data["output"]; !equalAny(got, []string{"10 (initial 10)", "8 (initial 8)"}) {
		t.Fatalf("disabled everywhere: output %q", got)
	}
	step("state: disabled\nhost: web1", false)
	// Back from maintenance with checks: wait until UP.
	step("state: enabled\nhost: web1\nbackend: api\nwait: true\nwait_interval: 1", true)
	step("state: enabled\nhost: web1\nbackend: www\nweight: 5", true)
	if got := status("www", "web1"); got != "no check, weight 5" {
		t.Fatalf("www/web1: %q", got)
	}
	step("state: enabled\nhost: web1\nbackend: api\nweight: 50%", true)
	if got := status("api", "web1"); !strings.HasSuffix(got, ", weight 4") {
		t.Fatalf("api/web1 at 50%%: %q", got)
	}
	step("state: enabled\nhost: web1\nbackend: api\nweight: 50%", false)
	step("state: enabled\nhost: web2\nbackend: www", true)
	step("state: disabled\nhost: web3\nbackend: www\ndrain: true\nwait: true\nwait_interval: 1", true)
	if got := status("www", "web3"); got != "MAINT, weight 1" {
		t.Fatalf("web3 after drain then disable: %q", got)
	}
	step("state: enabled\nhost: nope\nbackend: www", false)

	// fail_on_not_found fails with the module's message, before sending.
	c, err := newHaproxyT(t, "state: disabled\nhost: nope\nbackend: www\nfail_on_not_found: true"+sock).Check(ctx, conn)
	if err != nil || !c.Failed || c.Msg != "The specified backend 'www/nope' was not found!" {
		t.Fatalf("fail_on_not_found: %v %+v", err, c)
	}
	// A wait that never comes true fails with the module's message: a
	// server without checks is never "UP" (show stat says "no check").
	m := newHaproxyT(t, "state: enabled\nhost: web3\nbackend: www\nwait: true\nwait_retries: 2\nwait_interval: 0"+sock)
	if c, err = m.Check(ctx, conn); err != nil || !c.Changed() {
		t.Fatalf("enable web3: %v %s", err, c.Summary)
	}
	if a, err = m.Apply(ctx, conn, c); err != nil || !a.Failed || a.Msg != "server www/web3 not status 'UP' after 2 retries. Aborting." {
		t.Fatalf("wait: %v %+v", err, a)
	}
	if got := status("www", "web3"); got != "no check, weight 1" {
		t.Fatalf("web3 after the failed wait: %q", got)
	}

	// A user-level socket reads but refuses changes: HAProxy's answer is
	// a warning, nothing changed, and the recheck still sees the change.
	m = newHaproxyT(t, "state: disabled\nhost: web3\nbackend: www\nsocket: "+haproxyLabDir+"/user.sock")
	if c, err = m.Check(ctx, conn); err != nil || !c.Changed() {
		t.Fatalf("user socket check: %v %+v", err, c)
	}
	if a, err = m.Apply(ctx, conn, c); err != nil || a.Changed() || len(a.Warnings) == 0 || !strings.Contains(a.Warnings[0], "ermission denied") {
		t.Fatalf("user socket apply: %v %+v", err, a)
	}
	// A socket that is not there fails the task.
	c, err = newHaproxyT(t, "state: disabled\nhost: web3\nsocket: /etc/tend-haproxy/none.sock").Check(ctx, conn)
	if err != nil || !c.Failed || !strings.Contains(c.Msg, "No such file or directory") {
		t.Fatalf("missing socket: %v %+v", err, c)
	}
}

// TestLabHaproxyClients: socat, python3 and the automatic choice read the
// same state, through a socket path socat's address syntax cannot take (a
// comma: auto picks python3); a client the host lacks fails clearly.
func TestLabHaproxyClients(t *testing.T) {
	h, conn := haproxyLab(t)
	ctx := context.Background()
	if _, _, err := h.Exec(ctx, "ln", "-s", "admin.sock", haproxyLabDir+"/odd,name:x.sock"); err != nil {
		t.Fatal(err)
	}
	var want string
	for _, tc := range []struct{ client, socket string }{
		{"socat", "admin.sock"}, {"python3", "admin.sock"}, {"", "admin.sock"}, {"", "odd,name:x.sock"},
	} {
		if _, err := exec.LookPath(tc.client); tc.client != "" && err != nil {
			t.Skipf("%s not installed (scripts/test.sh installs it)", tc.client)
		}
		m := newHaproxyT(t, "state: disabled\nhost: web1\nsocket: '"+haproxyLabDir+"/"+tc.socket+"'")
		m.client = tc.client
		c, err := m.Check(ctx, conn)
		if err != nil || c.Failed || !c.Changed() {
			t.Fatalf("%s %s: %v %+v", tc.client, tc.socket, err, c)
		}
		if want == "" {
			want = c.Summary
		} else if c.Summary != want {
			t.Fatalf("%s %s: %q, want %q", tc.client, tc.socket, c.Summary, want)
		}
	}
	m := newHaproxyT(t, "state: disabled\nhost: web1\nsocket: "+haproxyLabDir+"/admin.sock")
	m.client = "no-such-client"
	if c, err := m.Check(ctx, conn); err != nil || !c.Failed || !strings.Contains(c.Msg, "socat or python3: neither is in PATH") {
		t.Fatalf("no client: %v %+v", err, c)
	}
}

// haproxySameRows compares two reads of show stat on what a check must
// not change: every line's status and weight.
func haproxySameRows(a, b []haproxyRow) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Px != b[i].Px || a[i].Sv != b[i].Sv || a[i].Weight != b[i].Weight ||
			strings.Fields(a[i].Status + " x")[0] != strings.Fields(b[i].Status + " x")[0] {
			return false
		}
	}
	return true
}

// equalAny compares a registered []string with want.
func equalAny(got any, want []string) bool {
	g, ok := got.([]string)
	if !ok || len(g) != len(want) {
		return false
	}
	for i := range g {
		if g[i] != want[i] {
			return false
		}
	}
	return true
}
