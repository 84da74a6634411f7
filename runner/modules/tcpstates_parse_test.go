package modules

import (
	"net/netip"
	"strings"
	"testing"
	"unsafe"
)

// Lines captured on Linux 6.x: a stand-in listening on 127.0.0.1:61616
// (F0B0) holding CLOSE_WAIT (08) sockets, and a Python listener on [::]
// whose IPv4 peers appear as v4-mapped addresses in /proc/net/tcp6.
const (
	capListen4    = "   0: 0100007F:F0B0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 93746 2 0000000022d628e4 100 0 0 10 0                     "
	capCloseWait4 = "   1: 0100007F:F0B0 0100007F:9EEA 08 00000000:00000000 02:000005DB 00000000     0        0 92771 3 00000000256da585 20 4 0 11 -1                     "
	capFinWait4   = "   2: 0100007F:9EEA 0100007F:F0B0 05 00000000:00000000 03:00001770 00000000     0        0 0 3 000000001e1e5cbf                                      "
	capListen6    = "   0: 00000000000000000000000000000000:F0B0 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99293 1 00000000a2b010e2 100 0 0 10 0"
	capClient6    = "   1: 00000000000000000000000001000000:D47E 00000000000000000000000001000000:F0B0 01 00000000:00000000 00:00000000 00000000     0        0 99525 2 00000000ebdf1d11 20 0 0 10 -1"
	capMapped6    = "   2: 0000000000000000FFFF00000100007F:F0B0 0000000000000000FFFF00000100007F:E0C8 08 00000000:00000001 00:00000000 00000000     0        0 99524 1 00000000565ea167 20 4 0 10 -1"
	capHeader4    = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
)

func TestTCPParseProcNetLine(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []struct {
		name, line    string
		local, remote netip.AddrPort
		state         uint8
		inode         uint64
		wantErr       bool
	}{
		{"v4 listen", capListen4, ap("127.0.0.1:61616"), ap("0.0.0.0:0"), tcpListen, 93746, false},
		{"v4 close-wait", capCloseWait4, ap("127.0.0.1:61616"), ap("127.0.0.1:40682"), tcpCloseWait, 92771, false},
		{"v4 client fin-wait-2, no inode", capFinWait4, ap("127.0.0.1:40682"), ap("127.0.0.1:61616"), 0x05, 0, false},
		{"v6 listen on ::", capListen6, ap("[::]:61616"), ap("[::]:0"), tcpListen, 99293, false},
		{"v6 loopback client", capClient6, ap("[::1]:54398"), ap("[::1]:61616"), tcpEstablished, 99525, false},
		{"v4-mapped close-wait", capMapped6, ap("[::ffff:127.0.0.1]:61616"), ap("[::ffff:127.0.0.1]:57544"), tcpCloseWait, 99524, false},
		{"header", capHeader4, netip.AddrPort{}, netip.AddrPort{}, 0, 0, true},
		{"truncated", "   1: 0100007F:F0B0 0100007F:9EEA 08", netip.AddrPort{}, netip.AddrPort{}, 0, 0, true},
		{"bad address", "   1: 0100007G:F0B0 0100007F:9EEA 08 0:0 0:0 0 0 0 1", netip.AddrPort{}, netip.AddrPort{}, 0, 0, true},
		{"bad port", "   1: 0100007F:FFFFF 0100007F:9EEA 08 0:0 0:0 0 0 0 1", netip.AddrPort{}, netip.AddrPort{}, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseProcNetTCPLine(tc.line)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if s.Local != tc.local || s.Remote != tc.remote || s.State != tc.state || s.Inode != tc.inode {
				t.Errorf("got %v %v st %02X inode %d, want %v %v st %02X inode %d",
					s.Local, s.Remote, s.State, s.Inode, tc.local, tc.remote, tc.state, tc.inode)
			}
		})
	}
}

