package modules

import (
	"context"
	"fmt"
	"strings"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// asyncStatusSpec reads an async job (a task run with async: and poll: 0):
// Ansible's async_status. mode: cleanup removes the job's files.
var asyncStatusSpec = Spec{New: newAsyncStatus}

// asyncStatusArgs are async_status's YAML arguments.
type asyncStatusArgs struct {
	JID  string `yaml:"jid"`
	Mode string `yaml:"mode"`
}

// asyncStatusModule is one async_status task.
type asyncStatusModule struct {
	jid, mode, dir string
}

func newAsyncStatus(a Args) (Module, error) {
	args := asyncStatusArgs{Mode: "status"}
	if a.Node == nil {
		return nil, posErr(a.File, a.Node, "async_status", "missing arguments: jid is required")
	}
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	if strings.TrimSpace(args.JID) == "" {
		return nil, posErr(a.File, argValueNode(a.Node, "jid"), "async_status", "jid is required (the ansible_job_id an async task registered)")
	}
	if args.Mode != "status" && args.Mode != "cleanup" && !templatedArg(a.Node, "mode") {
		return nil, posErr(a.File, argValueNode(a.Node, "mode"), "async_status", "mode must be status or cleanup, not %q", args.Mode)
	}
	if !templated(args.JID) && !validJID.MatchString(args.JID) {
		return nil, posErr(a.File, argValueNode(a.Node, "jid"), "async_status", "%q is not a job id (letters, digits, '.', '_', '-')", args.JID)
	}
	return &asyncStatusModule{jid: args.JID, mode: args.Mode, dir: AsyncDir(a)}, nil
}

// AsyncDir is the host's async dir: its ansible_async_dir, else
// DefaultAsyncDir.
func AsyncDir(a Args) string {
	if a.Eval != nil {
		if v, err := a.Eval(`ansible_async_dir | default("")`); err == nil {
			if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
				return s
			}
		}
	}
	return DefaultAsyncDir
}

// Check reads the job (status) or says it would erase it (cleanup).
func (m *asyncStatusModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	if m.mode == "cleanup" {
		return plan.Change{Action: plan.Run, Summary: "would erase async job " + m.jid}, nil
	}
	st, err := ReadJob(ctx, conn, m.dir, m.jid)
	if err != nil {
		return plan.Change{}, err
	}
	return JobChange(m.jid, st), nil
}

// Apply erases the job's files (cleanup), reported ok as Ansible does; a
// finished job (status) is reported as Check read it.
func (m *asyncStatusModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	if m.mode != "cleanup" {
		return planned, nil
	}
	erased, err := CleanupJob(ctx, conn, m.dir, m.jid)
	if err != nil {
		return plan.Change{}, err
	}
	data := map[string]any{"ansible_job_id": m.jid, "started": 0, "finished": 0,
		"stdout": "", "stderr": "", "stdout_lines": []any{}, "stderr_lines": []any{}}
	if erased == "" {
		data["finished"], data["started"] = 1, 1
		return plan.Change{Action: plan.None, Failed: true, Msg: "could not find job", Data: data}, nil
	}
	data["erased"] = erased
	return plan.Change{Action: plan.None, Summary: fmt.Sprintf("erased async job %s (%s)", m.jid, erased), Data: data}, nil
}
