package modules

import (
	"fmt"
	"maps"
	"sort"
	"strings"
)

// The scan reduced to one port: who holds what, the counts a playbook
// registers, and the one-line summary the dry run shows.

// tcpHolder is a process holding sockets of the port.
type tcpHolder struct {
	procInfo
	CloseWait int
	Listening bool
}

// tcpReport is the scan reduced to one local port.
type tcpReport struct {
	Port, RemotePort int
	// Counts has an entry for every selected state, zero included.
	Counts    map[uint8]int
	CloseWait int
	Listening bool
	Holders   []tcpHolder // most CLOSE_WAIT first
	// Unheld counts CLOSE_WAIT sockets no visible process holds (not yet
	// accepted, or held by a process this user may not inspect).
	Unheld int
	// Keepalive says on how many of the port's connections TCP keepalive is on.
	Keepalive keepaliveCount
	// Own counts the sockets of tend's own probe connections, left out of
	// every other field (see probes.go).
	Own int
}

// summarizePort counts the sockets whose local port is port (and remote
// port remotePort, when not 0) in the selected states (nil: all), and
// attributes CLOSE_WAIT and LISTEN sockets to their holders. Sockets own
// reports (tend's own probes; own may be nil) are only counted in Own.
func summarizePort(sc portScan, port, remotePort int, states []uint8, own func(tcpSocket) bool) tcpReport {
	r := tcpReport{Port: port, RemotePort: remotePort, Counts: map[uint8]int{}, Keepalive: countKeepalive(sc, port, remotePort, own)}
	selected := func(code uint8) bool { return states == nil || containsState(states, code) }
	for _, s := range tcpStates {
		if selected(s.code) {
			r.Counts[s.code] = 0
		}
	}
	byPID := map[int]*tcpHolder{}
	holder := func(pid int) *tcpHolder {
		if byPID[pid] == nil {
			h := &tcpHolder{procInfo: procInfo{PID: pid}}
			if p := sc.Procs[pid]; p != nil {
				h.procInfo = *p
			}
			byPID[pid] = h
		}
		return byPID[pid]
	}
	for _, s := range sc.Sockets {
		if int(s.Local.Port()) != port {
			continue
		}
		if s.State == tcpListen {
			r.Listening = true
			for _, pid := range sc.Owners[s.Inode] {
				holder(pid).Listening = true
			}
		}
		if remotePort != 0 && int(s.Remote.Port()) != remotePort {
			continue
		}
		if own != nil && own(s) {
			r.Own++
			continue
		}
		if selected(s.State) {
			r.Counts[s.State]++
		}
		if s.State != tcpCloseWait {
			continue
		}
		r.CloseWait++
		owners := sc.Owners[s.Inode]
		if s.Inode == 0 || len(owners) == 0 {
			r.Unheld++
		}
		for _, pid := range owners {
			holder(pid).CloseWait++
		}
	}
	for _, h := range byPID {
		r.Holders = append(r.Holders, *h)
	}
	sort.Slice(r.Holders, func(i, j int) bool {
		a, b := r.Holders[i], r.Holders[j]
		if a.CloseWait != b.CloseWait {
			return a.CloseWait > b.CloseWait
		}
		return a.PID < b.PID
	})
	return r
}

