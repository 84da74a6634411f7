package modules

import (
	"context"
	"encoding/base64"
	"fmt"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// slurpSpec reads a file of the host into the task's result, base64
// encoded: Ansible's slurp. It only reads, so it runs in check mode too
// (Ansible's slurp supports check mode fully).
var slurpSpec = Spec{New: newSlurp, RunsInCheckMode: true}

type slurpArgs struct {
	Src  string `yaml:"src"`
	Path string `yaml:"path"`
}

type slurpModule struct{ src string }

func newSlurp(a Args) (Module, error) {
	var args slurpArgs
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	p, key, err := pickAlias(a, "slurp", alias{"src", args.Src}, alias{"path", args.Path})
	if err != nil {
		return nil, err
	}
	if key == "" {
		key = "src"
	}
	m := &slurpModule{}
	if m.src, err = checkRemotePath(a, "slurp", key, p); err != nil {
		return nil, err
	}
	return m, nil
}

// slurpOps read src in one command: the followed entry, whether it opens
// (a file behind a directory the user may not enter is "not readable", as
// Python's open says EACCES), and the content.
func slurpOps(src string) []fsOp {
	return []fsOp{{"stat", src}, {"open", src}, {"cat", src}}
}

// Check reads the file and returns Ansible's result: content (base64),
// encoding, source; or Ansible's failure message.
func (m *slurpModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	ans, _, err := fsProbe(ctx, conn, slurpOps(m.src))
	if err != nil {
		return plan.Change{}, fmt.Errorf("slurp: %s: %w", m.src, err)
	}
	return slurpResult(m.src, ans), nil
}

// slurpResult turns the probe's answers into the task's result, with the
// messages of Ansible's slurp (ENOENT, EACCES, EISDIR).
func slurpResult(src string, ans []fsAnswer) plan.Change {
	fail := func(msg string) plan.Change {
		return plan.Change{Action: plan.Read, Failed: true, Msg: msg, Summary: "slurp: " + msg}
	}
	switch {
	case ans[0].status != "ok" && ans[1].status == "denied":
		return fail("file is not readable: " + src)
	case ans[0].status != "ok": // absent, or a dangling symlink
		return fail("file not found: " + src)
	case ans[0].entry.Type == 'd':
		return fail("source is a directory and must be a file: " + src)
	case ans[1].status == "denied":
		return fail("file is not readable: " + src)
	case ans[0].entry.Type != 'f' || ans[2].status != "ok":
		// Python would read a device or block on a fifo; tend reads
		// only regular files.
		return fail(fmt.Sprintf("unable to slurp file: %s is not a regular file", src))
	}
	data := ans[2].content
	return plan.Change{Action: plan.Read, Summary: fmt.Sprintf("%s: read %s", src, humanBytes(int64(len(data)))),
		Data: map[string]any{"content": base64.StdEncoding.EncodeToString(data), "encoding": "base64", "source": src}}
}

// Apply is never needed: Check changes nothing.
func (m *slurpModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	return planned, nil
}
