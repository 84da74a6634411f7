package modules

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// Lines captured on Linux 6.x (iproute2 6.1): a server on :58427 with one
// accepted connection without SO_KEEPALIVE, one with it, and one not yet
// accepted; then the same sockets in /proc/net/tcp.
const (
	ssEstabNoKA   = "ESTAB  0      0      127.0.0.1:58427 127.0.0.1:54948 ino:186172 sk:116e cgroup:/ <->                           "
	ssEstabKA     = "ESTAB  0      0      127.0.0.1:58427 127.0.0.1:54954 timer:(keepalive,119min,0) ino:186174 sk:116f cgroup:/ <->"
	ssEstabQueued = "ESTAB  0      0      127.0.0.1:58427 127.0.0.1:54958 ino:0 sk:1170 cgroup:/ <->                                "
	ssCloseWaitKA = "CLOSE-WAIT 1  0      127.0.0.1:58427 127.0.0.1:54960 timer:(keepalive,14sec,0) ino:186180 sk:1171 cgroup:/ -->"
	ssRetrans     = "ESTAB  0      36     127.0.0.1:58427 127.0.0.1:54962 timer:(on,200ms,0) ino:186182 sk:1172 cgroup:/ <->"
	ssPersist     = "ESTAB  0      9000   127.0.0.1:58427 127.0.0.1:54964 timer:(persist,1.2sec,0) ino:186184 sk:1173 cgroup:/ <->"
	ssClientKA    = "ESTAB  0      0      127.0.0.1:54966 127.0.0.1:58427 timer:(keepalive,119min,0) ino:186186 sk:1174 cgroup:/ <->"
	ssListenKA    = "LISTEN 1      5      127.0.0.1:58427   0.0.0.0:*     ino:186170 sk:116d cgroup:/ <->                           "

	procEstabNoKA  = "  14: 0100007F:E43B 0100007F:D6A4 01 00000000:00000000 00:00000000 00000000     0        0 186172 1 000000009eecaa8f 21 0 0 10 -1                    "
	procEstabKA    = "  15: 0100007F:E43B 0100007F:D6AA 01 00000000:00000000 02:000AFC7B 00000000     0        0 186174 2 000000006e685e9e 21 0 0 10 -1                    "
	procQueued     = "  81: 0100007F:E43B 0100007F:D6AE 01 00000000:00000000 00:00000000 00000000     0        0 0 1 00000000110526d9 21 0 0 10 -1                         "
	procRetrans    = "  16: 0100007F:E43B 0100007F:D6B2 01 00000024:00000000 01:00000032 00000000     0        0 186182 2 000000006e685e9f 21 0 0 10 -1"
	procBadTimer   = "  17: 0100007F:E43B 0100007F:D6B4 01 00000000:00000000 zz:00000000 00000000     0        0 186190 2 000000006e685ea0 21 0 0 10 -1"
	procNoTimerCol = "  18: 0100007F:E43B 0100007F:D6B6 01 00000000:00000000 0000000000 00000000     0        0 186192 2 000000006e685ea1 21 0 0 10 -1"
)

func TestTCPParseTimer(t *testing.T) {
	tests := []struct {
		name, line string
		proc       bool
		timer      uint8
		wantErr    bool
	}{
		{"ss: no timer, no keepalive", ssEstabNoKA, false, timerNone, false},
		{"ss: keepalive", ssEstabKA, false, timerKeepalive, false},
		{"ss: keepalive on close-wait", ssCloseWaitKA, false, timerKeepalive, false},
		{"ss: retransmission", ssRetrans, false, timerRetransmit, false},
		{"ss: zero-window probe", ssPersist, false, timerProbe0, false},
		{"ss: time-wait", ssTimeWait, false, timerTimeWait, false},
		{"ss: a timer name ss may add", "ESTAB 0 0 1.2.3.4:1 1.2.3.4:2 timer:(frobnicate,1sec,0) ino:9", false, timerUnknown, false},
		{"proc: tr 00", procEstabNoKA, true, timerNone, false},
		{"proc: tr 02, keepalive", procEstabKA, true, timerKeepalive, false},
		{"proc: tr 02 on close-wait", capCloseWait4, true, timerKeepalive, false},
		{"proc: tr 01, retransmission", procRetrans, true, timerRetransmit, false},
		{"proc: bad tr", procBadTimer, true, 0, true},
		{"proc: no tr:when column", procNoTimerCol, true, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parse := parseSSLine
			if tc.proc {
				parse = parseProcNetTCPLine
			}
			s, err := parse(tc.line)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && s.Timer != tc.timer {
				t.Errorf("timer %d, want %d", s.Timer, tc.timer)
			}
		})
	}
}

