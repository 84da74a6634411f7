package modules

import (
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"tend/internal/yamlnode"
)

// haproxySpec sets a HAProxy backend server's state (enabled, disabled,
// drain) and weight through HAProxy's runtime API, as
// community.general.haproxy does: the same commands on the stats socket
// of the host, and changed when `show stat`'s status, weight and current
// sessions of the server differ before and after. Unlike the module (which
// does not support check mode), Check predicts the change from `show stat`.
var haproxySpec = Spec{New: newHaproxy, Verifiable: true}

// haproxyDefaultSocket is the module's default socket.
const haproxyDefaultSocket = "/var/run/haproxy.sock"

// haproxyArgs are the YAML arguments of community.general.haproxy.
type haproxyArgs struct {
	State            string `yaml:"state"`
	Host             string `yaml:"host"`
	Backend          string `yaml:"backend"`
	Weight           string `yaml:"weight"`
	Socket           string `yaml:"socket"`
	ShutdownSessions bool   `yaml:"shutdown_sessions"`
	FailOnNotFound   bool   `yaml:"fail_on_not_found"`
	Health           bool   `yaml:"health"`
	Agent            bool   `yaml:"agent"`
	Wait             bool   `yaml:"wait"`
	WaitRetries      *int   `yaml:"wait_retries"`
	WaitInterval     *int   `yaml:"wait_interval"`
	Drain            bool   `yaml:"drain"`
}

// haproxyModule is one haproxy task.
type haproxyModule struct {
	state, host, backend, weight, socket    string
	shutdownSessions, failOnNotFound, drain bool
	wait                                    bool
	waitRetries                             int
	waitInterval                            time.Duration
	// client forces the socket client the host's script uses (a socat or
	// python3 program); empty picks socat when present, else python3 (tests).
	client string
}

// haproxyStates are the module's choices of state.
var haproxyStates = []string{"enabled", "disabled", "drain"}

// haproxyNameRE is what HAProxy accepts in a proxy or server name (its
// invalid_char(): letters, digits, '-', '_', '.', ':'). Names go into
// HAProxy commands, where a space or ';' would be syntax.
var haproxyNameRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

// haproxyWeightRE is a weight HAProxy's `set weight` takes: an absolute
// one (0 to 256) or one relative to the initial weight ("50%").
var haproxyWeightRE = regexp.MustCompile(`^[0-9]{1,5}%?$`)

func newHaproxy(a Args) (Module, error) {
	bad := func(key, format string, v ...any) error {
		return posErr(a.File, argValueNode(a.Node, key), "haproxy", format, v...)
	}
	var args haproxyArgs
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	var missing []string
	for _, k := range []string{"host", "state"} {
		if v, ok := lookupArg(a.Node, k); !ok || yamlnode.IsNull(v) {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, posErr(a.File, a.Node, "haproxy", "missing required arguments: %s", strings.Join(missing, ", "))
	}
	m := &haproxyModule{state: args.State, host: args.Host, backend: args.Backend, weight: args.Weight,
		socket: args.Socket, shutdownSessions: args.ShutdownSessions, failOnNotFound: args.FailOnNotFound,
		drain: args.Drain, wait: args.Wait, waitRetries: 25, waitInterval: 5 * time.Second}
	if m.socket == "" {
		m.socket = haproxyDefaultSocket
	}
	if args.WaitRetries != nil {
		m.waitRetries = *args.WaitRetries
	}
	if args.WaitInterval != nil {
		m.waitInterval = time.Duration(*args.WaitInterval) * time.Second
	}
	if !hasTemplate(m.state) && !contains(haproxyStates, m.state) {
		hint := yamlnode.DidYouMean(m.state, haproxyStates)
		if !strings.HasPrefix(hint, "; did you mean") {
			hint = "" // the choices are listed already
		}
		return nil, bad("state", "value of state must be one of: %s, got: %s%s", strings.Join(haproxyStates, ", "), m.state, hint)
	}
	for _, n := range []struct{ key, v string }{{"host", m.host}, {"backend", m.backend}} {
		if _, given := lookupArg(a.Node, n.key); !given || hasTemplate(n.v) {
			continue
		}
		if !haproxyNameRE.MatchString(n.v) {
			return nil, bad(n.key, "%s %q is not a HAProxy name (letters, digits, '-', '_', '.', ':'): it would not be one argument of a HAProxy command", n.key, n.v)
		}
	}
	if w := m.weight; w != "" && !hasTemplate(w) {
		if !haproxyWeightRE.MatchString(w) {
			return nil, bad("weight", "weight %q: want an absolute weight (0 to 256) or a relative one (\"50%%\")", w)
		}
		if n, _ := strconv.Atoi(w); !strings.HasSuffix(w, "%") && n > 256 {
			return nil, bad("weight", "Absolute weight can only be between 0 and 256 inclusive (got %s)", w)
		}
	}
	if s := m.socket; !hasTemplate(s) && (!path.IsAbs(s) || strings.ContainsAny(s, "\x00\n")) {
		return nil, bad("socket", "socket %q must be an absolute path (tend expands no ~)", s)
	}
	if args.WaitRetries != nil && *args.WaitRetries < 0 && !templatedArg(a.Node, "wait_retries") {
		return nil, bad("wait_retries", "wait_retries must not be negative")
	}
	if args.WaitInterval != nil && *args.WaitInterval < 0 && !templatedArg(a.Node, "wait_interval") {
		return nil, bad("wait_interval", "wait_interval must not be negative")
	}
	for _, k := range []string{"health", "agent"} {
		if (k == "health" && args.Health) || (k == "agent" && args.Agent) {
			return nil, bad(k, "%s: true is not supported by tend's haproxy yet (it cannot predict what enabling or disabling %s checks does to the status)", k, k)
		}
	}
	return m, nil
}

// haproxyPass is one of the module's passes over the backends: a command
// line per backend (HAProxy commands joined by "; ", one connection) and,
// with wait, the status the server must reach after it.
type haproxyPass struct {
	line func(backend string) string
	want string
}

// passes are the module's passes for its state, given the HAProxy version
// (drain needs 1.5 or later: the module does nothing at all for drain, nor
// for disabled with drain, on an older or unknown version).
func (m *haproxyModule) passes(major, minor int, versionKnown bool) []haproxyPass {
	sv := func(b string) string { return b + "/" + m.host }
	enable := haproxyPass{want: "UP", line: func(b string) string {
		l := "get weight " + sv(b) + "; enable server " + sv(b)
		if m.weight != "" {
			l += "; set weight " + sv(b) + " " + m.weight
		}
		return l
	}}
	disable := haproxyPass{want: "MAINT", line: func(b string) string {
		l := "get weight " + sv(b) + "; disable server " + sv(b)
		if m.shutdownSessions {
			l += "; shutdown sessions server " + sv(b)
		}
		return l
	}}
	drain := haproxyPass{want: "DRAIN", line: func(b string) string { return "set server " + sv(b) + " state drain" }}
	drainable := versionKnown && (major > 1 || (major == 1 && minor >= 5))
	switch {
	case m.state == "enabled":
		return []haproxyPass{enable}
	case m.state == "disabled" && m.drain:
		if !drainable {
			return nil
		}
		return []haproxyPass{drain, disable}
	case m.state == "disabled":
		return []haproxyPass{disable}
	case m.state == "drain" && drainable:
		return []haproxyPass{drain}
	}
	return nil
}

// needsVersion: only drain asks HAProxy its version (`show info`).
func (m *haproxyModule) needsVersion() bool {
	return m.state == "drain" || (m.state == "disabled" && m.drain)
}
