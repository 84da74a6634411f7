package modules

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"tend/runner/plan"
	"tend/runner/transport"
)

// fakeHaproxy is a stand-in for HAProxy's runtime API on a unix socket:
// the commands the module sends, one line per connection (commands split
// on ';'), answered as HAProxy 2.6 answers them, over a model of its
// servers' admin state. It proves tend's reading and planning; the lab
// test proves them against the real HAProxy.
type fakeHaproxy struct {
	mu       sync.Mutex
	path     string
	version  string
	servers  []*fakeServer
	received []string // every command line, in order
}

// fakeServer is one server: admin "" (ready), "maint" or "drain"; down
// when its checks fail.
type fakeServer struct {
	px, sv           string
	admin            string
	checked, down    bool
	uweight, iweight int
	scur             int
}

func (s *fakeServer) status() string {
	switch {
	case s.admin == "maint":
		return "MAINT"
	case s.down:
		return "DOWN"
	case s.admin == "drain":
		return "DRAIN"
	case s.checked:
		return "UP"
	}
	return "no check"
}

// startFakeHaproxy listens on a socket in a temporary directory.
func startFakeHaproxy(t *testing.T, servers ...*fakeServer) *fakeHaproxy {
	t.Helper()
	f := &fakeHaproxy{path: filepath.Join(t.TempDir(), "admin.sock"), version: "2.6.12-1+deb12u4", servers: servers}
	l, err := net.Listen("unix", f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			line, _ := bufio.NewReader(c).ReadString('\n')
			f.mu.Lock()
			f.received = append(f.received, strings.TrimSuffix(line, "\n"))
			var out strings.Builder
			for _, cmd := range strings.Split(strings.TrimSuffix(line, "\n"), ";") {
				out.WriteString(f.answer(strings.TrimSpace(cmd)))
			}
			f.mu.Unlock()
			c.Write([]byte(out.String()))
			c.Close()
		}
	}()
	return f
}

func (f *fakeHaproxy) find(name string) *fakeServer {
	px, sv, _ := strings.Cut(name, "/")
	for _, s := range f.servers {
		if s.px == px && s.sv == sv {
			return s
		}
	}
	return nil
}

// answer is HAProxy's reply to one command (f.mu held).
func (f *fakeHaproxy) answer(cmd string) string {
	w := strings.Fields(cmd)
	switch {
	case cmd == "show stat":
		var b strings.Builder
		b.WriteString("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,check_status,\n")
		b.WriteString("fe,FRONTEND,,,0,0,100,0,0,0,0,0,0,,,,,OPEN,,,,,\n")
		var last string
		for i, s := range f.servers {
			chk := ""
			if s.checked {
				chk = "L4OK"
			}
			fmt.Fprintf(&b, "%s,%s,0,0,%d,0,,0,0,0,,0,,0,0,0,0,%s,%d,1,0,%s,\n", s.px, s.sv, s.scur, s.status(), s.uweight, chk)
			if last = s.px; i+1 == len(f.servers) || f.servers[i+1].px != last {
				fmt.Fprintf(&b, "%s,BACKEND,0,0,0,0,10,0,0,0,0,0,,0,0,0,0,UP,1,1,0,,\n", last)
			}
		}
		return b.String() + "\n"
	case cmd == "show info":
		return "Name: HAProxy\nVersion: " + f.version + "\nRelease_date: 2025/01/01\n\n"
	case cmd == "show servers state":
		var b strings.Builder
		b.WriteString("1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight\n")
		for _, s := range f.servers {
			fmt.Fprintf(&b, "3 %s 1 %s 127.0.0.1 2 0 %d %d\n", s.px, s.sv, s.uweight, s.iweight)
		}
		return b.String() + "\n"
	case len(w) >= 3 && w[0] == "get" && w[1] == "weight":
		if s := f.find(w[2]); s != nil {
			return fmt.Sprintf("%d (initial %d)\n\n", s.uweight, s.iweight)
		}
	case len(w) == 3 && (w[0] == "enable" || w[0] == "disable") && w[1] == "server":
		if s := f.find(w[2]); s != nil {
			s.admin = map[string]string{"enable": "", "disable": "maint"}[w[0]]
			return "\n"
		}
	case len(w) == 5 && w[0] == "set" && w[1] == "server" && w[3] == "state" && w[4] == "drain":
		if s := f.find(w[2]); s != nil {
			s.admin = "drain"
			return "\n"
		}
	case len(w) == 4 && w[0] == "set" && w[1] == "weight":
		if s := f.find(w[2]); s != nil {
			n, _ := strconv.Atoi(strings.TrimSuffix(w[3], "%"))
			if strings.HasSuffix(w[3], "%") {
				n = s.iweight * n / 100
			}
			s.uweight = n
			return "\n"
		}
	case len(w) == 4 && w[0] == "shutdown" && w[1] == "sessions":
		if s := f.find(w[3]); s != nil {
			s.scur = 0
			return "\n"
		}
	default:
		return "Unknown command.\n\n"
	}
	return "No such server.\n\n"
}

