package modules

import (
	"fmt"
	"strconv"
	"strings"
)

// What tcp_states tells about the broker's health beyond the counts: whether
// its connections have TCP keepalive at all (the keepalive sysctls act only
// on sockets with SO_KEEPALIVE set), and how close its holder is to running
// out of file descriptors ("Too many open files", what the MQ runbook exists
// to prevent). Both come from the scan's one remote command: the sockets'
// pending timers (ss -o, or the tr column of /proc/net/tcp) and the
// "Max open files" line of each holder's /proc/PID/limits.

// Kernel timer codes, as /proc/net/tcp prints them in its tr column and
// inet_diag reports them to ss (net/ipv4/tcp_ipv4.c get_tcp4_sock,
// inet_sk_diag_fill). Only one timer is reported per socket: a pending
// retransmission or zero-window probe hides the keepalive timer.
const (
	timerNone       uint8 = 0 // no timer: no keepalive on an established socket
	timerRetransmit uint8 = 1 // retransmission, loss probe, reordering
	timerKeepalive  uint8 = 2 // sk_timer: keepalive (FIN-WAIT-2 timeout on orphans)
	timerTimeWait   uint8 = 3
	timerProbe0     uint8 = 4 // zero-window probe
	timerUnknown    uint8 = 5
)

// ssTimers maps the timer names ss prints (ss.c tmr_name) to timer codes.
var ssTimers = map[string]uint8{
	"off": timerNone, "on": timerRetransmit, "keepalive": timerKeepalive,
	"timewait": timerTimeWait, "persist": timerProbe0, "unknown": timerUnknown,
}

// ssTimerCode decodes what follows "timer:(" in an ss -o line, e.g.
// "keepalive,119min,0)"; a name ss may add later is timerUnknown.
func ssTimerCode(s string) uint8 {
	name, _, _ := strings.Cut(s, ",")
	if code, ok := ssTimers[strings.TrimSuffix(name, ")")]; ok {
		return code
	}
	return timerUnknown
}

// parseProcTimer decodes the tr:tm->when column of /proc/net/tcp{,6}
// ("02:000AFC7B": timer 2, keepalive, due in 0xAFC7B jiffies).
func parseProcTimer(f string) (uint8, error) {
	tr, _, ok := strings.Cut(f, ":")
	code, err := strconv.ParseUint(tr, 16, 8)
	if !ok || err != nil {
		return 0, fmt.Errorf("bad timer %q", f)
	}
	return uint8(code), nil
}

// fdUnlimited is procInfo.FDLimit for a soft limit of "unlimited".
const fdUnlimited = -1

// parseNofileSoft reads the soft limit from the "Max open files" line of
// /proc/PID/limits with its name cut off ("  1024  524288  files"): the
// limit, fdUnlimited, or 0 when the line is missing or unreadable.
func parseNofileSoft(rest string) int {
	f := strings.Fields(rest)
	if len(f) == 0 {
		return 0
	}
	if f[0] == "unlimited" {
		return fdUnlimited
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// fdPercent is fds as a whole percentage of limit, rounded down (what the
// summary shows is what a playbook compares); 0 when the limit is unknown
// or unlimited.
func fdPercent(fds, limit int) int {
	if limit <= 0 {
		return 0
	}
	return fds * 100 / limit
}

// fdUsage reads like "154 fds of 1024 (15%)".
func fdUsage(p procInfo) string {
	switch {
	case p.FDLimit == fdUnlimited:
		return fmt.Sprintf("%d fds (no limit)", p.FDs)
	case p.FDLimit <= 0:
		return fmt.Sprintf("%d fds", p.FDs)
	}
	return fmt.Sprintf("%d fds of %d (%d%%)", p.FDs, p.FDLimit, fdPercent(p.FDs, p.FDLimit))
}

// fdData is what `register:` stores about a process's descriptors: fds,
// fd_limit (its soft RLIMIT_NOFILE; -1 unlimited, 0 unknown) and
// fd_percent (fds as a whole percentage of fd_limit, rounded down; 0 unless
// the limit is known).
func fdData(p procInfo) map[string]any {
	return map[string]any{"fds": p.FDs, "fd_limit": p.FDLimit, "fd_percent": fdPercent(p.FDs, p.FDLimit)}
}

// keepaliveCount sorts the broker's connections by whether TCP keepalive
// is on.
type keepaliveCount struct {
	On, Off int
	// Unknown counts connections whose retransmission or zero-window probe
	// timer was pending: the kernel reports one timer, and it hides keepalive.
	Unknown int
}

// total is the number of connections looked at.
func (k keepaliveCount) total() int { return k.On + k.Off + k.Unknown }

// countKeepalive looks at the connections on the broker's side: sockets
// whose local port is port (and remote port remotePort, when not 0) in
// ESTABLISHED or CLOSE-WAIT, accepted by the broker (a socket still in the
// accept queue has no inode: its server has not yet had the chance to set
// SO_KEEPALIVE). A client of the port on this host has the port as its
// remote port and is not counted; LISTEN, TIME-WAIT and the closing states
// have no keepalive to speak of.
func countKeepalive(sc portScan, port, remotePort int, own func(tcpSocket) bool) keepaliveCount {
	var k keepaliveCount
	for _, s := range sc.Sockets {
		if int(s.Local.Port()) != port || remotePort != 0 && int(s.Remote.Port()) != remotePort ||
			s.State != tcpEstablished && s.State != tcpCloseWait || s.Inode == 0 || own != nil && own(s) {
			continue
		}
		switch s.Timer {
		case timerKeepalive:
			k.On++
		case timerNone:
			k.Off++
		default:
			k.Unknown++
		}
	}
	return k
}

// summary reads like "keepalive on 3 of 12 connections (2 unknown)"; ""
// when there is no connection.
func (k keepaliveCount) summary() string {
	if k.total() == 0 {
		return ""
	}
	s := fmt.Sprintf("keepalive on %d of %d connections", k.On, k.total())
	if k.Unknown > 0 {
		s += fmt.Sprintf(" (%d unknown)", k.Unknown)
	}
	return s
}

// warnings says when keepalive is off on some connections: the keepalive
// sysctls will not reach them, whatever their values.
func (k keepaliveCount) warnings(port int) []string {
	var out []string
	if k.Off > 0 {
		out = append(out, fmt.Sprintf("keepalive is off on %d of %d connections on :%d — the keepalive tuning will not reach them; "+
			"set transport.keepAlive=true on the broker's transportConnector (ActiveMQ; other servers must set SO_KEEPALIVE)",
			k.Off, k.total(), port))
	}
	return out
}
