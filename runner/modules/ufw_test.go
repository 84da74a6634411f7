package modules

import (
	"reflect"
	"strings"
	"testing"
)

// newUfwT builds a ufw module from YAML arguments, failing the test on error.
func newUfwT(t *testing.T, src string) *ufwModule {
	t.Helper()
	m, err := newUfw(Args{Node: argsNode(t, src), File: "play.yml"})
	if err != nil {
		t.Fatalf("%q: %v", src, err)
	}
	return m.(*ufwModule)
}

// TestUfwArgErrors: bad, conflicting or unsupported arguments are refused
// before any host, positioned at the field.
func TestUfwArgErrors(t *testing.T) {
	for src, want := range map[string]string{
		"direction: in":                                         "play.yml:1:1: ufw: one of the following is required: state, default, rule, logging",
		"state: on":                                             "play.yml:1:8: ufw: value of state must be one of: enabled, disabled, reloaded, reset, got: on",
		"policy: drop":                                          "play.yml:1:9: ufw: value of default must be one of: allow, deny, reject, got: drop",
		"rule: accept\nport: 22":                                "play.yml:1:7: ufw: value of rule must be one of: allow, deny, limit, reject, got: accept",
		"rule: allow\nproto: icmp":                              "play.yml:2:8: ufw: value of proto must be one of",
		"rule: allow\nprotocol: sctp":                           "play.yml:2:11: ufw: value of proto must be one of",
		"logging: verbose":                                      "play.yml:1:10: ufw: value of logging must be one of: full, high, low, medium, off, on, got: verbose",
		"rule: allow\ndirection: sideways":                      "play.yml:2:12: ufw: value of direction must be one of",
		"default: deny\ndirection: in":                          `play.yml:2:12: ufw: For default, direction must be one of "outgoing", "incoming" and "routed"`,
		"rule: allow\ndirection: incoming":                      `play.yml:2:12: ufw: For rules, direction must be one of "in" and "out"`,
		"rule: allow\ninterface: eth0":                          "play.yml:2:12: ufw: missing parameter(s) required by 'interface': direction",
		"rule: allow\nif: eth0":                                 "play.yml:2:5: ufw: missing parameter(s) required by 'if': direction",
		"rule: allow\ndirection: in\nif_in: eth0":               "play.yml:3:8: ufw: parameters are mutually exclusive: direction|if_in",
		"rule: allow\nif_in: a\nif_out: b":                      "play.yml:3:9: ufw: Only route rules can combine interface_in and interface_out",
		"rule: allow\nname: OpenSSH\nproto: tcp":                "play.yml:3:8: ufw: parameters are mutually exclusive: name|proto|logging",
		"rule: allow\nproto: tcp\nlogging: on":                  "play.yml:3:10: ufw: parameters are mutually exclusive: name|proto|logging",
		"rule: allow\nport: 22\nto_port: 23":                    "play.yml:3:10: ufw: port and to_port are the same argument; give one",
		"rule: allow\nsrc: 1.2.3.4\nfrom_ip: 1.2.3.5":           "play.yml:3:10: ufw: src and from_ip are the same argument",
		"rule: allow\ninsert: 1\ninsert_relative_to: last-ipv4": "play.yml:3:21: ufw: insert_relative_to: last-ipv4 is not supported by tend's ufw",
		"rule: allow\ninsert: first":                            "play.yml:2:9: ",
		"rule: allow\ndelete: maybe":                            "play.yml:2:9: ",
		"rule: allow\nbogus: 1":                                 "play.yml:2:1: ",
	} {
		_, err := newUfw(Args{Node: argsNode(t, src), File: "play.yml"})
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: got %v, want prefix %q", src, err, want)
		}
	}
	for _, ok := range []string{"state: enabled", "policy: deny\ndirection: routed", "logging: 'on'", "logging: off",
		"rule: '{{ r }}'\nport: '{{ p }}'", "state: '{{ s }}'\ndirection: '{{ d }}'\ndefault: deny",
		"rule: allow\nroute: true\nif_in: a\nif_out: b", "rule: allow\ninsert: 1\ninsert_relative_to: zero",
		"rule: limit\nport: ssh\nproto: tcp"} {
		if _, err := newUfw(Args{Node: argsNode(t, ok), File: "play.yml"}); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

// TestUfwCommands: the ufw command lines built, in the module's order and
// word order, each value one argument.
func TestUfwCommands(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want [][]string
	}{
		{"state: enabled", [][]string{{"-f", "enable"}}},
		{"state: reset", [][]string{{"-f", "reset"}}},
		{"policy: deny", [][]string{{"default", "deny"}}},
		{"default: reject\ndirection: outgoing", [][]string{{"default", "reject", "outgoing"}}},
		{"logging: low", [][]string{{"logging", "low"}}},
		{"rule: allow\nport: 22\nproto: tcp", [][]string{{"allow", "from", "any", "to", "any", "port", "22", "proto", "tcp"}}},
		{"rule: limit\nport: ssh\nproto: tcp\nlog: true", [][]string{{"limit", "log", "from", "any", "to", "any", "port", "ssh", "proto", "tcp"}}},
		{"rule: allow\nsrc: 10.0.0.0/8\nport: '8000:8100'\nproto: tcp\ncomment: app's range; rm -rf /",
			[][]string{{"allow", "from", "10.0.0.0/8", "to", "any", "port", "8000:8100", "proto", "tcp", "comment", "app's range; rm -rf /"}}},
		{"rule: deny\ndelete: true\ninsert: 2\nfrom: 1.2.3.4\nfrom_port: 53\ndest: 5.6.7.8\nto_port: 53\nprotocol: udp",
			[][]string{{"delete", "deny", "from", "1.2.3.4", "port", "53", "to", "5.6.7.8", "port", "53", "proto", "udp"}}},
		{"rule: reject\ninsert: 1\ndirection: out\nif: eth0", [][]string{{"insert", "1", "reject", "out", "on", "eth0", "from", "any", "to", "any"}}},
		{"rule: allow\nroute: true\ninterface_in: eth0\ninterface_out: eth1", [][]string{{"route", "allow", "in", "on", "eth0", "out", "on", "eth1", "from", "any", "to", "any"}}},
		{"rule: allow\napp: OpenSSH", [][]string{{"allow", "from", "any", "to", "any", "app", "OpenSSH"}}},
		{"state: enabled\nlogging: 'on'\nrule: allow\nport: 22\npolicy: deny", [][]string{{"-f", "enable"}, {"default", "deny"},
			{"allow", "from", "any", "to", "any", "port", "22"}, {"logging", "on"}}},
	} {
		var got [][]string
		for _, c := range newUfwT(t, tc.src).commands(true) {
			got = append(got, c.args)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %q\nwant %q", tc.src, got, tc.want)
		}
	}
	// A ufw older than 0.35 has no comments: the module leaves it out.
	got := newUfwT(t, "rule: allow\nport: 22\ncomment: c").ruleArgs(false)
	if want := []string{"allow", "from", "any", "to", "any", "port", "22"}; !reflect.DeepEqual(got, want) {
		t.Errorf("without comments: got %q, want %q", got, want)
	}
}

