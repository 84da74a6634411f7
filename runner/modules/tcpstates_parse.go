package modules

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// tcpStateInfo names one kernel TCP state (include/net/tcp_states.h) the way
// ss spells it in filters and the way registered data keys it.
type tcpStateInfo struct {
	code uint8
	ss   string // ss filter name: close-wait
	key  string // data key: close_wait
}

// tcpStates lists the states /proc/net/tcp shows, in kernel order.
var tcpStates = []tcpStateInfo{
	{0x01, "established", "established"},
	{0x02, "syn-sent", "syn_sent"},
	{0x03, "syn-recv", "syn_recv"},
	{0x04, "fin-wait-1", "fin_wait1"},
	{0x05, "fin-wait-2", "fin_wait2"},
	{0x06, "time-wait", "time_wait"},
	{0x07, "closed", "close"},
	{0x08, "close-wait", "close_wait"},
	{0x09, "last-ack", "last_ack"},
	{0x0A, "listening", "listen"},
	{0x0B, "closing", "closing"},
}

// Kernel state codes used by the modules.
const (
	tcpEstablished uint8 = 0x01
	tcpCloseWait   uint8 = 0x08
	tcpListen      uint8 = 0x0A
)

// stateKey returns the data key of a state code ("state_0c" when unknown).
func stateKey(code uint8) string {
	for _, s := range tcpStates {
		if s.code == code {
			return s.key
		}
	}
	return fmt.Sprintf("state_%02x", code)
}

// parseStateName accepts a state as ss, netstat or Ansible write it
// (close-wait, CLOSE_WAIT, listen, listening, FIN_WAIT1, fin-wait-1).
func parseStateName(name string) (uint8, bool) {
	norm := func(s string) string {
		s = strings.ToLower(s)
		return strings.NewReplacer("-", "", "_", "", " ", "").Replace(s)
	}
	n := norm(name)
	switch n {
	case "listen":
		return tcpListen, true
	case "close":
		return 0x07, true
	}
	for _, s := range tcpStates {
		if norm(s.ss) == n || norm(s.key) == n {
			return s.code, true
		}
	}
	return 0, false
}

// tcpSocket is one line of /proc/net/tcp or /proc/net/tcp6.
type tcpSocket struct {
	Local, Remote netip.AddrPort
	State         uint8
	UID           int
	// Inode is 0 for sockets no process holds (TIME_WAIT, not yet accepted).
	Inode uint64
	// Timer is the kernel's pending-timer code (timerNone, timerKeepalive...).
	Timer uint8
}

// parseProcNetTCPLine parses one socket line of /proc/net/tcp{,6}:
//
//	sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode ...
//
// Addresses are printed as native-endian 32-bit words; like every tool
// reading these files on x86 and arm64, little-endian is assumed (only the
// address display depends on it, ports are printed in host order).
func parseProcNetTCPLine(line string) (tcpSocket, error) {
	var s tcpSocket
	f := strings.Fields(line)
	if len(f) < 10 || !strings.HasSuffix(f[0], ":") {
		return s, fmt.Errorf("not a socket line: %q", line)
	}
	var err error
	if s.Local, err = parseProcAddr(f[1]); err != nil {
		return s, err
	}
	if s.Remote, err = parseProcAddr(f[2]); err != nil {
		return s, err
	}
	st, err := strconv.ParseUint(f[3], 16, 8)
	if err != nil {
		return s, fmt.Errorf("bad state %q", f[3])
	}
	s.State = uint8(st)
	if s.Timer, err = parseProcTimer(f[5]); err != nil {
		return s, err
	}
	if s.UID, err = strconv.Atoi(f[7]); err != nil {
		return s, fmt.Errorf("bad uid %q", f[7])
	}
	if s.Inode, err = strconv.ParseUint(f[9], 10, 64); err != nil {
		return s, fmt.Errorf("bad inode %q", f[9])
	}
	return s, nil
}

