package modules

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"tend/runner/transport"
)

// timeoutsConn answers Run with a command timeout the first `timeouts`
// times, then with out.
type timeoutsConn struct {
	timeouts, calls int
	out             string
}

func (c *timeoutsConn) Run(_ context.Context, cmd transport.Command) (transport.Result, error) {
	c.calls++
	if c.calls <= c.timeouts {
		return transport.Result{}, fmt.Errorf("transport: h1: %s: %w after %s", cmd.Argv[0], transport.ErrTimeout, cmd.Timeout)
	}
	return transport.Result{Stdout: []byte(c.out)}, nil
}

func (c *timeoutsConn) Close() error { return nil }

// TestProbeRetriedOnceAfterATimeout: one slow session does not fail a
// probe; two do, and the error says so.
func TestProbeRetriedOnceAfterATimeout(t *testing.T) {
	for _, tc := range []struct {
		name      string
		timeouts  int
		wantCalls int
		wantErr   string
	}{
		{"answers at once", 0, 1, ""},
		{"slow once", 1, 2, ""},
		{"slow twice", 2, 2, "command timed out after 15s (tried twice)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &timeoutsConn{timeouts: tc.timeouts, out: "listen=1 accept=1\n"}
			r, err := probePort(context.Background(), c, "127.0.0.1", 61616, false)
			if c.calls != tc.wantCalls {
				t.Errorf("%d runs, want %d", c.calls, tc.wantCalls)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.wantErr == "" && (!r.Listening || !r.Accepts):
				t.Errorf("result %+v, want listening and accepting", r)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}