const ufwTestStatus = "Status: active\nLogging: on (low)\nDefault: deny (incoming), allow (outgoing), disabled (routed)\nNew profiles: skip\n"

// TestUfwPredict: the module's check-mode rules for state, default and
// logging, read from `ufw status verbose`.
func TestUfwPredict(t *testing.T) {
	inactive := "Status: inactive\n"
	pol := map[string]string{"DEFAULT_INPUT_POLICY": "DROP", "DEFAULT_OUTPUT_POLICY": "ACCEPT", "DEFAULT_FORWARD_POLICY": "DROP"}
	for _, tc := range []struct {
		src, status string
		changed     bool
	}{
		{"state: enabled", ufwTestStatus, false},
		{"state: enabled", inactive, true},
		{"state: disabled", inactive, false},
		{"state: disabled", ufwTestStatus, true},
		{"state: reloaded", ufwTestStatus, true},
		{"state: reset", inactive, true},
		{"logging: 'on'", ufwTestStatus, false},
		{"logging: low", ufwTestStatus, false},
		{"logging: high", ufwTestStatus, true},
		{"logging: off", ufwTestStatus, true},
		{"logging: off", "Status: active\nLogging: off\n", false},
		{"logging: low", "Status: active\nLogging: off\n", true},
		{"logging: low", inactive, true},
		{"policy: deny", ufwTestStatus, false},
		{"policy: allow", ufwTestStatus, true},
		{"policy: allow\ndirection: outgoing", ufwTestStatus, false},
		{"policy: deny\ndirection: outgoing", ufwTestStatus, true},
		{"policy: deny\ndirection: routed", ufwTestStatus, false},
		// Routed "disabled" in the status, but the file says otherwise: tend runs it.
		{"policy: allow\ndirection: routed", ufwTestStatus, true},
		{"policy: deny", inactive, true},
	} {
		m := newUfwT(t, tc.src)
		var why string
		switch {
		case m.state != "":
			why = m.predictState(tc.status)
		case m.logging != "":
			why = m.predictLogging(tc.status)
		default:
			why = m.predictDefault(tc.status, pol)
		}
		if (why != "") != tc.changed {
			t.Errorf("%q on %q: got %q, want changed=%v", tc.src, tc.status, why, tc.changed)
		}
	}
}

