package modules

import (
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tend/runner/transport"
)

// haproxyMarker ends each reply in the socket script's output.
const haproxyMarker = "--tend-haproxy-reply--"

// haproxySocketScript sends HAProxy runtime API commands to the stats
// socket on the host, each on a connection of its own as the module does
// (the command and a newline, then everything HAProxy answers until it
// closes), printing each reply followed by a newline and the marker line.
//
//	sh -c SCRIPT sh SOCKET CLIENT MARKER COMMAND...
//
// Every value is a positional parameter. CLIENT is auto (socat when the
// host has it and the path holds no character socat's address syntax
// reads, else python3), or a socat or python3 program (tests). Exit 4: the socket cannot be
// reached (the reason on stderr, in Python's words where the script tells
// them itself); exit 3: neither client exists.
const haproxySocketScript = `LC_ALL=C; export LC_ALL
py='` + haproxyPython + `'
s=$1 c=$2 m=$3; shift 3
if [ ! -e "$s" ]; then echo "[Errno 2] No such file or directory" >&2; exit 4; fi
if [ ! -S "$s" ]; then echo "[Errno 111] Connection refused" >&2; exit 4; fi
case $c in
auto)
	c=
	case $s in *[!A-Za-z0-9_./@+-]*) ;; *) command -v socat >/dev/null 2>&1 && c=socat ;; esac
	[ -n "$c" ] || { command -v python3 >/dev/null 2>&1 && c=python3; } ;;
*) command -v "$c" >/dev/null 2>&1 || c= ;;
esac
[ -n "$c" ] || { echo "tend's haproxy talks to HAProxy's socket with socat or python3: neither is in PATH ($PATH)" >&2; exit 3; }
case $c in *python3) exec "$c" -c "$py" "$m" "$s" "$@" </dev/null ;; esac
for q do
	printf '%s\n' "$q" | "$c" -t 30 - "UNIX-CONNECT:$s" || exit 4
	printf '\n%s\n' "$m"
done
`

// haproxyPython is the python3 client: Python's socket calls, as the module
// makes them. It holds no single quote: the script single-quotes it.
const haproxyPython = `import socket, sys
m, path = sys.argv[1].encode(), sys.argv[2]
out = sys.stdout.buffer
for q in sys.argv[3:]:
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        c.connect(path)
    except OSError as e:
        out.flush()
        sys.stderr.write(str(e) + "\n")
        sys.exit(4)
    c.sendall(q.encode() + b"\n")
    while True:
        b = c.recv(65536)
        if not b:
            break
        out.write(b)
    c.close()
    out.write(b"\n" + m + b"\n")
`

// haproxyTimeout bounds one socket script (HAProxy answers at once).
const haproxyTimeout = 60 * time.Second

// haproxySocketError is a socket HAProxy's commands cannot reach: the task
// fails with it, as the module does.
type haproxySocketError struct{ socket, reason string }

func (e *haproxySocketError) Error() string {
	return "cannot talk to HAProxy's socket " + e.socket + ": " + e.reason
}

// haproxySend sends cmds to the socket, each on its own connection, and
// returns the replies in order. A socket that cannot be reached is a
// *haproxySocketError; a broken transport another error.
func (m *haproxyModule) haproxySend(ctx context.Context, conn transport.Conn, cmds ...string) ([]string, error) {
	client := m.client
	if client == "" {
		client = "auto"
	}
	argv := append([]string{"/bin/sh", "-c", haproxySocketScript, "sh", m.socket, client, haproxyMarker}, cmds...)
	// show stat of a large configuration (thousands of servers) passes the
	// default 4 MiB cap on output.
	res, err := conn.Run(ctx, transport.Command{Argv: argv, Timeout: haproxyTimeout, MaxOutput: 64 << 20})
	if err != nil {
		return nil, fmt.Errorf("haproxy: %s on %s: %w", strings.Join(cmds, " | "), m.socket, err)
	}
	if res.ExitCode != 0 {
		return nil, &haproxySocketError{socket: m.socket, reason: haproxyErrReason(string(res.Stderr), res.ExitCode)}
	}
	parts := strings.Split(string(res.Stdout), "\n"+haproxyMarker+"\n")
	if len(parts) != len(cmds)+1 || parts[len(cmds)] != "" {
		return nil, fmt.Errorf("haproxy: %s on %s: unexpected output %q", strings.Join(cmds, " | "), m.socket, res.Stdout)
	}
	return parts[:len(cmds)], nil
}

// haproxyErrReason is the reason of a failed socket script: its last line
// of stderr, without socat's prefix ("2026/01/02 socat[9] E connect(5,
// AF=1 "/run/x.sock", 14): Permission denied").
func haproxyErrReason(stderr string, code int) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if strings.Contains(l, "socat[") {
		if i := strings.LastIndex(l, "): "); i >= 0 {
			l = l[i+3:]
		}
	}
	if l == "" {
		l = "exit " + strconv.Itoa(code)
	}
	return l
}

// haproxyRow is one line of `show stat`: the fields the module reads, and
// whether the server has health checks (its check counters are filled,
// in maintenance too, where check_status is empty).
type haproxyRow struct {
	Px, Sv, Status, Weight, Scur string
	Checked                      bool
}

