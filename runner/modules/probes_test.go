package modules

import (
	"context"
	"testing"
)

// TestProbeLedgerLeavesOwnSocketsOut: the sockets whose peers a probe
// reported are counted apart, on their own server port only.
func TestProbeLedgerLeavesOwnSocketsOut(t *testing.T) {
	sc := parseScan(capScan)
	ctx := WithProbeLedger(context.Background(), NewProbeLedger())
	// The probes' own words: one socket found through /proc/net/tcp, one
	// through ss (an IPv4 client; the server on [::] sees it v4-mapped),
	// one to another port, and words that name no address.
	recordProbes(ctx, 61616, "listen=1 accept=1 probe_proc=0100007F:9EF0 polls=2 probe_ss=127.0.0.1:57544 probe_ss=* probe_proc=zz")
	recordProbes(ctx, 8080, "accept=1 probe_ss=127.0.0.1:40682")
	r := summarizePort(sc, 61616, 0, nil, probeLedgerFrom(ctx).own(61616))
	if r.CloseWait != 1 || r.Own != 2 || r.Unheld != 0 || r.Counts[tcpCloseWait] != 1 || !r.Listening {
		t.Fatalf("report = %+v", r)
	}
	if len(r.Holders) != 1 || r.Holders[0].CloseWait != 1 {
		t.Errorf("holders = %+v", r.Holders)
	}
	// The probes' sockets are left out of the keepalive count too (1 of 1, not of 3).
	want := "1 CLOSE_WAIT on :61616 held by java (pid 1234): 310 fds of 1024 (30%) (left out: 2 sockets of tend's own probes); listening, 0 established; keepalive on 1 of 1 connections"
	if got := r.summary(); got != want {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
	if d := r.data(sc); d["count"] != 1 || d["own_probes"] != 2 {
		t.Errorf("data = %v", d)
	}

	// Without a ledger (or with nothing recorded) every socket counts.
	for _, own := range []func(tcpSocket) bool{(*ProbeLedger)(nil).own(61616), NewProbeLedger().own(61616)} {
		if r := summarizePort(sc, 61616, 0, nil, own); r.CloseWait != 3 || r.Own != 0 {
			t.Errorf("no ledger: %+v", r)
		}
	}
	recordProbes(context.Background(), 61616, "probe_ss=127.0.0.1:40682") // no ledger: no-op
}

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0 sockets", 1: "1 socket", 2: "2 sockets"} {
		if got := plural(n, "socket"); got != want {
			t.Errorf("plural(%d) = %q", n, got)
		}
	}
}
