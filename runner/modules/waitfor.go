package modules

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// waitForSpec waits, from the remote host's own view of the network, until a
// port accepts connections, stops accepting them, or has drained: Ansible's
// wait_for. It only observes, so it runs in check mode too.
var waitForSpec = Spec{New: newWaitFor, RunsInCheckMode: true, Waits: true}

// waitForArgs are the YAML arguments of wait_for.
type waitForArgs struct {
	Port int `yaml:"port"`
	// Path is a file to wait for (present) or to go away (absent).
	Path string `yaml:"path"`
	// SearchRegex is a Python regexp the file's content, or the first bytes
	// the port sends (its greeting), must match.
	SearchRegex string `yaml:"search_regex"`
	Host        string `yaml:"host"`
	State       string `yaml:"state"`
	// ActiveConnectionStates are the states that count as a connection for
	// state: drained (Ansible's default list).
	ActiveConnectionStates []string      `yaml:"active_connection_states"`
	Timeout                time.Duration `yaml:"timeout"`
	Delay                  time.Duration `yaml:"delay"`
	Sleep                  time.Duration `yaml:"sleep"`
	Msg                    string        `yaml:"msg"`
}

// waitForModule is one wait_for task.
type waitForModule struct {
	port                  int
	host, state, msg      string
	path                  string
	search                *pyRegexp
	searchSrc             string
	active                []uint8
	timeout, delay, sleep time.Duration
}

// minPoll is the shortest interval between two probes.
const minPoll = 200 * time.Millisecond

var defaultActiveStates = []string{"established", "fin-wait-1", "fin-wait-2", "syn-recv", "syn-sent", "time-wait"}

func newWaitFor(a Args) (Module, error) {
	args := waitForArgs{Host: "127.0.0.1", State: "started", Timeout: 60 * time.Second, Sleep: time.Second,
		ActiveConnectionStates: defaultActiveStates}
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	if err := checkPortArg(a, "wait_for", "port", args.Port, false); err != nil {
		return nil, err
	}
	if err := checkHostArg(a, "wait_for", "host", args.Host); err != nil {
		return nil, err
	}
	switch args.State {
	case "started", "stopped", "drained", "present", "absent":
	default:
		if !hasTemplate(args.State) {
			return nil, posErr(a.File, argValueNode(a.Node, "state"), "wait_for", "state must be started, stopped, drained, present or absent, not %q%s",
				args.State, yamlnode.DidYouMean(args.State, []string{"started", "stopped", "drained", "present", "absent"}))
		}
	}
	m := &waitForModule{port: args.Port, host: args.Host, state: args.State, msg: args.Msg, path: args.Path,
		timeout: args.Timeout, delay: args.Delay, sleep: max(args.Sleep, minPoll)}
	if err := m.checkTargetArgs(a, args); err != nil {
		return nil, err
	}
	for _, s := range args.ActiveConnectionStates {
		code, ok := parseStateName(s)
		if !ok && !hasTemplate(s) {
			return nil, posErr(a.File, argValueNode(a.Node, "active_connection_states"), "wait_for", "unknown TCP state %q", s)
		}
		m.active = append(m.active, code)
	}
	return m, nil
}