// haproxyFakeServers are two backends: www (web1 ready, web2 in
// maintenance, web3 draining) and api (web1 checked and up).
func haproxyFakeServers() []*fakeServer {
	return []*fakeServer{
		{px: "www", sv: "web1", uweight: 10, iweight: 10},
		{px: "www", sv: "web2", admin: "maint", uweight: 1, iweight: 1},
		{px: "www", sv: "web3", admin: "drain", uweight: 1, iweight: 1},
		{px: "api", sv: "web1", checked: true, uweight: 4, iweight: 8},
	}
}

// TestHaproxyCheckApplyFake runs Check, Apply and a second Check against
// the fake through the real socket script on this machine (its python3
// client): the prediction is what Apply does, the commands are the
// module's, and nothing is left to do after.
func TestHaproxyCheckApplyFake(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	ctx := context.Background()
	for _, tc := range []struct {
		src      string
		changed  bool
		sent     []string // command lines Apply sends (reads left out)
		statuses string   // www/web1 www/web2 www/web3 api/web1 after, "status:weight"
		failed   string
	}{
		{"state: disabled\nhost: web1", true,
			[]string{"get weight www/web1; disable server www/web1", "get weight api/web1; disable server api/web1"},
			"MAINT:10 MAINT:1 DRAIN:1 MAINT:4", ""},
		{"state: disabled\nhost: web2\nbackend: www", false, nil, "no check:10 MAINT:1 DRAIN:1 UP:4", ""},
		{"state: enabled\nhost: web2\nbackend: www\nweight: 0", true,
			[]string{"get weight www/web2; enable server www/web2; set weight www/web2 0"}, "no check:10 no check:0 DRAIN:1 UP:4", ""},
		{"state: enabled\nhost: web1\nbackend: api\nweight: 50%", false, nil, "no check:10 MAINT:1 DRAIN:1 UP:4", ""},
		{"state: enabled\nhost: web1\nbackend: api\nweight: 25%", true,
			[]string{"get weight api/web1; enable server api/web1; set weight api/web1 25%"}, "no check:10 MAINT:1 DRAIN:1 UP:2", ""},
		{"state: drain\nhost: web1\nbackend: www", true, []string{"set server www/web1 state drain"}, "DRAIN:10 MAINT:1 DRAIN:1 UP:4", ""},
		{"state: disabled\nhost: web3\ndrain: true\nwait: true\nwait_interval: 0", true,
			[]string{"set server www/web3 state drain", "get weight www/web3; disable server www/web3"}, "no check:10 MAINT:1 MAINT:1 UP:4", ""},
		{"state: disabled\nhost: web3\ndrain: true", true,
			[]string{"set server www/web3 state drain", "get weight www/web3; disable server www/web3"}, "no check:10 MAINT:1 MAINT:1 UP:4", ""},
		{"state: disabled\nhost: web3\nfail_on_not_found: true", true,
			[]string{"get weight www/web3; disable server www/web3"}, "no check:10 MAINT:1 MAINT:1 UP:4", "The specified backend 'api/web3' was not found!"},
		{"state: enabled\nhost: web1\nbackend: api\nwait: true\nwait_interval: 0", false, nil, "no check:10 MAINT:1 DRAIN:1 UP:4", ""},
		// Already as asked, but never "UP" (no checks): the module waits, and fails.
		{"state: enabled\nhost: web1\nbackend: www\nwait: true\nwait_retries: 2\nwait_interval: 0", true,
			[]string{"get weight www/web1; enable server www/web1"}, "no check:10 MAINT:1 DRAIN:1 UP:4", "server www/web1 not status 'UP' after 2 retries. Aborting."},
		{"state: disabled\nhost: web2\ndrain: true\nfail_on_not_found: true", true,
			[]string{"set server www/web2 state drain"}, "no check:10 DRAIN:1 DRAIN:1 UP:4", "The specified backend 'api/web2' was not found!"},
	} {
		f := startFakeHaproxy(t, haproxyFakeServers()...)
		m := newHaproxyT(t, tc.src+"\nsocket: "+f.path)
		m.client = fakeHaproxyClient()
		c, err := m.Check(ctx, transport.Local())
		if err != nil {
			t.Fatalf("%q: check: %v", tc.src, err)
		}
		if c.Changed() != tc.changed {
			t.Errorf("%q: check: changed %v, want %v (%s)", tc.src, c.Changed(), tc.changed, c.Summary)
		}
		if got := f.sentChanges(); len(got) > 0 {
			t.Errorf("%q: check sent %q", tc.src, got)
		}
		if tc.failed != "" && !tc.changed && (!c.Failed || c.Msg != tc.failed) {
			t.Errorf("%q: check: failed %v %q, want %q", tc.src, c.Failed, c.Msg, tc.failed)
		}
		if !c.Changed() {
			continue
		}
		a, err := m.Apply(ctx, transport.Local(), c)
		if err != nil {
			t.Fatalf("%q: apply: %v", tc.src, err)
		}
		if got := f.sentChanges(); !reflect.DeepEqual(got, tc.sent) {
			t.Errorf("%q: sent %q, want %q", tc.src, got, tc.sent)
		}
		if got := f.statuses(); got != tc.statuses {
			t.Errorf("%q: after apply %q, want %q", tc.src, got, tc.statuses)
		}
		if tc.failed != "" {
			if !a.Failed || a.Msg != tc.failed {
				t.Errorf("%q: apply: failed %v %q, want %q", tc.src, a.Failed, a.Msg, tc.failed)
			}
			continue
		}
		if a.Failed || !a.Changed() {
			t.Errorf("%q: apply: failed %v %q changed %v", tc.src, a.Failed, a.Msg, a.Changed())
		}
		if cmds, _ := a.Data["command"].([]string); !reflect.DeepEqual(cmds, tc.sent) {
			t.Errorf("%q: registered command %q", tc.src, cmds)
		}
		if c2, err := m.Check(ctx, transport.Local()); err != nil || c2.Changed() {
			t.Errorf("%q: recheck: %v %s", tc.src, err, c2.Summary)
		}
	}
}

