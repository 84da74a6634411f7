package modules

import (
	"reflect"
	"strings"
	"testing"
)

// newHaproxyT builds a haproxy module from YAML arguments, failing the
// test on error.
func newHaproxyT(t *testing.T, src string) *haproxyModule {
	t.Helper()
	m, err := newHaproxy(Args{Node: argsNode(t, src), File: "play.yml"})
	if err != nil {
		t.Fatalf("%q: %v", src, err)
	}
	return m.(*haproxyModule)
}

// TestHaproxyArgErrors: missing, bad or unsupported arguments are refused
// before any host, positioned at the field; names that are not HAProxy
// names never reach a HAProxy command.
func TestHaproxyArgErrors(t *testing.T) {
	for src, want := range map[string]string{
		"host: web1":            "play.yml:1:1: haproxy: missing required arguments: state",
		"state: enabled":        "play.yml:1:1: haproxy: missing required arguments: host",
		"backend: www":          "play.yml:1:1: haproxy: missing required arguments: host, state",
		"state: up\nhost: web1": "play.yml:1:8: haproxy: value of state must be one of: enabled, disabled, drain, got: up",
		"state: enabled\nhost: 'web1; disable server www/web2'": `play.yml:2:7: haproxy: host "web1; disable server www/web2" is not a HAProxy name`,
		"state: enabled\nhost: web1\nbackend: 'www web'":        `play.yml:3:10: haproxy: backend "www web" is not a HAProxy name`,
		"state: enabled\nhost: 'a;b'":                           `play.yml:2:7: haproxy: host "a;b" is not a HAProxy name`,
		"state: enabled\nhost: \"a\\tb\"":                       `play.yml:2:7: haproxy: host "a\tb" is not a HAProxy name`,
		"state: enabled\nhost: web1\nbackend: \"$(id)\"":        `play.yml:3:10: haproxy: backend "$(id)" is not a HAProxy name`,
		"state: enabled\nhost: web1\nbackend: w/x":              `play.yml:3:10: haproxy: backend "w/x" is not a HAProxy name`,
		"state: enabled\nhost: web1\nweight: 257":               "play.yml:3:9: haproxy: Absolute weight can only be between 0 and 256 inclusive (got 257)",
		"state: enabled\nhost: web1\nweight: -1":                `play.yml:3:9: haproxy: weight "-1": want an absolute weight`,
		"state: enabled\nhost: web1\nweight: 5 0":               `play.yml:3:9: haproxy: weight "5 0": want an absolute weight`,
		"state: enabled\nhost: web1\nsocket: run/h.sock":        `play.yml:3:9: haproxy: socket "run/h.sock" must be an absolute path`,
		"state: enabled\nhost: web1\nsocket: ~/h.sock":          `play.yml:3:9: haproxy: socket "~/h.sock" must be an absolute path`,
		"state: enabled\nhost: web1\nwait_retries: -2":          "play.yml:3:15: haproxy: wait_retries must not be negative",
		"state: enabled\nhost: web1\nwait_interval: x":          "play.yml:3:16: ",
		"state: enabled\nhost: web1\nhealth: true":              "play.yml:3:9: haproxy: health: true is not supported by tend's haproxy yet",
		"state: enabled\nhost: web1\nagent: yes":                "play.yml:3:8: haproxy: agent: true is not supported",
		"state: enabled\nhost: web1\nwait: maybe":               "play.yml:3:7: ",
		"state: enabled\nhost: web1\nbogus: 1":                  "play.yml:3:1: ",
	} {
		_, err := newHaproxy(Args{Node: argsNode(t, src), File: "play.yml"})
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: got %v, want prefix %q", src, err, want)
		}
	}
	for _, ok := range []string{"state: enabled\nhost: web1", "state: drain\nhost: '{{ inventory_hostname }}'\nbackend: www",
		"state: '{{ s }}'\nhost: w\nweight: '{{ w }}'", "state: enabled\nhost: web-1.a:b_c\nweight: 50%",
		"state: enabled\nhost: w\nweight: 0", "state: disabled\nhost: w\ndrain: yes\nwait: true\nwait_retries: 3\nwait_interval: 0",
		"state: enabled\nhost: w\nhealth: false\nagent: no", "state: enabled\nhost: w\nsocket: /run/haproxy/admin.sock"} {
		if _, err := newHaproxy(Args{Node: argsNode(t, ok), File: "play.yml"}); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	m := newHaproxyT(t, "state: enabled\nhost: w")
	if m.socket != "/var/run/haproxy.sock" || m.waitRetries != 25 || m.waitInterval.Seconds() != 5 {
		t.Errorf("defaults: %+v", m)
	}
}