// Check does the waiting: it is an observation, real in check mode too. A
// timeout is a failed result, not an error.
func (m *waitForModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	start := time.Now()
	deadline := start.Add(m.timeout)
	if err := sleepCtx(ctx, m.delay); err != nil {
		return plan.Change{}, err
	}
	switch {
	case m.path != "":
		return m.checkPath(ctx, conn, start, deadline)
	case m.port == 0:
		// Neither port nor path: Ansible sleeps for timeout.
		if err := sleepCtx(ctx, time.Until(deadline)); err != nil {
			return plan.Change{}, err
		}
		return plan.Change{Action: plan.Read, Data: map[string]any{"elapsed": time.Since(start).Round(time.Millisecond).Seconds()},
			Summary: fmt.Sprintf("waited %s", m.timeout)}, nil
	case m.search != nil:
		return m.checkGreeting(ctx, conn, start, deadline)
	}
	var conns int
	for {
		var done bool
		if m.state == "drained" {
			sc, _, err := scanPort(ctx, conn, m.port, false)
			if err != nil {
				return plan.Change{}, err
			}
			conns = 0
			for code, n := range summarizePort(sc, m.port, 0, m.active, probeLedgerFrom(ctx).own(m.port)).Counts {
				if code != tcpListen {
					conns += n
				}
			}
			done = conns == 0
		} else {
			// The whole wait loops on the host: one command.
			var err error
			if _, done, err = waitPort(ctx, conn, m.host, m.port, false, m.state == "started", max(time.Until(deadline), 0), m.sleep); err != nil {
				return plan.Change{}, err
			}
		}
		elapsed := time.Since(start)
		data := map[string]any{"port": m.port, "host": m.host, "state": m.state,
			"elapsed": elapsed.Round(time.Millisecond).Seconds(), "connections": conns}
		target := net.JoinHostPort(m.host, strconv.Itoa(m.port))
		if done {
			return plan.Change{Action: plan.Read, Data: data,
				Summary: fmt.Sprintf("%s is %s after %s", target, m.state, elapsed.Round(100*time.Millisecond))}, nil
		}
		if time.Now().Add(m.sleep).After(deadline) {
			msg := m.msg
			if msg == "" {
				msg = fmt.Sprintf("timeout: %s not %s after %s", target, m.state, m.timeout)
				if m.state == "drained" {
					msg += fmt.Sprintf(" (%d connections left)", conns)
				}
			}
			return plan.Change{Action: plan.Read, Failed: true, Msg: msg, Data: data}, nil
		}
		if m.state == "drained" {
			report(ctx, fmt.Sprintf("waiting for %s to drain (%d connections left)", portTarget(m.host, m.port), conns))
		}
		if err := sleepCtx(ctx, m.sleep); err != nil {
			return plan.Change{}, err
		}
	}
}

// Apply never runs for an observation; it returns the planned result.
func (m *waitForModule) Apply(_ context.Context, _ transport.Conn, planned plan.Change) (plan.Change, error) {
	return planned, nil
}

// probeResult is one probe of a port from the remote host.
type probeResult struct {
	Listening bool // a LISTEN socket on the port in the host's namespace
	Accepts   bool // a connection to host:port succeeded
	Greeting  bool // the ActiveMQ magic was read from the new connection
	// NoBash is set when the host has no bash: Accepts is then Listening.
	NoBash bool
}

// probeScript reports whether port $2 (hex $3) listens and whether $1:$2
// accepts a connection; with $4 = 1 it reads the first bytes the server
// sends, looking for the OpenWire magic "ActiveMQ" of a WireFormatInfo.
// $5 is the constant bash program probeConnect.
const probeScript = `if cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q -E "^ *[0-9]+: [0-9A-F]+:$3 [0-9A-F]+:[0-9A-F]+ 0A "
then echo listen=1; else echo listen=0; fi
command -v bash >/dev/null 2>&1 || { echo nobash=1; exit 0; }
LC_ALL=C timeout 3 bash -c "$5" tend-probe "$1" "$2" "$4" 2>/dev/null
exit 0
`

// probeConnect connects with bash's /dev/tcp, prints the connection's local
// address (probe_ss= or probe_proc=, for ProbeLedger), and reads at most 512
// bytes for up to 2 s, byte by byte in the C locale (NUL bytes are dropped
// by read, the magic is kept).
const probeConnect = `{ exec 3<>"/dev/tcp/$1/$2"; } 2>/dev/null || { echo accept=0; exit 0; }
echo accept=1
# The connection's local address and port, so that tend's socket counts can
# leave it out (see probes.go): the line holding its socket's inode.
ino=$(readlink "/proc/$$/fd/3" 2>/dev/null); ino=${ino#socket:[}; ino=${ino%]}
found=
if [[ -n $ino ]] && command -v ss >/dev/null 2>&1; then
  while read -r _ _ _ local _ rest; do
    [[ " $rest " == *" ino:$ino "* ]] && { echo "probe_ss=$local"; found=1; break; }
  done < <(ss -tnHe state connected "( dport = :$2 )" 2>/dev/null)
fi
if [[ -n $ino && -z $found ]]; then
  while read -r _ local _ _ _ _ _ _ _ i _; do
    [[ $i == "$ino" ]] && { echo "probe_proc=$local"; break; }
  done < <(grep -h -F " $ino " /proc/net/tcp /proc/net/tcp6 2>/dev/null)
fi
[ "$3" = 1 ] || exit 0
buf=
for ((i = 0; i < 512; i++)); do
  IFS= read -r -N 1 -t 2 c <&3 || break
  buf+=$c
  [[ $buf == *ActiveMQ* ]] && { echo greeting=1; exit 0; }
done
echo greeting=0
`