// fakeHaproxyClient is the python3 the fake tests use (Debian's, when
// there: a pyenv shim first in PATH costs a quarter of a second a call).
func fakeHaproxyClient() string {
	if _, err := exec.LookPath("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}

// sentChanges is the command lines received other than reads.
func (f *fakeHaproxy) sentChanges() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, l := range f.received {
		if !strings.HasPrefix(l, "show ") {
			out = append(out, l)
		}
	}
	f.received = nil
	return out
}

func (f *fakeHaproxy) statuses() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.servers {
		out = append(out, s.status()+":"+strconv.Itoa(s.uweight))
	}
	return strings.Join(out, " ")
}

// TestHaproxyRegistersFake: what the task registers, as the module's
// exit_json: state_before, state_after, command, output.
func TestHaproxyRegistersFake(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	ctx := context.Background()
	f := startFakeHaproxy(t, haproxyFakeServers()...)
	m := newHaproxyT(t, "state: disabled\nhost: web1\nbackend: www\nsocket: "+f.path)
	m.client = fakeHaproxyClient()
	c, err := m.Check(ctx, transport.Local())
	if err != nil || c.Action != plan.Update {
		t.Fatalf("check: %v %+v", err, c)
	}
	a, err := m.Apply(ctx, transport.Local(), c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"state_before": []any{map[string]any{"status": "no check", "weight": "10", "scur": "0"}},
		"state_after":  []any{map[string]any{"status": "MAINT", "weight": "10", "scur": "0"}},
		"command":      []string{"get weight www/web1; disable server www/web1"},
		"output":       []string{"10 (initial 10)"},
	}
	if !reflect.DeepEqual(a.Data, want) {
		t.Errorf("registered %#v\nwant %#v", a.Data, want)
	}
	// Not found anywhere: null states, nothing sent, ok.
	m = newHaproxyT(t, "state: disabled\nhost: nope\nsocket: "+f.path)
	m.client = fakeHaproxyClient()
	c, err = m.Check(ctx, transport.Local())
	if err != nil || c.Changed() || c.Failed || c.Data["state_before"] != nil || c.Data["state_after"] != nil {
		t.Errorf("not found: %v %+v", err, c)
	}
	// A socket that is not there fails the task, in Python's words.
	m = newHaproxyT(t, "state: disabled\nhost: web1\nsocket: "+f.path+".missing")
	c, err = m.Check(ctx, transport.Local())
	if err != nil || !c.Failed || !strings.HasSuffix(c.Msg, ": [Errno 2] No such file or directory") {
		t.Errorf("missing socket: %v %+v", err, c)
	}
}