// ssStates maps the state names ss prints to kernel state codes.
var ssStates = map[string]uint8{
	"ESTAB": 0x01, "SYN-SENT": 0x02, "SYN-RECV": 0x03, "FIN-WAIT-1": 0x04, "FIN-WAIT-2": 0x05,
	"TIME-WAIT": 0x06, "UNCONN": 0x07, "CLOSE-WAIT": 0x08, "LAST-ACK": 0x09, "LISTEN": 0x0A,
	"CLOSING": 0x0B,
}

// parseSSLine parses one line of `ss -tanHoe`:
//
//	STATE RECV-Q SEND-Q LOCAL:PORT PEER:PORT [timer:(...)] [uid:N] ino:N sk:... [<->]
//
// Addresses are "127.0.0.1:61616", "[::ffff:10.0.0.1]:61616", "[fe80::1]%eth0:22",
// "*:61616" or "0.0.0.0:*" (port 0). Only the ports, state, uid and inode
// are used; an address ss prints in a form not parsed here is left zero.
func parseSSLine(line string) (tcpSocket, error) {
	var s tcpSocket
	f := strings.Fields(line)
	if len(f) < 5 {
		return s, fmt.Errorf("not an ss socket line: %q", line)
	}
	st, ok := ssStates[f[0]]
	if !ok {
		return s, fmt.Errorf("unknown ss state %q", f[0])
	}
	s.State = st
	var err error
	if s.Local, err = parseSSAddr(f[3]); err != nil {
		return s, err
	}
	if s.Remote, err = parseSSAddr(f[4]); err != nil {
		return s, err
	}
	for _, w := range f[5:] {
		if v, ok := strings.CutPrefix(w, "ino:"); ok {
			if s.Inode, err = strconv.ParseUint(v, 10, 64); err != nil {
				return s, fmt.Errorf("bad inode %q", w)
			}
		} else if v, ok := strings.CutPrefix(w, "timer:("); ok {
			s.Timer = ssTimerCode(v)
		} else if v, ok := strings.CutPrefix(w, "uid:"); ok {
			if s.UID, err = strconv.Atoi(v); err != nil {
				return s, fmt.Errorf("bad uid %q", w)
			}
		}
	}
	return s, nil
}