// probeTimeout bounds one run of probeScript on the host.
const probeTimeout = 15 * time.Second

// probePort runs one probe of host:port on the remote host. A probe that
// times out is run once more: it only reads, and one session that a host
// too loaded to answer within probeTimeout (a broker host thrashing, a lab
// of 1,000 hosts on two cores) was slow to run should not fail the task;
// a second timeout does, and says it was tried twice.
func probePort(ctx context.Context, conn transport.Conn, host string, port int, greeting bool) (probeResult, error) {
	g := "0"
	if greeting {
		g = "1"
	}
	cmd := transport.Command{
		Argv:    []string{"/bin/sh", "-c", probeScript, "tend-probe", host, strconv.Itoa(port), fmt.Sprintf("%04X", port), g, probeConnect},
		Timeout: probeTimeout, MaxOutput: 4096,
	}
	res, err := conn.Run(ctx, cmd)
	if err != nil && errors.Is(err, transport.ErrTimeout) && ctx.Err() == nil {
		if res, err = conn.Run(ctx, cmd); err != nil && errors.Is(err, transport.ErrTimeout) {
			err = fmt.Errorf("%w (tried twice)", err)
		}
	}
	if err != nil {
		return probeResult{}, fmt.Errorf("probe %s:%d: %w", host, port, err)
	}
	recordProbes(ctx, port, string(res.Stdout))
	r := parseProbe(string(res.Stdout))
	if r.NoBash {
		r.Accepts = r.Listening
	}
	return r, nil
}

// pollPortScript probes like probeScript, in a loop on the host itself, until
// the port is in the wanted state ($5 = 1: accepts, with the greeting when $4
// = 1; $5 = 0: refuses) or $6 milliseconds have passed, sleeping $7 seconds
// between probes. It prints the last probe's result and how many probes ran:
// one SSH session for the whole wait instead of one per probe. While it
// waits, it prints on stderr the state of each probe that differs from the
// one before ("tend-wait listen=1 accept=1 greeting=0"). A loopback
// address is only connected to once a socket listens on the port. Without bash
// it prints nobash=1 and the caller polls probe by probe. $8 is probeConnect.
const pollPortScript = `command -v bash >/dev/null 2>&1 || { echo nobash=1; exit 0; }
exec bash -c '
LC_ALL=C
clock() { if [[ -n ${EPOCHREALTIME-} ]]; then local t=${EPOCHREALTIME//[.,]/}; now=$((10#$t / 1000)); else now=$((SECONDS * 1000)); fi; }
clock; end=$((now + $6)); polls=0 probes= nprobes=0
while :; do
  polls=$((polls + 1)) listen=0 accept=0 greeting=0
  # ss asked for listeners only (not -l: that adds closed sockets) does not
  # walk the connections (TIME_WAIT included) as reading /proc/net/tcp does.
  if l=$(ss -tnH state listening "( sport = :$2 )" 2>/dev/null); then [ -n "$l" ] && listen=1
  else grep -q -E "^ *[0-9]+: [0-9A-F]+:$3 [0-9A-F]+:[0-9A-F]+ 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null && listen=1; fi
  # Nothing listening on the port here: a loopback connect would be refused.
  out=
  case $listen:$1 in 0:127.*|0:::1|0:localhost) ;; *) out=$(timeout 3 bash -c "$8" tend-probe "$1" "$2" "$4" 2>/dev/null) ;; esac
  [[ $out == *accept=1* ]] && accept=1
  [[ $out == *greeting=1* ]] && greeting=1
  # Every connection a probe made, for ProbeLedger (at most 100 listed).
  set -f
  for w in $out; do [[ $w == probe_* && $nprobes -lt 100 ]] && probes+=" $w" nprobes=$((nprobes + 1)); done
  set +f
  if [[ $5 == 1 ]]; then [[ $accept == 1 && ( $4 != 1 || $greeting == 1 ) ]] && break
  else [[ $accept == 0 ]] && break; fi
  # Still waiting: say so on stderr when the state changed (progress.go).
  state="listen=$listen accept=$accept greeting=$greeting"
  [[ $state != "${last-}" ]] && echo "tend-wait $state" >&2
  last=$state
  clock; (( now >= end )) && break
  sleep "$7"
done
echo "listen=$listen accept=$accept greeting=$greeting polls=$polls$probes"
' tend-poll "$@"
`