func TestTCPParseStateName(t *testing.T) {
	for in, want := range map[string]uint8{
		"close-wait": 0x08, "CLOSE_WAIT": 0x08, "close_wait": 0x08, "established": 0x01,
		"listen": 0x0A, "listening": 0x0A, "LISTEN": 0x0A, "time-wait": 0x06,
		"FIN_WAIT1": 0x04, "fin-wait-1": 0x04, "syn-recv": 0x03, "closed": 0x07, "close": 0x07,
	} {
		if got, ok := parseStateName(in); !ok || got != want {
			t.Errorf("parseStateName(%q) = %02X, %v; want %02X", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "wait", "close-waiting", "bound"} {
		if _, ok := parseStateName(bad); ok {
			t.Errorf("parseStateName(%q) accepted", bad)
		}
	}
}

// capScan is what tcpScanScript prints for a broker (pid 1234) holding two
// CLOSE_WAIT sockets and the listener, one more CLOSE_WAIT not yet
// accepted (inode 0), and an unrelated socket whose remote port is 61616.
var capScan = strings.Join([]string{
	"@tcp",
	capHeader4,
	capListen4,
	capCloseWait4,
	capFinWait4,
	"   3: 0100007F:F0B0 0100007F:9EF0 08 00000000:00000000 02:000005DB 00000000     0        0 0 3 00000000bb760899 20 4 0 11 -1",
	"@end",
	"N self net:[4026532177]",
	"N init net:[4026531833]",
	"@fd",
	"/proc/1234/fd socket:[93746]",
	"/proc/1234/fd socket:[92771]",
	"@end",
	"@tcp",
	capMapped6,
	"garbage line",
	"@end",
	"@fd",
	"/proc/1234/fd socket:[99524]",
	"/proc/1234/fd socket:[99524]",
	"@end",
	"P 1234 310 net:[4026532177] java",
	"C 1234 /usr/bin/java -Dactivemq.home=/usr/share/activemq ",
	"L 1234       1024                 524288               files     ",
}, "\n")

func TestTCPSummarizeScan(t *testing.T) {
	sc := parseScan(capScan)
	if sc.BadLines != 1 || len(sc.Sockets) != 5 {
		t.Fatalf("bad lines %d, sockets %d", sc.BadLines, len(sc.Sockets))
	}
	if got := sc.Owners[99524]; len(got) != 1 || got[0] != 1234 {
		t.Errorf("owners of 99524 = %v (duplicates must collapse)", got)
	}
	r := summarizePort(sc, 61616, 0, nil, nil)
	if r.CloseWait != 3 || r.Unheld != 1 || !r.Listening || r.Counts[tcpListen] != 1 || r.Counts[0x05] != 0 {
		t.Fatalf("report = %+v", r)
	}
	if len(r.Holders) != 1 || r.Holders[0].PID != 1234 || r.Holders[0].CloseWait != 2 || !r.Holders[0].Listening || r.Holders[0].FDs != 310 {
		t.Fatalf("holders = %+v", r.Holders)
	}
	want := "3 CLOSE_WAIT on :61616 held by java (pid 1234): 310 fds of 1024 (30%) (1 with no visible holder); listening, 0 established; keepalive on 1 of 2 connections"
	if got := r.summary(); got != want {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
	d := r.data(sc)
	states := d["states"].(map[string]any)
	if d["count"] != 3 || states["close_wait"] != 3 || states["listen"] != 1 || states["time_wait"] != 0 || len(states) != len(tcpStates) {
		t.Errorf("data = %v", d)
	}
	h := d["holders"].([]any)[0].(map[string]any)
	if h["pid"] != 1234 || h["command"] != "java" || h["close_wait"] != 2 || h["fds"] != 310 ||
		h["cmdline"] != "/usr/bin/java -Dactivemq.home=/usr/share/activemq" {
		t.Errorf("holder = %v", h)
	}

	// A remote port filter and a state filter.
	r = summarizePort(sc, 61616, 40682, []uint8{tcpCloseWait}, nil)
	if r.CloseWait != 1 || len(r.Counts) != 1 || !r.Listening {
		t.Errorf("filtered report = %+v", r)
	}
	if s := r.summary(); !strings.HasPrefix(s, "1 CLOSE_WAIT on :61616 from :40682 held by java") {
		t.Errorf("filtered summary %q", s)
	}
	// Nothing on another port.
	if r := summarizePort(sc, 8080, 0, nil, nil); r.CloseWait != 0 || r.Listening || r.summary() != "0 CLOSE_WAIT on :8080; nothing listens" {
		t.Errorf("8080: %+v %q", r, r.summary())
	}
}

func TestTCPNetnsWarnings(t *testing.T) {
	h := func(ns string) []tcpHolder {
		return []tcpHolder{{procInfo: procInfo{PID: 7, Comm: "java", NetNS: ns}}}
	}
	tests := []struct {
		name, self, init, holder string
		want                     string // substring; "" = no warning
	}{
		{"all in the host namespace", "net:[1]", "net:[1]", "net:[1]", ""},
		{"broker in a container, read from inside", "net:[2]", "net:[1]", "net:[2]", "host sysctl values do not reach its sockets"},
		{"PID 1 unreadable", "net:[2]", "", "net:[2]", ""},
		{"holder elsewhere than this connection", "net:[2]", "", "net:[3]", "sysctl values set here do not reach"},
		{"holder namespace unreadable", "net:[1]", "net:[1]", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := netnsWarnings(portScan{SelfNS: tc.self, InitNS: tc.init}, h(tc.holder))
			if tc.want == "" && len(w) != 0 || tc.want != "" && (len(w) != 1 || !strings.Contains(w[0], tc.want)) {
				t.Errorf("warnings = %q, want %q", w, tc.want)
			}
		})
	}
	w := netnsWarnings(portScan{SelfNS: "net:[2]", InitNS: "net:[1]"}, h("net:[2]"))
	if !strings.Contains(w[0], "live values set through this connection do") {
		t.Errorf("warning %q should say live values reach it", w[0])
	}
}

// Lines captured from `ss -tanHe` (iproute2 6.1) on this machine.
const (
	ssListenDual  = "LISTEN     0      128                     *:47001                  *:*     ino:15426205 sk:f216c cgroup:/ v6only:0 <->"
	ssListen6Only = "LISTEN     0      128                  [::]:47002               [::]:*     ino:15426206 sk:f216d cgroup:/ v6only:1 <->"
	ssCloseWait   = "CLOSE-WAIT 1      0      [::ffff:127.0.0.1]:47001 [::ffff:127.0.0.1]:49116 ino:15426208 sk:f216e cgroup:/ -->         "
	ssListen4     = "LISTEN    0      4096   127.0.0.1:61616   0.0.0.0:*     ino:15416755 sk:f20b0 cgroup:unreachable:1 <->"
	ssTimeWait    = "TIME-WAIT 0      0      127.0.0.1:36160 127.0.0.1:61616 timer:(timewait,32sec,0) ino:0 sk:f20b1"
	ssScoped      = "ESTAB 0 0 [fe80::1]%eth0:22 [fe80::2]%eth0:50000 timer:(keepalive,119min,0) uid:1000 ino:77 sk:1"
)

func TestTCPParseSSLine(t *testing.T) {
	ap := netip.MustParseAddrPort
	any := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(netip.Addr{}, port) }
	tests := []struct {
		name, line    string
		local, remote netip.AddrPort
		state         uint8
		inode         uint64
		uid           int
		wantErr       bool
	}{
		{"dual-stack listen on *", ssListenDual, any(47001), any(0), tcpListen, 15426205, 0, false},
		{"v6-only listen on [::]", ssListen6Only, ap("[::]:47002"), ap("[::]:0"), tcpListen, 15426206, 0, false},
		{"v4-mapped close-wait", ssCloseWait, ap("[::ffff:127.0.0.1]:47001"), ap("[::ffff:127.0.0.1]:49116"), tcpCloseWait, 15426208, 0, false},
		{"v4 listen", ssListen4, ap("127.0.0.1:61616"), ap("0.0.0.0:0"), tcpListen, 15416755, 0, false},
		{"time-wait, no inode", ssTimeWait, ap("127.0.0.1:36160"), ap("127.0.0.1:61616"), 0x06, 0, 0, false},
		{"scoped v6, uid", ssScoped, ap("[fe80::1]:22"), ap("[fe80::2]:50000"), tcpEstablished, 77, 1000, false},
		{"unknown state", "BOGUS 0 0 1.2.3.4:1 1.2.3.4:2 ino:1", netip.AddrPort{}, netip.AddrPort{}, 0, 0, 0, true},
		{"truncated", "LISTEN 0 128 *:47001", netip.AddrPort{}, netip.AddrPort{}, 0, 0, 0, true},
		{"bad port", "LISTEN 0 128 *:470011 *:* ino:1", netip.AddrPort{}, netip.AddrPort{}, 0, 0, 0, true},
		{"bad inode", "LISTEN 0 128 *:47001 *:* ino:x", netip.AddrPort{}, netip.AddrPort{}, 0, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseSSLine(tc.line)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if s.Local != tc.local || s.Remote != tc.remote || s.State != tc.state || s.Inode != tc.inode || s.UID != tc.uid {
				t.Errorf("got %v %v st %02X inode %d uid %d, want %v %v st %02X inode %d uid %d",
					s.Local, s.Remote, s.State, s.Inode, s.UID, tc.local, tc.remote, tc.state, tc.inode, tc.uid)
			}
		})
	}
}