func TestTCPParseNofile(t *testing.T) {
	// What the scan script prints: the "Max open files" line of
	// /proc/PID/limits, name cut off.
	tests := []struct {
		rest string
		want int
	}{
		{"      1024                 524288               files     ", 1024},
		{"20000 20000 files", 20000},
		{"  unlimited            unlimited            files     ", fdUnlimited},
		{"", 0},           // /proc/PID/limits unreadable (or the process is gone)
		{"lots files", 0}, // not a number
		{"-3 5 files", 0},
	}
	for _, tc := range tests {
		if got := parseNofileSoft(tc.rest); got != tc.want {
			t.Errorf("parseNofileSoft(%q) = %d, want %d", tc.rest, got, tc.want)
		}
	}
	// Through parseScan, as the script prints it.
	sc := parseScan("P 42 154 net:[1] java\nL 42       1024                 524288               files     \nP 43 3 - sh\nL 43 ")
	if sc.Procs[42].FDLimit != 1024 || sc.Procs[42].FDs != 154 || sc.Procs[43].FDLimit != 0 {
		t.Errorf("procs: %+v %+v", sc.Procs[42], sc.Procs[43])
	}
}

func TestTCPFDUsage(t *testing.T) {
	tests := []struct {
		fds, limit int
		text       string
		percent    int
	}{
		{154, 1024, "154 fds of 1024 (15%)", 15},
		{819, 1024, "819 fds of 1024 (79%)", 79}, // rounded down: 79.98
		{820, 1024, "820 fds of 1024 (80%)", 80},
		{1024, 1024, "1024 fds of 1024 (100%)", 100},
		{154, fdUnlimited, "154 fds (no limit)", 0},
		{154, 0, "154 fds", 0},
	}
	for _, tc := range tests {
		p := procInfo{FDs: tc.fds, FDLimit: tc.limit}
		d := fdData(p)
		if got := fdUsage(p); got != tc.text || d["fd_percent"] != tc.percent || d["fds"] != tc.fds || d["fd_limit"] != tc.limit {
			t.Errorf("%d of %d: %q %v, want %q, %d%%", tc.fds, tc.limit, got, d, tc.text, tc.percent)
		}
	}
}

func TestTCPKeepaliveCount(t *testing.T) {
	scan := func(lines ...string) portScan { return parseScan("@ss\n" + strings.Join(lines, "\n") + "\n@end\n") }
	tests := []struct {
		name       string
		sc         portScan
		remotePort int
		want       keepaliveCount
		summary    string
		warning    string
	}{
		{"none has it", scan(ssListenKA, ssEstabNoKA, ssEstabQueued), 0, keepaliveCount{Off: 1},
			"; keepalive on 0 of 1 connections",
			"keepalive is off on 1 of 1 connections on :58427 — the keepalive tuning will not reach them; set transport.keepAlive=true on the broker's transportConnector"},
		{"all have it; clients and unaccepted sockets do not count", scan(ssListenKA, ssEstabKA, ssCloseWaitKA, ssClientKA, ssEstabQueued), 0,
			keepaliveCount{On: 2}, "; keepalive on 2 of 2 connections", ""},
		{"mixed, a retransmission hides one", scan(ssEstabKA, ssEstabNoKA, ssRetrans, ssPersist, ssTimeWait), 0,
			keepaliveCount{On: 1, Off: 1, Unknown: 2}, "; keepalive on 1 of 4 connections (2 unknown)", "keepalive is off on 1 of 4 connections on :58427"},
		{"remote port filter", scan(ssEstabKA, ssEstabNoKA), 54954, keepaliveCount{On: 1}, "; keepalive on 1 of 1 connections", ""},
		{"/proc/net/tcp", parseScan("@tcp\n" + strings.Join([]string{procEstabNoKA, procEstabKA, procQueued, procRetrans}, "\n") + "\n@end"), 0,
			keepaliveCount{On: 1, Off: 1, Unknown: 1}, "; keepalive on 1 of 3 connections (1 unknown)", "keepalive is off on 1 of 3"},
		{"no connection", scan(ssListenKA), 0, keepaliveCount{}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := summarizePort(tc.sc, 58427, tc.remotePort, nil, nil)
			if r.Keepalive != tc.want {
				t.Fatalf("keepalive %+v, want %+v", r.Keepalive, tc.want)
			}
			if s := r.summary(); tc.summary == "" && strings.Contains(s, "keepalive") || !strings.HasSuffix(s, tc.summary) {
				t.Errorf("summary %q, want suffix %q", s, tc.summary)
			}
			w := r.Keepalive.warnings(58427)
			if tc.warning == "" && len(w) != 0 || tc.warning != "" && (len(w) != 1 || !strings.HasPrefix(w[0], tc.warning)) {
				t.Errorf("warnings %q, want %q", w, tc.warning)
			}
			d := r.data(tc.sc)
			if d["keepalive_on"] != tc.want.On || d["keepalive_off"] != tc.want.Off || d["keepalive_unknown"] != tc.want.Unknown {
				t.Errorf("data %v", d)
			}
		})
	}
}

