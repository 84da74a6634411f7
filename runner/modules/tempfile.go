package modules

import (
	"context"
	"fmt"
	"strings"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// tempfileSpec makes a temporary file or directory on the host and
// registers its path: Ansible's tempfile. Each run makes a new one, so it
// is not Verifiable; like Ansible 2.14 (whose tempfile does not support
// check mode) a dry run skips it.
var tempfileSpec = Spec{New: newTempfile}

// tempfileArgs are tempfile's YAML arguments.
type tempfileArgs struct {
	State  string  `yaml:"state"`
	Path   string  `yaml:"path"`
	Prefix *string `yaml:"prefix"`
	Suffix string  `yaml:"suffix"`
}

// tempfileModule is one tempfile task, validated.
type tempfileModule struct {
	dir            bool
	path           string // the directory to create in, "" for $TMPDIR or /tmp
	prefix, suffix string
}

// tempfileScript makes the file ($1 = file) or directory ($1 = directory)
// in $2 (or $TMPDIR, else /tmp), named $3 + 8 random characters + $4, as
// mktemp does: a file 0600, a directory 0700. Prints its path.
const tempfileScript = `LC_ALL=C; export LC_ALL
d=$2
[ -n "$d" ] || d=${TMPDIR:-/tmp}
if [ "$1" = directory ]; then
	mktemp -d -p "$d" --suffix="$4" -- "$3XXXXXXXX"
else
	mktemp -p "$d" --suffix="$4" -- "$3XXXXXXXX"
fi`

func newTempfile(a Args) (Module, error) {
	args := tempfileArgs{State: "file"}
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	m := &tempfileModule{prefix: "ansible.", suffix: args.Suffix}
	if args.Prefix != nil {
		m.prefix = *args.Prefix
	}
	switch args.State {
	case "file":
	case "directory":
		m.dir = true
	default:
		if !templated(args.State) {
			return nil, posErr(a.File, argValueNode(a.Node, "state"), "tempfile", "state must be file or directory, not %q", args.State)
		}
	}
	for _, x := range []struct{ key, v string }{{"prefix", m.prefix}, {"suffix", m.suffix}} {
		if strings.ContainsAny(x.v, "/\x00\n") {
			return nil, posErr(a.File, argValueNode(a.Node, x.key), "tempfile", "%s %q cannot hold a slash, a NUL or a line break", x.key, x.v)
		}
	}
	if args.Path != "" {
		p, err := checkRemotePath(a, "tempfile", "path", args.Path)
		if err != nil {
			return nil, err
		}
		m.path = p
	}
	return m, nil
}

func (m *tempfileModule) kind() string {
	if m.dir {
		return "directory"
	}
	return "file"
}

// Check plans the creation; nothing is read (the name is random).
func (m *tempfileModule) Check(_ context.Context, _ transport.Conn) (plan.Change, error) {
	where := m.path
	if where == "" {
		where = "$TMPDIR or /tmp"
	}
	return plan.Change{Action: plan.Run, Summary: fmt.Sprintf("would create a temporary %s in %s", m.kind(), where)}, nil
}

// Apply makes it and registers its path.
func (m *tempfileModule) Apply(ctx context.Context, conn transport.Conn, _ plan.Change) (plan.Change, error) {
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", tempfileScript, "sh", m.kind(), m.path, m.prefix, m.suffix}})
	if err != nil {
		return plan.Change{}, fmt.Errorf("tempfile: %w", err)
	}
	if res.ExitCode != 0 {
		msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(res.Stderr)), "mktemp: "))
		return plan.Change{Failed: true, Msg: msg, Data: map[string]any{"msg": msg}, Summary: "tempfile: " + msg}, nil
	}
	p := strings.TrimSpace(string(res.Stdout))
	data := map[string]any{"path": p, "state": m.kind()}
	return plan.Change{Action: plan.Update, Data: data, Summary: fmt.Sprintf("%s: created (a temporary %s)", p, m.kind())}, nil
}