// TestTCPParseScanKeepsNoSubstring: the strings a parsed scan keeps are
// copies, not substrings of the scan's output: a host's registered result
// lives to the end of the run, and a substring would keep the whole output
// (up to scanMaxOutput) alive with it — at 1,000 hosts, megabytes for a
// namespace name.
func TestTCPParseScanKeepsNoSubstring(t *testing.T) {
	out := "@tcp\n" + capListen4 + "\n@end\n" +
		"N self net:[4026531840]\nN init net:[4026531841]\n" +
		"P 42 7 net:[4026531840] java\nC 42 /usr/bin/java -jar activemq.jar\n"
	sc := parseScan(out)
	start := uintptr(unsafe.Pointer(unsafe.StringData(out)))
	inOut := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return s != "" && p >= start && p < start+uintptr(len(out))
	}
	p := sc.Procs[42]
	if p == nil {
		t.Fatalf("process 42 not parsed: %+v", sc)
	}
	for name, s := range map[string]string{"Source": sc.Source, "SelfNS": sc.SelfNS, "InitNS": sc.InitNS, "NetNS": p.NetNS, "Comm": p.Comm, "Cmdline": p.Cmdline} {
		if s == "" {
			t.Errorf("%s not parsed", name)
		}
		if inOut(s) {
			t.Errorf("%s %q shares the scan output's memory", name, s)
		}
	}
}
