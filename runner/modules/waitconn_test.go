package modules

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"tend/runner/plan"
	"tend/runner/transport"
)

func newWaitConnFrom(t *testing.T, args string) (Module, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(args), &n); err != nil {
		t.Fatal(err)
	}
	return newWaitConn(Args{Node: n.Content[0], File: "pb.yml"})
}

// TestWaitForConnection: each try opens a new connection through the
// run's Reconnect; refused tries are retried until one answers or the
// timeout passes; a refused host key ends the wait at once.
func TestWaitForConnection(t *testing.T) {
	refused := errors.New("connection refused")
	tests := []struct {
		name     string
		args     string
		fails    int   // tries refused before one connects
		err      error // what a refused try returns
		wantTry  int
		want     plan.Change
		wantErr  string
		wantHost bool // a host key error: unreachable
	}{
		{name: "answers at once", args: "{sleep: 0}", wantTry: 1, want: plan.Change{Action: plan.None}},
		{name: "after refusals", args: "{sleep: 0, timeout: 60}", fails: 3, err: refused, wantTry: 4, want: plan.Change{Action: plan.None}},
		{name: "times out", args: "{sleep: 200ms, timeout: 1}", fails: 1 << 30, err: refused,
			want: plan.Change{Action: plan.None, Failed: true, Msg: "timed out waiting for ping module test: connection refused"}},
		{name: "host key", args: "{sleep: 100ms, timeout: 2}", fails: 1 << 30, err: &transport.HostKeyError{Host: "h1", Mismatch: true}, wantTry: 1, wantHost: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := newWaitConnFrom(t, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			tries := 0
			ctx := WithReconnect(context.Background(), func(context.Context) (transport.Conn, error) {
				tries++
				if tries <= tt.fails {
					return nil, tt.err
				}
				return transport.Local(), nil
			})
			c, err := m.Check(ctx, nil)
			if err != nil || c.Action != plan.Run {
				t.Fatalf("Check = %+v, %v; want run (skipped in check mode)", c, err)
			}
			c, err = m.Apply(ctx, nil, c)
			if tt.wantHost {
				if !transport.IsUnreachable(err) {
					t.Fatalf("Apply error = %v, want unreachable", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if c.Action != tt.want.Action || c.Failed != tt.want.Failed || c.Msg != tt.want.Msg {
				t.Errorf("Apply = %+v, want %+v", c, tt.want)
			}
			if tt.wantTry != 0 && tries != tt.wantTry {
				t.Errorf("%d tries, want %d", tries, tt.wantTry)
			}
		})
	}
	for _, bad := range []struct{ args, want string }{
		{"{timeout: 0}", "pb.yml:1:11: wait_for_connection: timeout must be more than 0 seconds"},
		{"{port: 22}", "port"},
	} {
		if _, err := newWaitConnFrom(t, bad.args); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("wait_for_connection %s: %v, want %q", bad.args, err, bad.want)
		}
	}
}