// waitPort waits on the remote host until host:port accepts connections
// (accept true; with the ActiveMQ greeting when greeting is set) or refuses
// them (accept false), for up to timeout, probing every interval. It returns
// the last probe and whether the wanted state was reached.
func waitPort(ctx context.Context, conn transport.Conn, host string, port int, greeting, accept bool, timeout, interval time.Duration) (probeResult, bool, error) {
	reached := func(r probeResult) bool {
		if !accept {
			return !r.Accepts
		}
		return r.Accepts && (!greeting || r.Greeting)
	}
	flag := func(b bool) string { return map[bool]string{true: "1", false: "0"}[b] }
	goal := waitGoal(host, port, greeting, accept)
	report(ctx, "waiting for "+goal)
	defer report(ctx, "")
	cmd := transport.Command{
		Argv: []string{"/bin/sh", "-c", pollPortScript, "tend-wait", host, strconv.Itoa(port), fmt.Sprintf("%04X", port),
			flag(greeting), flag(accept), strconv.FormatInt(timeout.Milliseconds(), 10),
			strconv.FormatFloat(interval.Seconds(), 'f', 3, 64), probeConnect},
		// Each probe is bounded (timeout 3 and read -t 2): the loop ends
		// within timeout plus one probe.
		Timeout: timeout + 15*time.Second, MaxOutput: 16 << 10,
	}
	if tap := newWaitTap(ctx, goal, greeting, accept); tap != nil {
		cmd.StderrTap = tap // set only when someone listens: a nil *waitTap is no nil Writer
	}
	res, err := conn.Run(ctx, cmd)
	if err != nil {
		return probeResult{}, false, fmt.Errorf("wait for %s:%d: %w", host, port, err)
	}
	out := string(res.Stdout)
	recordProbes(ctx, port, out)
	if strings.Contains(out, "nobash=1") || !strings.Contains(out, "polls=") {
		// No bash (or the loop did not run): poll probe by probe from here.
		deadline := time.Now().Add(timeout)
		for {
			r, err := probePort(ctx, conn, host, port, greeting)
			if err != nil || reached(r) || (r.NoBash && greeting && accept) || time.Now().Add(interval).After(deadline) {
				return r, err == nil && reached(r), err
			}
			report(ctx, "waiting for "+goal+" ("+waitState(r, greeting, accept)+")")
			if err := sleepCtx(ctx, interval); err != nil {
				return r, false, err
			}
		}
	}
	r := parseProbe(out)
	return r, reached(r), nil
}

// parseProbe reads the words probeScript and pollPortScript print.
func parseProbe(out string) probeResult {
	var r probeResult
	for _, f := range strings.Fields(out) {
		switch f {
		case "listen=1":
			r.Listening = true
		case "accept=1":
			r.Accepts = true
		case "greeting=1":
			r.Greeting = true
		case "nobash=1":
			r.NoBash = true
		}
	}
	return r
}

// sleepCtx sleeps for d unless ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// argValueNode returns the value node of key in mapping n (n itself when
// the key is absent, so errors still carry a position).
func argValueNode(n *yaml.Node, key string) *yaml.Node {
	if v, ok := lookupArg(n, key); ok {
		return v
	}
	return n
}

// lookupArg returns the value node of key in mapping n, if present.
func lookupArg(n *yaml.Node, key string) (*yaml.Node, bool) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1], true
		}
	}
	return nil, false
}

// hasTemplate reports an unrendered {{ ... }}: during static validation a
// templated value is not judged.
func hasTemplate(s string) bool { return yamlnode.IsTemplateText(s) }

// checkPortArg validates a port argument; zero is accepted when the key's
// value is an unrendered template, or when the port is optional.
func checkPortArg(a Args, module, key string, port int, required bool) error {
	v := argValueNode(a.Node, key)
	if port == 0 && (!required || (v != nil && hasTemplate(v.Value))) {
		return nil
	}
	if port < 1 || port > 65535 {
		return posErr(a.File, v, module, "%s must be a port between 1 and 65535, not %d", key, port)
	}
	return nil
}

var hostArgRE = regexp.MustCompile(`^[A-Za-z0-9_.:\[\]%-]+$`)

// checkHostArg accepts an IP address or a host name, never anything that
// could be read as an option or carry shell syntax.
func checkHostArg(a Args, module, key, host string) error {
	if hasTemplate(host) {
		return nil
	}
	if host == "" || strings.HasPrefix(host, "-") || !hostArgRE.MatchString(host) {
		return posErr(a.File, argValueNode(a.Node, key), module, "%s: not a host name or IP address: %q", key, host)
	}
	return nil
}