// TestTCPMainHolderFDs: the registered top-level fds are the main holder's
// (most CLOSE_WAIT), and a listener with no CLOSE_WAIT still shows its fds.
func TestTCPMainHolderFDs(t *testing.T) {
	sc := parseScan(capScan)
	d := summarizePort(sc, 61616, 0, nil, nil).data(sc)
	if d["fds"] != 310 || d["fd_limit"] != 1024 || d["fd_percent"] != 30 {
		t.Errorf("top level: fds %v, fd_limit %v, fd_percent %v", d["fds"], d["fd_limit"], d["fd_percent"])
	}
	h := d["holders"].([]any)[0].(map[string]any)
	if h["fds"] != 310 || h["fd_limit"] != 1024 || h["fd_percent"] != 30 {
		t.Errorf("holder %v", h)
	}
	listener := parseScan(strings.Join([]string{"@tcp", capListen4, "@end", "@fd", "/proc/7/fd socket:[93746]", "@end",
		"P 7 900 - java", "L 7 1000 4096 files"}, "\n"))
	r := summarizePort(listener, 61616, 0, nil, nil)
	if s := r.summary(); s != "0 CLOSE_WAIT on :61616; listening, 0 established; listener java (pid 7): 900 fds of 1000 (90%)" {
		t.Errorf("summary %q", s)
	}
	if d := r.data(listener); d["fd_percent"] != 90 {
		t.Errorf("listener fd_percent %v", d["fd_percent"])
	}
	if d := summarizePort(listener, 8080, 0, nil, nil).data(listener); d["fds"] != 0 || d["fd_limit"] != 0 || d["fd_percent"] != 0 {
		t.Errorf("no holder: %v", d)
	}
}

// TestTCPStatesKeepaliveAndFDs runs two stand-in brokers with a low fd
// limit, one setting SO_KEEPALIVE on its connections and one not (as
// ActiveMQ without transport.keepAlive=true), and expects tcp_states to
// tell them apart from ss and from /proc/net/tcp alike, and to report each
// holder's fds against the limit read from /proc/PID/limits.
func TestTCPStatesKeepaliveAndFDs(t *testing.T) {
	lab := newMQLab(t)
	const n, limit = 4, 64
	for _, keepalive := range []bool{true, false} {
		port := lab.port()
		pidfile := filepath.Join(lab.dir, fmt.Sprintf("ka-%v.pid", keepalive))
		argv := append(lab.serviceCommand(pidfile, "restart", port, true), fmt.Sprintf("-keepalive=%v", keepalive), fmt.Sprint("-nofile=", limit))
		lab.run(argv...)
		pid := lab.waitPID(pidfile)
		lab.load(port, n, true)

		c, err := newTCPStatesT(t, fmt.Sprintf("port: %d", port)).Check(context.Background(), lab.conn)
		if err != nil {
			t.Fatal(err)
		}
		d := c.Data
		on, off := n, 0
		if !keepalive {
			on, off = 0, n
		}
		if d["count"] != n || d["keepalive_on"] != on || d["keepalive_off"] != off || d["keepalive_unknown"] != 0 {
			t.Errorf("keepalive %v: count %v, on %v, off %v, unknown %v", keepalive, d["count"], d["keepalive_on"], d["keepalive_off"], d["keepalive_unknown"])
		}
		kaWarn := fmt.Sprintf("keepalive is off on %d of %d connections on :%d — the keepalive tuning will not reach them; set transport.keepAlive=true", n, n, port)
		var warned bool
		for _, w := range c.Warnings {
			warned = warned || strings.HasPrefix(w, kaWarn)
		}
		if warned == keepalive {
			t.Errorf("keepalive %v: warnings %q", keepalive, c.Warnings)
		}
		fds, _ := d["fds"].(int)
		if d["fd_limit"] != limit || fds < n+1 || d["fd_percent"] != fds*100/limit {
			t.Errorf("keepalive %v: fds %v of %v (%v%%), want the limit %d", keepalive, d["fds"], d["fd_limit"], d["fd_percent"], limit)
		}
		want := fmt.Sprintf("%d CLOSE_WAIT on :%d held by tend-standin-mq (pid %d): %d fds of %d (%d%%); listening, 0 established; keepalive on %d of %d connections",
			n, port, pid, fds, limit, fds*100/limit, on, n)
		if c.Summary != want {
			t.Errorf("summary\n got %q\nwant %q", c.Summary, want)
		}
		// /proc/net/tcp's tr column tells the same as ss -o.
		viaProc, _, err := scanPortFrom(context.Background(), lab.conn, port, true, false, false)
		if err != nil {
			t.Fatal(err)
		}
		if k := countKeepalive(viaProc, port, 0, nil); k.On != on || k.Off != off || k.Unknown != 0 || viaProc.Source != "tcp" {
			t.Errorf("keepalive %v: /proc/net/tcp says %+v (source %s)", keepalive, k, viaProc.Source)
		}
	}
}
