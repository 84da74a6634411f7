package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// tcpStatesSpec counts the TCP sockets on a local port by state and names
// the processes holding the CLOSE_WAIT ones: the detection step of the MQ
// runbook. It only reads, so it runs in check mode too.
var tcpStatesSpec = Spec{New: newTCPStates, RunsInCheckMode: true}

// tcpStatesArgs are the YAML arguments of tcp_states.
type tcpStatesArgs struct {
	Port       int      `yaml:"port,required"`
	RemotePort int      `yaml:"remote_port"`
	States     []string `yaml:"states"`
	Holders    bool     `yaml:"holders"`
}

// tcpStatesModule is one tcp_states task.
type tcpStatesModule struct {
	port, remotePort int
	states           []uint8 // nil: all
	holders          bool
}

func newTCPStates(a Args) (Module, error) {
	args := tcpStatesArgs{Holders: true}
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	m := &tcpStatesModule{port: args.Port, remotePort: args.RemotePort, holders: args.Holders}
	if err := checkPortArg(a, "tcp_states", "port", args.Port, true); err != nil {
		return nil, err
	}
	if err := checkPortArg(a, "tcp_states", "remote_port", args.RemotePort, false); err != nil {
		return nil, err
	}
	for _, name := range args.States {
		if hasTemplate(name) {
			continue
		}
		code, ok := parseStateName(name)
		if !ok {
			return nil, posErr(a.File, argValueNode(a.Node, "states"), "tcp_states",
				"unknown state %q (use ss names: established, close-wait, time-wait, listening, ...)", name)
		}
		m.states = append(m.states, code)
	}
	return m, nil
}

// Check runs the scan: one remote command, whose output is parsed here.
func (m *tcpStatesModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	if m.port < 1 || m.port > 65535 {
		return plan.Change{Action: plan.Read, Failed: true, Msg: fmt.Sprintf("tcp_states: port %d out of range", m.port)}, nil
	}
	sc, truncated, err := scanPort(ctx, conn, m.port, m.holders)
	if err != nil {
		return plan.Change{}, err
	}
	r := summarizePort(sc, m.port, m.remotePort, m.states, probeLedgerFrom(ctx).own(m.port))
	c := plan.Change{Action: plan.Read, Summary: r.summary(), Data: r.data(sc), Warnings: netnsWarnings(sc, r.Holders)}
	c.Warnings = append(c.Warnings, r.Keepalive.warnings(m.port)...)
	if truncated {
		c.Warnings = append(c.Warnings, "scan output was truncated: counts may be low")
	}
	if sc.BadLines > 0 {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%d unparsable lines in /proc/net/tcp", sc.BadLines))
	}
	return c, nil
}

// Apply never runs for a read-only task; it returns the planned result.
func (m *tcpStatesModule) Apply(_ context.Context, _ transport.Conn, planned plan.Change) (plan.Change, error) {
	return planned, nil
}

