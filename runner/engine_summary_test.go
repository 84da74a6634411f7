package runner

import (
	"context"
	"strings"
	"testing"

	"tend/internal/memhost"
	"tend/runner/transport"
)

// TestEngineSummaryErrRedacted: the per-host failures Summary.Err
// aggregates reach stderr, so a secret the views hide is hidden there too.
func TestEngineSummaryErrRedacted(t *testing.T) {
	const canary = "s3cr3t-canary-7731"
	const src = `
- hosts: all
  secret_vars: [token]
  vars:
    token: "` + canary + `"
  tasks:
    - name: deploy
      command: deploy {{ token }}
`
	f := newFleet("h1")
	h := f.hosts["h1"]
	h.Handle(memhost.Argv("deploy"), func(context.Context, *memhost.Host, transport.Command) (transport.Result, error) {
		return transport.Result{ExitCode: 1, Stderr: []byte("bad token " + canary + "\n")}, nil
	})
	sum, _ := runOn(t, f, src, Options{})
	err := sum.Err()
	if err == nil {
		t.Fatal("Err() is nil for a failed host")
	}
	if strings.Contains(err.Error(), canary) {
		t.Errorf("Err() shows the secret: %s", err)
	}
	if !strings.Contains(err.Error(), "bad token "+Redacted) {
		t.Errorf("Err() = %s, want the failure with the secret redacted", err)
	}
}