// TestUfwPredictRule: a dry run's tuples against the user rules files',
// as the module compares them.
func TestUfwPredictRule(t *testing.T) {
	pre := "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n### tuple ### allow tcp 22 ::/0 any ::/0 in\n"
	dry := func(tuples ...string) string {
		return "*filter\n:ufw-user-input - [0:0]\n### RULES ###\n\n" + strings.Join(tuples, "\n-A ufw-user-input -j ACCEPT\n") + "\n### END RULES ###\nCOMMIT\nRules updated\n"
	}
	v4 := "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in"
	v6 := "### tuple ### allow tcp 22 ::/0 any ::/0 in"
	added4 := "### tuple ### allow tcp 8000:8100 0.0.0.0/0 any 10.0.0.0/8 in comment=6170702072616e6765"
	for _, tc := range []struct {
		name, src, dry string
		changed        bool
	}{
		{"existing rule: every line skips", "rule: allow\nport: 22\nproto: tcp", "Skipping adding existing rule\nSkipping adding existing rule (v6)\n", false},
		{"new rule", "rule: allow\nport: 80\nproto: tcp", dry(v4, "### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in") + dry(v6), true},
		{"delete a missing rule: the dry run shows the rules unchanged", "rule: allow\nport: 80\ndelete: true", dry(v4) + dry(v6), false},
		{"delete an existing rule", "rule: allow\nport: 22\nproto: tcp\ndelete: true", dry() + dry(), true},
		{"IPv4 source: only IPv4 tuples compared", "rule: allow\nsrc: 10.0.0.0/8\nport: '8000:8100'\nproto: tcp", dry(v4, added4), true},
		{"IPv4 source, already there", "rule: allow\nsrc: 10.0.0.0/8\nport: 22\nproto: tcp", dry(v4), false},
		{"IPv6 destination, already there", "rule: allow\ndest: '::1'\nport: 22", dry(v6), false},
		{"a comment alone differs", "rule: allow\nport: 22\nproto: tcp\ncomment: ssh", dry(v4+" comment=737368") + dry(v6+" comment=737368"), true},
	} {
		m := newUfwT(t, tc.src)
		why := m.predictRule(pre, tc.dry, m.ruleArgs(true))
		if (why != "") != tc.changed {
			t.Errorf("%s: got %q, want changed=%v", tc.name, why, tc.changed)
		}
	}
}

// TestUfwParse: the version and the read script's sections.
func TestUfwParse(t *testing.T) {
	for out, want := range map[string][3]int{
		"ufw 0.36.2\nCopyright 2008-2023 Canonical Ltd.\n": {6, 2, 1}, // the module's greedy pattern
		"ufw 0.34\n": {0, 34, 1},
		"\n":         {0, 0, 0},
		"nope 1.0\n": {0, 0, 0},
	} {
		ma, mi, ok := ufwParseVersion(out)
		if got := [3]int{ma, mi, map[bool]int{true: 1}[ok]}; got != want {
			t.Errorf("%q: got %v, want %v", out, got, want)
		}
	}
	if (ufwState{major: 0, minor: 34, versionKnown: true}).withComment() || !(ufwState{minor: 35, versionKnown: true}).withComment() {
		t.Error("comments are ufw 0.35's and later")
	}
	if !ufwIPv4Start.MatchString("10.0.0.0/8") || ufwIPv4Start.MatchString("any") || !ufwIPv6Start.MatchString("2001:db8::/32") || ufwIPv6Start.MatchString("any") {
		t.Error("address patterns")
	}
}