// tcpScanScript prints the sockets whose local port is $3 (decimal; $1 is
// the same as 4 upper-case hex digits), the reader's and PID 1's network
// namespaces and, when $2 is 1, which processes hold the CLOSE_WAIT and
// LISTEN sockets of that port: one round trip. Values only ever arrive as
// positional parameters.
//
// The sockets come from ss when it is there ("@ss": `ss -tnHoe state all` lines,
// filtered by port in the kernel, with their pending timer: keepalive or
// not; -e alone prints it too, -o says so), else from /proc/net/tcp{,6} ("@tcp": the lines mentioning the port,
// whose tr column has the timer; $3 empty forces this). Either way the kernel
// walks its whole socket hash table (262,144 buckets on a 24 GiB machine,
// and every TIME_WAIT socket in it) whatever the port: ss once per address
// family, a read of the /proc files twice per file (the end-of-file read
// starts the walk over), so ss halves the largest cost of the scan. With $4
// = listening only listening sockets are asked for: ss then walks only the
// small table of listeners (the /proc files are read whole all the same).
//
// It runs on every host, several times a play, so it forks little: one find
// prints the namespaces and the socket fds of the processes in the reader's
// namespace (picked by the shell with test -ef), grep keeps the port's, and
// tr reads each holder's cmdline; the shell does the rest (a holder's fd
// limit included: builtins read /proc/PID/limits). Busybox find has no
// -printf: readlink then, once per fd.
const tcpScanScript = `hex=$1 holders=$2 port=$3 which=${4:-all}
if [ -n "$port" ] && tcp=$(ss -tnHoe state "$which" "( sport = :$port )" 2>/dev/null); then
  # With one state asked for, ss prints no State column: "@ssl", all LISTEN.
  fmt=ss; [ "$which" = listening ] && fmt=ssl
else
  fmt=tcp
  tcp=$(grep -h -F -e ":$hex " /proc/net/tcp /proc/net/tcp6 2>/dev/null)
fi
echo "@$fmt"
[ -n "$tcp" ] && printf '%s\n' "$tcp"
echo @end
# With holders: the inodes of the port's CLOSE_WAIT and LISTEN sockets, one
# "socket:[N]" a line. The shell splits the lines itself; appends go through
# the short c, so that thousands of sockets cost no quadratic copying.
inodes= c=
if [ "$holders" = 1 ]; then
  set -f
  IFS='
'
  for l in $tcp; do
    IFS=' '
    set -- $l
    if [ "$fmt" != tcp ]; then
      case $fmt:$1 in ssl:*|ss:CLOSE-WAIT|ss:LISTEN) ;; *) continue ;; esac
      ino=
      for w; do case $w in ino:*) ino=${w#ino:}; break ;; esac; done
    else
      case $2 in *:"$hex") ;; *) continue ;; esac
      case $4 in 08|0A) ino=${10} ;; *) continue ;; esac
    fi
    [ -n "$ino" ] && [ "$ino" != 0 ] || continue
    c="$c
socket:[$ino]"
    [ ${#c} -lt 2000 ] || { inodes=$inodes$c; c=; }
  done
  unset IFS
  set +f
  inodes=$inodes$c
  inodes=${inodes#?}
fi
dirs= c= samens=
if [ -n "$inodes" ]; then
  # Only processes in the reader's network namespace can hold the sockets
  # listed in its /proc/net/tcp: scan their fds only (a host with many
  # containers, or a lab of namespaces sharing one /proc, has many others).
  # test -ef compares the namespaces' inodes, with no fork per process.
  for d in /proc/[0-9]*; do
    [ "$d/ns/net" -ef /proc/self/ns/net ] || continue
    c="$c $d/fd"
    [ ${#c} -lt 2000 ] || { dirs=$dirs$c; c=; }
  done
  dirs=$dirs$c
  if [ -n "$dirs" ]; then samens=1; else dirs='/proc/[0-9]*/fd'; fi
  # One find prints both namespaces, then the sockets held in $dirs; grep
  # keeps those of the port (patterns in a file: thousands exceed the
  # size of one argument).
  out=$(find /proc/self/ns/net /proc/1/ns/net $dirs -maxdepth 1 \
    \( -lname 'socket:*' -printf '%h %l\n' \) -o \( -path '/proc/*/ns/net' -printf '%p %l\n' \) 2>/dev/null |
    grep -F -e '/ns/net ' -f /proc/self/fd/3 3<<EOF
$inodes
EOF
)
else
  out=$(find /proc/self/ns/net /proc/1/ns/net -maxdepth 0 -printf '%p %l\n' 2>/dev/null)
fi
# The namespace lines come first. Any output shows that find knows -printf
# (GNU find); busybox find does not: readlink, and a readlink per fd, then.
self= init= gnu= nl='
'
while :; do
  l=${out%%"$nl"*}
  case $l in
    "/proc/self/ns/net "*) self=${l#* } gnu=1 ;;
    "/proc/1/ns/net "*) init=${l#* } ;;
    *) break ;;
  esac
  case $out in *"$nl"*) out=${out#*"$nl"} ;; *) out= ;; esac
done
fds=$out
[ -n "$fds" ] && gnu=1
if [ -z "$gnu" ]; then
  self=$(readlink /proc/self/ns/net 2>/dev/null)
  init=$(readlink /proc/1/ns/net 2>/dev/null)
fi
echo "N self $self"
echo "N init $init"
[ -n "$inodes" ] || exit 0
if [ -z "$gnu" ] && ! find /proc/self/fd -maxdepth 0 -printf '' 2>/dev/null; then
  fds=$(for d in $dirs; do for f in "$d"/*; do l=$(readlink "$f" 2>/dev/null) && echo "$d $l"; done; done |
    grep -F -f /proc/self/fd/3 3<<EOF
$inodes
EOF
)
fi
echo @fd
printf '%s\n' "$fds"
echo @end
# The holders in ascending PID order, at most 50. The fd lines come grouped
# by process: a single holder, the usual case, needs no sort.
pids= many=
set -f
for w in $fds; do
  case $w in /proc/*/fd) ;; *) continue ;; esac
  case $pids in "") pids=$w ;; "$w") ;; *) many=1; break ;; esac
done
set +f
if [ -n "$many" ]; then
  pids=$(printf '%s\n' "$fds" | sed 's,^/proc/\([0-9]*\)/fd .*,\1,' | sort -un | head -n 50)
else
  pids=${pids#/proc/}; pids=${pids%/fd}
fi
q='??????????'; q=$q$q$q$q$q$q$q$q$q$q; q=$q$q$q # 300 characters
for p in $pids; do
  [ -d "/proc/$p" ] || continue
  set -- /proc/$p/fd/*
  n=$#; [ -e "$1" ] || n=0
  # A holder found through the namespace filter is in the reader's.
  ns=
  [ -n "$samens" ] && ns=$self
  [ -n "$ns" ] || ns=$(readlink "/proc/$p/ns/net" 2>/dev/null)
  comm=
  IFS= read -r comm 2>/dev/null <"/proc/$p/comm"
  cmd=$(tr '\000\n' '  ' 2>/dev/null <"/proc/$p/cmdline")
  [ ${#cmd} -le 300 ] || cmd=${cmd%%"${cmd#$q}"} # %%: % is quadratic in dash
  # Its soft fd limit: the "Max open files" line, name cut off.
  lim=
  while IFS= read -r l; do
    case $l in "Max open files "*) lim=${l#Max open files }; break ;; esac
  done 2>/dev/null <"/proc/$p/limits"
  echo "P $p $n ${ns:--} $comm"
  echo "C $p $cmd"
  echo "L $p $lim"
done
`

