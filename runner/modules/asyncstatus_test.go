package modules

import (
	"context"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"tend/runner/plan"
	"tend/runner/transport"
)

// asyncStatus builds an async_status task whose host has ansible_async_dir dir.
func asyncStatus(t *testing.T, args, dir string) (Module, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(args), &n); err != nil {
		t.Fatal(err)
	}
	return newAsyncStatus(Args{Node: n.Content[0], File: "pb.yml", Eval: func(e string) (any, error) {
		if !strings.HasPrefix(e, "ansible_async_dir") {
			t.Fatalf("unexpected expression %q", e)
		}
		return dir, nil
	}})
}

func TestAsyncStatus(t *testing.T) {
	ctx := context.Background()
	conn := transport.Local()
	dir := t.TempDir()
	job, err := LaunchJob(ctx, conn, dir, transport.Command{Argv: []string{"echo", "hi"}}, 60)
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, conn, dir, job.ID)

	m, err := asyncStatus(t, "{jid: "+job.ID+"}", dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.Check(ctx, conn)
	if err != nil || c.Action != plan.Run || c.Failed || c.Data["stdout"] != "hi" || c.Data["finished"] != 1 || c.Data["results_file"] != job.ResultsFile {
		t.Fatalf("status = %+v, %v", c, err)
	}

	m, err = asyncStatus(t, "{jid: "+job.ID+", mode: cleanup}", dir)
	if err != nil {
		t.Fatal(err)
	}
	if c, err = m.Check(ctx, conn); err != nil || c.Action != plan.Run {
		t.Fatalf("cleanup check = %+v, %v", c, err)
	}
	c, err = m.Apply(ctx, conn, c)
	if err != nil || c.Changed() || c.Failed || c.Data["erased"] != job.ResultsFile {
		t.Fatalf("cleanup = %+v, %v", c, err)
	}
	if c, _ = m.Apply(ctx, conn, c); !c.Failed || c.Msg != "could not find job" {
		t.Errorf("second cleanup = %+v", c)
	}

	for _, bad := range []struct{ args, want string }{
		{"{mode: status}", "pb.yml:1:1: async_status: jid is required"},
		{"{jid: j1, mode: kill}", `pb.yml:1:17: async_status: mode must be status or cleanup, not "kill"`},
		{"{jid: ../x}", `pb.yml:1:7: async_status: "../x" is not a job id`},
		{"{jid: j1, poll: 3}", "poll"},
	} {
		if _, err := asyncStatus(t, bad.args, dir); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("async_status %s: %v, want %q", bad.args, err, bad.want)
		}
	}
}