// parseSSAddr decodes an address:port as ss prints it.
func parseSSAddr(s string) (netip.AddrPort, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	host, p := s[:i], s[i+1:]
	var port uint64
	if p != "*" {
		var err error
		if port, err = strconv.ParseUint(p, 10, 16); err != nil {
			return netip.AddrPort{}, fmt.Errorf("bad port in %q", s)
		}
	}
	if j := strings.IndexByte(host, '%'); j >= 0 { // [fe80::1]%eth0 or 10.0.0.1%eth0
		host = host[:j]
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	addr, err := netip.ParseAddr(host)
	if err != nil {
		addr = netip.Addr{} // "*": any address
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// parseProcAddr decodes "0100007F:F0B0" (IPv4) or a 32-digit IPv6 address
// with its port; v4-mapped IPv6 addresses are kept as such.
func parseProcAddr(s string) (netip.AddrPort, error) {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port in %q", s)
	}
	raw, err := hex.DecodeString(h)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	for i := 0; i < len(raw); i += 4 { // each 32-bit word is little-endian
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// procInfo describes a process holding one of the sockets.
type procInfo struct {
	PID int
	FDs int // open file descriptors of the process
	// FDLimit is the soft RLIMIT_NOFILE: 0 unknown, fdUnlimited unlimited.
	FDLimit int
	NetNS   string
	Comm    string
	Cmdline string
}

// portScan is what the remote scan script printed, parsed.
type portScan struct {
	Sockets []tcpSocket
	// Source is where the sockets came from: "ss", "ssl" (ss, listening
	// sockets only) or "tcp" (/proc/net/tcp{,6}).
	Source string
	// BadLines counts /proc/net/tcp lines that could not be parsed.
	BadLines       int
	SelfNS, InitNS string
	// Owners maps a socket inode to the PIDs holding a descriptor on it.
	Owners map[uint64][]int
	Procs  map[int]*procInfo
}

// parseScan parses the output of tcpScanScript: a "@tcp" section of
// /proc/net/tcp{,6} lines, or a "@ss" section of `ss -tnHe state all` lines
// ("@ssl": `state listening`, whose lines have no State column), an "@fd" section of "/proc/PID/fd socket:[INODE]"
// lines, then tagged lines "N self|init NETNS", "P PID FDS NETNS COMM",
// "C PID CMDLINE", "L PID SOFT HARD UNITS" (the "Max open files" line of
// /proc/PID/limits without its name).
func parseScan(out string) portScan {
	sc := portScan{Owners: map[uint64][]int{}, Procs: map[int]*procInfo{}}
	section := ""
	proc := func(pid int) *procInfo {
		if sc.Procs[pid] == nil {
			sc.Procs[pid] = &procInfo{PID: pid}
		}
		return sc.Procs[pid]
	}
	for _, line := range strings.Split(out, "\n") {
		switch line {
		case "@tcp", "@ss", "@ssl", "@fd":
			section = line
			if line != "@fd" {
				sc.Source = strings.Clone(line[1:])
			}
			continue
		case "@end":
			section = ""
			continue
		case "":
			continue
		}
		switch section {
		case "@tcp":
			if strings.HasPrefix(strings.TrimSpace(line), "sl ") {
				continue
			}
			s, err := parseProcNetTCPLine(line)
			if err != nil {
				sc.BadLines++
				continue
			}
			sc.Sockets = append(sc.Sockets, s)
		case "@ss", "@ssl":
			if section == "@ssl" { // ss asked for one state prints no State column
				line = "LISTEN " + line
			}
			s, err := parseSSLine(line)
			if err != nil {
				sc.BadLines++
				continue
			}
			sc.Sockets = append(sc.Sockets, s)
		case "@fd":
			dir, link, ok := strings.Cut(line, " ")
			pid, err1 := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(dir, "/proc/"), "/fd"))
			ino, err2 := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]"), 10, 64)
			if ok && err1 == nil && err2 == nil && !containsInt(sc.Owners[ino], pid) {
				sc.Owners[ino] = append(sc.Owners[ino], pid)
			}
		default:
			tag, rest, _ := strings.Cut(line, " ")
			switch tag {
			case "N":
				which, ns, _ := strings.Cut(rest, " ")
				if which == "self" {
					sc.SelfNS = strings.Clone(strings.TrimSpace(ns))
				} else if which == "init" {
					sc.InitNS = strings.Clone(strings.TrimSpace(ns))
				}
			case "P":
				f := strings.SplitN(rest, " ", 4)
				if len(f) < 3 {
					continue
				}
				pid, err := strconv.Atoi(f[0])
				if err != nil {
					continue
				}
				p := proc(pid)
				p.FDs, _ = strconv.Atoi(f[1])
				if f[2] != "-" {
					p.NetNS = strings.Clone(f[2])
				}
				if len(f) == 4 {
					p.Comm = strings.Clone(f[3])
				}
			case "C":
				ps, cmd, _ := strings.Cut(rest, " ")
				if pid, err := strconv.Atoi(ps); err == nil {
					proc(pid).Cmdline = strings.Clone(strings.TrimSpace(cmd))
				}
			case "L":
				ps, lim, _ := strings.Cut(rest, " ")
				if pid, err := strconv.Atoi(ps); err == nil {
					proc(pid).FDLimit = parseNofileSoft(lim)
				}
			}
		}
	}
	for _, pids := range sc.Owners {
		sort.Ints(pids)
	}
	// Every string kept is a copy (strings.Clone above): a substring would
	// keep the whole output alive — up to scanMaxOutput per host, for as
	// long as the host's registered result lives (to the end of the run).
	return sc
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