// scanMaxOutput bounds the scan's output; a host with a million sockets on
// the port is reported as truncated rather than exhausting memory.
const scanMaxOutput = 16 << 20

// scanPort runs tcpScanScript on the host and parses its output.
func scanPort(ctx context.Context, conn transport.Conn, port int, holders bool) (portScan, bool, error) {
	return scanPortFrom(ctx, conn, port, holders, true, false)
}

// scanListeners is scanPort for the listening sockets only (and their
// holders): what finding a service's PID by its port needs, at a fraction
// of the cost on a host with many connections.
func scanListeners(ctx context.Context, conn transport.Conn, port int) (portScan, error) {
	sc, _, err := scanPortFrom(ctx, conn, port, true, true, true)
	return sc, err
}

// scanPortFrom is scanPort; withSS false reads /proc/net/tcp{,6} even where
// ss is installed (tests compare both sources); listenOnly asks ss for the
// listening sockets only (the /proc files list them all).
func scanPortFrom(ctx context.Context, conn transport.Conn, port int, holders, withSS, listenOnly bool) (portScan, bool, error) {
	h := "0"
	if holders {
		h = "1"
	}
	portArg, which := "", "all"
	if withSS {
		portArg = strconv.Itoa(port)
	}
	if listenOnly {
		// Not ss -l: that also asks for closed sockets, and so walks the
		// connections' table too.
		which = "listening"
	}
	res, err := conn.Run(ctx, transport.Command{
		Argv:      []string{"/bin/sh", "-c", tcpScanScript, "tend-tcp-states", fmt.Sprintf("%04X", port), h, portArg, which},
		MaxOutput: scanMaxOutput,
	})
	if err != nil {
		return portScan{}, false, fmt.Errorf("tcp_states: %w", err)
	}
	if res.ExitCode != 0 && !strings.Contains(string(res.Stdout), "@end") {
		return portScan{}, false, fmt.Errorf("tcp_states: scan exited %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return parseScan(string(res.Stdout)), res.Truncated, nil
}