// TestHaproxyPasses: the module's command lines for each state, in its
// order, and drain's dependence on the version.
func TestHaproxyPasses(t *testing.T) {
	for _, tc := range []struct {
		src          string
		major, minor int
		known        bool
		want         []string // "LINE => WANT" per pass, for backend www
	}{
		{"state: enabled\nhost: w1", 2, 6, true, []string{"get weight www/w1; enable server www/w1 => UP"}},
		{"state: enabled\nhost: w1\nweight: 50%", 0, 0, false, []string{"get weight www/w1; enable server www/w1; set weight www/w1 50% => UP"}},
		{"state: enabled\nhost: w1\nweight: 0", 0, 0, false, []string{"get weight www/w1; enable server www/w1; set weight www/w1 0 => UP"}},
		{"state: disabled\nhost: w1", 0, 0, false, []string{"get weight www/w1; disable server www/w1 => MAINT"}},
		{"state: disabled\nhost: w1\nshutdown_sessions: true", 0, 0, false, []string{"get weight www/w1; disable server www/w1; shutdown sessions server www/w1 => MAINT"}},
		{"state: drain\nhost: w1", 1, 5, true, []string{"set server www/w1 state drain => DRAIN"}},
		{"state: drain\nhost: w1", 1, 4, true, nil},
		{"state: drain\nhost: w1", 0, 0, false, nil},
		{"state: disabled\nhost: w1\ndrain: true", 2, 6, true, []string{"set server www/w1 state drain => DRAIN", "get weight www/w1; disable server www/w1 => MAINT"}},
		{"state: disabled\nhost: w1\ndrain: true", 0, 0, false, nil},
	} {
		var got []string
		for _, p := range newHaproxyT(t, tc.src).passes(tc.major, tc.minor, tc.known) {
			got = append(got, p.line("www")+" => "+p.want)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q (%d.%d %v): got %q, want %q", tc.src, tc.major, tc.minor, tc.known, got, tc.want)
		}
	}
}

// haproxyStatSample is `show stat` as HAProxy 2.6 prints it (columns cut
// after check_status; a quoted field with a comma in it).
const haproxyStatSample = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,last_chk,
fe,FRONTEND,,,0,0,262130,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,0,,,
www,web1,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,10,1,0,,,5,,,1,3,1,,0,,2,0,,0,,,
www,web2,0,0,2,2,,0,0,0,,0,,0,0,0,0,MAINT,1,1,0,0,0,5,5,,1,3,2,,0,,2,0,,0,L4OK,"a, b",
www,web3,0,0,0,0,,0,0,0,,0,,0,0,0,0,DRAIN,1,1,0,,,5,,,1,3,3,,0,,2,0,,0,,,
www,BACKEND,0,0,0,0,26213,0,0,0,0,0,,0,0,0,0,UP,12,2,0,,0,5,0,,1,3,0,,0,,1,0,,0,,,
api,web1,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,4,1,0,0,0,5,0,,1,4,1,,0,,2,0,,0,L4OK,,
api,api2,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT (via www/web2),1,1,0,,,5,,,1,4,2,,0,,2,0,,0,,,
api,BACKEND,0,0,0,0,26213,0,0,0,0,0,,0,0,0,0,UP,4,1,0,,0,5,0,,1,4,0,,0,,1,0,,0,,,