func containsState(xs []uint8, x uint8) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// data is what `register:` stores: count is the CLOSE_WAIT count, so a
// playbook writes `when: closewait.count > closewait_threshold`. The main
// holder is the first of Holders: the one with the most CLOSE_WAIT sockets,
// else the listener with the lowest PID.
func (r tcpReport) data(sc portScan) map[string]any {
	states := map[string]any{}
	for code, n := range r.Counts {
		states[stateKey(code)] = n
	}
	holders := []any{}
	for _, h := range r.Holders {
		hd := fdData(h.procInfo)
		maps.Copy(hd, map[string]any{
			"pid": h.PID, "command": h.Comm, "cmdline": h.Cmdline,
			"close_wait": h.CloseWait, "listening": h.Listening, "netns": h.NetNS,
		})
		holders = append(holders, hd)
	}
	d := map[string]any{
		"port":       r.Port,
		"count":      r.CloseWait,
		"states":     states,
		"holders":    holders,
		"listening":  r.Listening,
		"unheld":     r.Unheld,
		"own_probes": r.Own,
		"netns":      map[string]any{"self": sc.SelfNS, "init": sc.InitNS},
	}
	if r.RemotePort != 0 {
		d["remote_port"] = r.RemotePort
	}
	// The main holder's fds at top level (all 0 without a holder), so that
	// a playbook writes `when: closewait.fd_percent > 80`.
	var main procInfo
	if len(r.Holders) > 0 {
		main = r.Holders[0].procInfo
	}
	maps.Copy(d, fdData(main))
	d["keepalive_on"], d["keepalive_off"], d["keepalive_unknown"] = r.Keepalive.On, r.Keepalive.Off, r.Keepalive.Unknown
	return d
}

// summary reads like "3 CLOSE_WAIT on :61616 held by java (pid 1234): 310
// fds of 1024 (30%); listening, 12 established; keepalive on 0 of 15
// connections".
func (r tcpReport) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d CLOSE_WAIT on :%d", r.CloseWait, r.Port)
	if r.RemotePort != 0 {
		fmt.Fprintf(&b, " from :%d", r.RemotePort)
	}
	var held []string
	for _, h := range r.Holders {
		if h.CloseWait > 0 {
			held = append(held, fmt.Sprintf("%s (pid %d): %s", orUnknown(h.Comm), h.PID, fdUsage(h.procInfo)))
		}
	}
	if len(held) > 0 {
		b.WriteString(" held by " + strings.Join(held, ", "))
	}
	if r.Unheld > 0 && r.CloseWait > 0 {
		fmt.Fprintf(&b, " (%d with no visible holder)", r.Unheld)
	}
	if r.Own > 0 {
		fmt.Fprintf(&b, " (left out: %s of tend's own probes)", plural(r.Own, "socket"))
	}
	if !r.Listening {
		b.WriteString("; nothing listens")
	} else if n, ok := r.Counts[tcpEstablished]; ok {
		fmt.Fprintf(&b, "; listening, %d established", n)
	}
	if len(held) == 0 && len(r.Holders) > 0 { // the listener's fds all the same
		h := r.Holders[0]
		fmt.Fprintf(&b, "; listener %s (pid %d): %s", orUnknown(h.Comm), h.PID, fdUsage(h.procInfo))
	}
	if k := r.Keepalive.summary(); k != "" {
		b.WriteString("; " + k)
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

// netnsWarnings says when a holder lives in another network namespace than
// PID 1: sysctl values set for the host (boot-time sysctl.conf in
// particular) do not reach its sockets. Unknown namespaces (PID 1 not
// readable by this user) warn about nothing.
func netnsWarnings(sc portScan, holders []tcpHolder) []string {
	var out []string
	for _, h := range holders {
		switch {
		case h.NetNS == "":
		case sc.InitNS != "" && h.NetNS != sc.InitNS:
			w := fmt.Sprintf("broker runs in its own network namespace: host sysctl values do not reach its sockets (%s pid %d in %s, PID 1 in %s)",
				orUnknown(h.Comm), h.PID, h.NetNS, sc.InitNS)
			if h.NetNS == sc.SelfNS {
				w += "; live values set through this connection do, boot-time sysctl files applied in PID 1's namespace do not"
			}
			out = append(out, w)
		case sc.SelfNS != "" && h.NetNS != sc.SelfNS:
			out = append(out, fmt.Sprintf("%s pid %d runs in network namespace %s, this connection in %s: sysctl values set here do not reach its sockets",
				orUnknown(h.Comm), h.PID, h.NetNS, sc.SelfNS))
		}
	}
	return out
}