// haproxyServerState is what the module registers of a server: its status,
// weight and current sessions as `show stat` tells them.
type haproxyServerState struct {
	Status, Weight, Scur string
}

// data is the state as the module returns it (a dict per server).
func (s haproxyServerState) data() map[string]any {
	return map[string]any{"status": s.Status, "weight": s.Weight, "scur": s.Scur}
}

// parseHaproxyStat reads `show stat`'s CSV as the module does (the header
// line's leading "# " stripped, then a DictReader): one row per proxy line.
func parseHaproxyStat(out string) ([]haproxyRow, error) {
	r := csv.NewReader(strings.NewReader(strings.TrimLeft(out, "# ")))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("haproxy: show stat: %w", err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("haproxy: show stat: empty reply")
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		if _, dup := col[h]; !dup {
			col[h] = i
		}
	}
	for _, k := range []string{"pxname", "svname", "status", "weight", "scur"} {
		if _, ok := col[k]; !ok {
			return nil, fmt.Errorf("haproxy: show stat: no %s column in %q", k, strings.Join(recs[0], ","))
		}
	}
	get := func(rec []string, k string) string {
		if i, ok := col[k]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var rows []haproxyRow
	for _, rec := range recs[1:] {
		rows = append(rows, haproxyRow{Px: get(rec, "pxname"), Sv: get(rec, "svname"), Status: get(rec, "status"),
			Weight: get(rec, "weight"), Scur: get(rec, "scur"),
			Checked: get(rec, "check_status") != "" || get(rec, "chkfail") != ""})
	}
	return rows, nil
}

// haproxyBackends are the proxies with a BACKEND line, in order (the
// module's discover_all_backends).
func haproxyBackends(rows []haproxyRow) []string {
	var out []string
	for _, r := range rows {
		if r.Sv == "BACKEND" {
			out = append(out, r.Px)
		}
	}
	return out
}

// haproxyStateFor is the module's get_state_for: the server's lines in
// backend px (every proxy when px is empty); nil when none.
func haproxyStateFor(rows []haproxyRow, px, sv string) []haproxyServerState {
	var out []haproxyServerState
	for _, r := range rows {
		if (px == "" || r.Px == px) && r.Sv == sv {
			out = append(out, haproxyServerState{r.Status, r.Weight, r.Scur})
		}
	}
	return out
}

// haproxyStatesData is a state list as the module returns it: null when
// the server was not found.
func haproxyStatesData(st []haproxyServerState) any {
	if st == nil {
		return nil
	}
	out := make([]any, len(st))
	for i, s := range st {
		out[i] = s.data()
	}
	return out
}

// parseHaproxyVersion reads `show info`'s Version line as the module does:
// major and minor; ok false when it has none.
func parseHaproxyVersion(info string) (major, minor int, ok bool) {
	for _, l := range strings.Split(info, "\n") {
		if !strings.Contains(l, "Version:") {
			continue
		}
		_, v, _ := strings.Cut(l, ":")
		f := strings.SplitN(strings.TrimSpace(v), ".", 3)
		if len(f) < 2 {
			return 0, 0, false
		}
		a, err1 := strconv.Atoi(f[0])
		b, err2 := strconv.Atoi(f[1])
		return a, b, err1 == nil && err2 == nil
	}
	return 0, 0, false
}

// haproxyWeights is a server's user and initial weights, from `show
// servers state` (srv_uweight and srv_iweight), by "backend/server".
type haproxyWeights map[string][2]int

// parseHaproxyServersState reads `show servers state`: a version line, a
// "# be_id be_name srv_id srv_name ..." header naming the columns, then a
// line of space-separated fields per server.
func parseHaproxyServersState(out string) (haproxyWeights, error) {
	w := haproxyWeights{}
	var cols map[string]int
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 0:
		case f[0] == "#":
			cols = map[string]int{}
			for i, c := range f[1:] {
				cols[c] = i
			}
		case cols != nil:
			be, bok := cols["be_name"]
			sv, sok := cols["srv_name"]
			u, uok := cols["srv_uweight"]
			iw, iok := cols["srv_iweight"]
			if !bok || !sok || !uok || !iok || len(f) <= max(be, sv, u, iw) {
				return nil, fmt.Errorf("haproxy: show servers state: cannot read %q", l)
			}
			uw, err1 := strconv.Atoi(f[u])
			initial, err2 := strconv.Atoi(f[iw])
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("haproxy: show servers state: weights in %q", l)
			}
			w[f[be]+"/"+f[sv]] = [2]int{uw, initial}
		}
	}
	return w, nil
}

// haproxyTargetWeight is the user weight `set weight` gives a server whose
// initial weight is initial, as HAProxy computes it: an absolute weight as
// given, a relative one initial*N/100 (N capped at 25600, the result at 256).
func haproxyTargetWeight(weight string, initial int) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(weight, "%"))
	if !strings.HasSuffix(weight, "%") {
		return n
	}
	n = min(n, 25600)
	return min(initial*n/100, 256)
}