`

// TestParseHaproxyStat reads the rows, the backends and a server's state
// as the module's get_state_for does.
func TestParseHaproxyStat(t *testing.T) {
	rows, err := parseHaproxyStat(haproxyStatSample)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 8 {
		t.Fatalf("rows: %d: %+v", len(rows), rows)
	}
	if r := rows[2]; r != (haproxyRow{Px: "www", Sv: "web2", Status: "MAINT", Weight: "1", Scur: "2", Checked: true}) {
		t.Errorf("web2: %+v", r)
	}
	if got := haproxyBackends(rows); !reflect.DeepEqual(got, []string{"www", "api"}) {
		t.Errorf("backends: %q", got)
	}
	for _, tc := range []struct {
		px, sv string
		want   []haproxyServerState
	}{
		{"", "web1", []haproxyServerState{{"no check", "10", "0"}, {"UP", "4", "0"}}},
		{"api", "web1", []haproxyServerState{{"UP", "4", "0"}}},
		{"api", "api2", []haproxyServerState{{"MAINT (via www/web2)", "1", "0"}}},
		{"www", "api2", nil},
		{"", "nope", nil},
	} {
		if got := haproxyStateFor(rows, tc.px, tc.sv); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s/%s: got %+v, want %+v", tc.px, tc.sv, got, tc.want)
		}
	}
	if got := haproxyStatesData(nil); got != nil {
		t.Errorf("not found: %v, want nil (null)", got)
	}
	for in, want := range map[string]string{
		"":                         "empty reply",
		"# pxname,svname,weight\n": "no status column",
		"Unknown command.\n":       "no pxname column",
	} {
		_, err := parseHaproxyStat(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error with %q", in, err, want)
		}
	}
}

// TestParseHaproxyVersionAndWeights: show info's Version line (as the
// module reads it) and show servers state's weights.
func TestParseHaproxyVersionAndWeights(t *testing.T) {
	for in, want := range map[string][3]int{
		"Name: HAProxy\nVersion: 2.6.12-1+deb12u4\nRelease_date: 2025/01/01\n": {2, 6, 1},
		"Version: 1.4.24\n": {1, 4, 1},
		"Version: 3\n":      {0, 0, 0},
		"Name: HAProxy\n":   {0, 0, 0},
		"Version: x.y\n":    {0, 0, 0},
	} {
		a, b, ok := parseHaproxyVersion(in)
		if ok != (want[2] == 1) || (ok && (a != want[0] || b != want[1])) {
			t.Errorf("%q: %d.%d %v, want %v", in, a, b, ok, want)
		}
	}
	state := "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change\n" +
		"3 www 1 web1 127.0.0.1 2 0 10 10 5\n3 www 2 web2 127.0.0.1 0 1 0 4 5\n4 api 1 web1 127.0.0.1 2 0 4 4 5\n"
	w, err := parseHaproxyServersState(state)
	if err != nil {
		t.Fatal(err)
	}
	if want := (haproxyWeights{"www/web1": {10, 10}, "www/web2": {0, 4}, "api/web1": {4, 4}}); !reflect.DeepEqual(w, want) {
		t.Errorf("weights: %v", w)
	}
	if _, err := parseHaproxyServersState("1\n# be_id be_name srv_id\n3 www 1\n"); err == nil {
		t.Error("no weight columns: no error")
	}
	for _, tc := range []struct {
		w       string
		initial int
		want    int
	}{{"7", 10, 7}, {"0", 10, 0}, {"50%", 10, 5}, {"50%", 3, 1}, {"100%", 4, 4}, {"0%", 4, 0}, {"200%", 200, 256}, {"99999%", 1, 256}} {
		if got := haproxyTargetWeight(tc.w, tc.initial); got != tc.want {
			t.Errorf("%s of %d: %d, want %d", tc.w, tc.initial, got, tc.want)
		}
	}
}

// TestHaproxyNextStatus: the status show stat shows after each kind of
// pass, from each kind of status.
func TestHaproxyNextStatus(t *testing.T) {
	for _, tc := range []struct {
		from, want string
		checked    bool
		to         string
	}{
		{"UP", "MAINT", true, "MAINT"},
		{"no check", "MAINT", false, "MAINT"},
		{"DRAIN", "MAINT", false, "MAINT"},
		{"DOWN", "MAINT", true, "MAINT"},
		{"MAINT", "MAINT", false, "MAINT"},
		{"MAINT (via www/web2)", "MAINT", false, "MAINT (via www/web2)"},
		{"MAINT", "UP", false, "no check"},
		{"MAINT", "UP", true, "UP"},
		{"DRAIN", "UP", false, "no check"},
		{"DRAIN 1/3", "UP", true, "UP"},
		{"UP 2/3", "UP", true, "UP 2/3"},
		{"DOWN", "UP", true, "DOWN"},
		{"MAINT (resolution)", "UP", false, "MAINT (resolution)"},
		{"UP", "DRAIN", true, "DRAIN"},
		{"no check", "DRAIN", false, "DRAIN"},
		{"MAINT", "DRAIN", false, "DRAIN"},
		{"DRAIN", "DRAIN", false, "DRAIN"},
		{"DOWN 1/2", "DRAIN", true, "DOWN 1/2"},
		{"MAINT (via a/b)", "DRAIN", false, "MAINT (via a/b)"},
	} {
		if got := haproxyNextStatus(tc.from, tc.want, tc.checked); got != tc.to {
			t.Errorf("%q after %s (checked %v): %q, want %q", tc.from, tc.want, tc.checked, got, tc.to)
		}
	}
}

// TestHaproxyPlan: what a task does on the sample, backend given or
// discovered, with the module's fail_on_not_found.
func TestHaproxyPlan(t *testing.T) {
	rows, err := parseHaproxyStat(haproxyStatSample)
	if err != nil {
		t.Fatal(err)
	}
	v := haproxyView{rows: rows, major: 2, minor: 6, versionKnown: true,
		weights: haproxyWeights{"www/web1": {10, 10}, "www/web2": {1, 1}, "api/web1": {4, 8}}}
	for _, tc := range []struct {
		src     string
		changed bool
		fail    string
		steps   []string // "backend: before -> after"
		summary string
	}{
		{"state: disabled\nhost: web1", true, "", []string{"www: no check,10 -> MAINT,10", "api: UP,4 -> MAINT,4"},
			"would set www/web1 to maintenance (now no check, weight 10); would set api/web1 to maintenance (now UP, weight 4)"},
		{"state: disabled\nhost: web2\nbackend: www", false, "", []string{"www: MAINT,1 -> MAINT,1"}, "www/web2: MAINT, weight 1"},
		{"state: enabled\nhost: web2\nbackend: www", true, "", []string{"www: MAINT,1 -> UP,1"}, ""},
		{"state: enabled\nhost: web3", true, "", []string{"www: DRAIN,1 -> no check,1"}, ""},
		{"state: drain\nhost: web3", false, "", []string{"www: DRAIN,1 -> DRAIN,1"}, ""},
		{"state: drain\nhost: web1\nbackend: api", true, "", []string{"api: UP,4 -> DRAIN,4"}, "would set api/web1 to drain (now UP, weight 4)"},
		{"state: disabled\nhost: web3\ndrain: true", true, "", []string{"www: DRAIN,1 -> MAINT,1"}, ""},
		{"state: enabled\nhost: web1\nbackend: www\nweight: 10", false, "", []string{"www: no check,10 -> no check,10"}, ""},
		{"state: enabled\nhost: web1\nbackend: www\nweight: 50%", true, "", []string{"www: no check,10 -> no check,5"},
			"would set the weight of www/web1 to 5 (now 10)"},
		{"state: enabled\nhost: web1\nbackend: api\nweight: 50%", false, "", []string{"api: UP,4 -> UP,4"}, ""},
		{"state: enabled\nhost: web2\nbackend: www\nweight: 3", true, "", []string{"www: MAINT,1 -> UP,3"}, "would set www/web2 ready, weight 3 (now MAINT, weight 1)"},
		{"state: enabled\nhost: api2", false, "", []string{"api: MAINT (via www/web2),1 -> MAINT (via www/web2),1"}, ""},
		{"state: disabled\nhost: nope", false, "", nil, "no server nope in no backend: nothing to do"},
		{"state: disabled\nhost: nope\nbackend: www", false, "", nil, "no server nope in backend www: nothing to do"},
		{"state: disabled\nhost: nope\nbackend: www\nfail_on_not_found: true", false, "The specified backend 'www/nope' was not found!", nil, ""},
		// Discovered: www holds web3, api does not: www is acted on, then the module fails.
		{"state: disabled\nhost: web3\nfail_on_not_found: true", true, "The specified backend 'api/web3' was not found!", []string{"www: DRAIN,1 -> MAINT,1"}, ""},
		// Drain then disable: the module fails in the drain pass; no disable.
		{"state: disabled\nhost: web2\ndrain: true\nfail_on_not_found: true", true, "The specified backend 'api/web2' was not found!", []string{"www: MAINT,1 -> DRAIN,1"}, ""},
		{"state: disabled\nhost: api2\nfail_on_not_found: true", false, "The specified backend 'www/api2' was not found!", nil, ""},
	} {
		m := newHaproxyT(t, tc.src)
		p := m.plan(v)
		var steps []string
		for _, st := range p.steps {
			steps = append(steps, st.backend+": "+st.before.Status+","+st.before.Weight+" -> "+st.after.Status+","+st.after.Weight)
		}
		if p.changed() != tc.changed || p.failMsg != tc.fail || !reflect.DeepEqual(steps, tc.steps) {
			t.Errorf("%q: changed %v fail %q steps %q; want %v %q %q", tc.src, p.changed(), p.failMsg, steps, tc.changed, tc.fail, tc.steps)
		}
		if tc.summary != "" && m.summary(p) != tc.summary {
			t.Errorf("%q: summary %q, want %q", tc.src, m.summary(p), tc.summary)
		}
	}
	// wait: a server already as asked is still waited for, as the module
	// waits, when its status is not yet the one waited for, or (drain)
	// sessions are open.
	for src, want := range map[string][]string{
		"state: enabled\nhost: web1\nbackend: www\nwait: true":               []string{"would wait until www/web1 is UP (now no check)"},
		"state: enabled\nhost: web1\nbackend: api\nwait: true":               nil,
		"state: enabled\nhost: web1\nbackend: api":                           nil,
		"state: disabled\nhost: web2\nbackend: www\nwait: true":              nil,
		"state: disabled\nhost: web2\nbackend: www\nwait: true\ndrain: true": []string{"would wait until www/web2 is MAINT (now MAINT, 2 sessions)"},
		"state: drain\nhost: web3\nwait: true":                               nil,
	} {
		m := newHaproxyT(t, src)
		p := m.plan(v)
		if !reflect.DeepEqual(p.waits, want) || p.acts() != (len(want) > 0 || p.changed()) {
			t.Errorf("%q: waits %q, want %q", src, p.waits, want)
		}
	}
	old := v
	old.versionKnown = false
	m := newHaproxyT(t, "state: drain\nhost: web1")
	if p := m.plan(old); p.changed() || !strings.Contains(m.summary(p), "older than 1.5 or unknown") {
		t.Errorf("drain, unknown version: %v %q", p.changed(), m.summary(p))
	}
	// Without a pass the module looks for nothing: no fail_on_not_found.
	m = newHaproxyT(t, "state: drain\nhost: nope\nfail_on_not_found: true")
	if p := m.plan(old); p.failMsg != "" || len(p.steps) != 0 {
		t.Errorf("drain, unknown version, not found: %+v", p)
	}
}

// TestHaproxyScriptQuoting: the python client is single-quoted in the
// script, so it must hold no single quote; socket replies that are not a
// command's normal answer become warnings.
func TestHaproxyScriptQuoting(t *testing.T) {
	if strings.Contains(haproxyPython, "'") {
		t.Fatal("haproxyPython holds a single quote")
	}
	for reply, want := range map[string]string{
		"":                                    "",
		"\n":                                  "",
		"1 (initial 1)\n\n":                   "",
		"No such server.\n\n":                 "No such server.",
		"Permission denied\n\n":               "Permission denied",
		"10 (initial 10)\nUnknown command.\n": "Unknown command.",
	} {
		if got := haproxyComplaint(reply); got != want {
			t.Errorf("%q: %q, want %q", reply, got, want)
		}
	}
	for stderr, want := range map[string]string{
		"[Errno 2] No such file or directory\n":                                                     "[Errno 2] No such file or directory",
		"2026/12/08 01:00:00 socat[42] E connect(5, AF=1 \"/run/h.sock\", 13): Permission denied\n": "Permission denied",
		"": "exit 4",
	} {
		if got := haproxyErrReason(stderr, 4); got != want {
			t.Errorf("%q: %q, want %q", stderr, got, want)
		}
	}
}
