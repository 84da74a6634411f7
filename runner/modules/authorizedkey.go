package modules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// authorizedKeySpec adds or removes SSH keys in a user's authorized_keys:
// ansible.posix.authorized_key. The file is rewritten atomically, 0600 and
// owned by the user, in ~user/.ssh (0700, the user's) unless path says
// otherwise; a dry run shows the diff.
var authorizedKeySpec = Spec{New: newAuthorizedKey, Verifiable: true}

// authorizedKeyArgs are authorized_key's YAML arguments.
type authorizedKeyArgs struct {
	User          string  `yaml:"user"`
	Key           string  `yaml:"key"`
	Path          string  `yaml:"path"`
	ManageDir     *bool   `yaml:"manage_dir"`
	State         string  `yaml:"state"`
	KeyOptions    *string `yaml:"key_options"`
	Exclusive     bool    `yaml:"exclusive"`
	Comment       *string `yaml:"comment"`
	Follow        bool    `yaml:"follow"`
	ValidateCerts *bool   `yaml:"validate_certs"`
}

// authorizedKeyModule is one authorized_key task, validated.
type authorizedKeyModule struct {
	user      string
	path      string // "" for ~user/.ssh/authorized_keys
	manageDir bool
	edit      akEdit
	args      authorizedKeyArgs
}

func newAuthorizedKey(a Args) (Module, error) {
	args := authorizedKeyArgs{State: "present"}
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	perr := func(key, format string, v ...any) error {
		return posErr(a.File, argValueNode(a.Node, key), "authorized_key", format, v...)
	}
	m := &authorizedKeyModule{user: args.User, manageDir: args.ManageDir == nil || *args.ManageDir, args: args}
	if args.User == "" {
		return nil, perr("user", "user is required")
	}
	if err := checkAccountName(a, "authorized_key", "user", args.User); err != nil {
		return nil, err
	}
	switch args.State {
	case "present", "absent":
		m.edit.present = args.State == "present"
	default:
		if !templated(args.State) {
			return nil, perr("state", "state must be present or absent, not %q", args.State)
		}
	}
	m.edit.exclusive = args.Exclusive
	if args.Path != "" {
		p, err := checkRemotePath(a, "authorized_key", "path", args.Path)
		if err != nil {
			return nil, err
		}
		m.path = p
	}
	if args.Key == "" {
		return nil, perr("key", "key is required (one or more public keys, one a line)")
	}
	if templated(args.Key) {
		return m, nil
	}
	if strings.HasPrefix(args.Key, "http") {
		return nil, perr("key", "a key fetched from a URL is not supported: fetch it first (uri with return_content) and give its content")
	}
	for i, line := range strings.Split(args.Key, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, ok := parseAKLine(line, len(m.edit.keys))
		if !ok || k.typ == "" {
			return nil, perr("key", "key line %d is not a public key (TYPE BASE64 [COMMENT], options first allowed): %.60q", i+1, line)
		}
		if args.KeyOptions != nil {
			k.opts = parseAKOptions(*args.KeyOptions)
		}
		if args.Comment != nil {
			k.comment = *args.Comment
		}
		m.edit.keys = append(m.edit.keys, k)
	}
	if len(m.edit.keys) == 0 {
		return nil, perr("key", "key holds no public key")
	}
	return m, nil
}

// akState is what Check found and planned.
type akState struct {
	file, dir     string
	uid, gid      int
	existed       bool
	before, after string
	sha           string // of before, or transport.ExpectAbsent
	steps         []fsStep
	write         bool
}

// akUserScript prints the user's passwd entry; exit 3 when there is none.
const akUserScript = `getent passwd -- "$1" || exit 3`

func (m *authorizedKeyModule) inspect(ctx context.Context, conn transport.Conn) (*akState, error) {
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", akUserScript, "sh", m.user}})
	if err != nil {
		return nil, err
	}
	f := strings.Split(strings.TrimSpace(string(res.Stdout)), ":")
	if res.ExitCode != 0 || len(f) < 7 {
		return nil, fmt.Errorf("failed to lookup user %s", m.user)
	}
	st := &akState{file: path.Join(f[5], ".ssh", "authorized_keys")}
	st.uid, _ = strconv.Atoi(f[2])
	st.gid, _ = strconv.Atoi(f[3])
	if m.path != "" {
		st.file = m.path
	}
	st.dir = path.Dir(st.file)
	if m.args.Follow {
		ans, _, err := fsProbe(ctx, conn, []fsOp{{"real", st.file}})
		if err != nil {
			return nil, err
		}
		if ans[0].status == "ok" {
			st.file = ans[0].value
		}
	}
	ans, _, err := fsProbe(ctx, conn, []fsOp{{"stat", st.dir}, {"missing", path.Dir(st.file)}, {"stat", st.file}, {"cat", st.file}})
	if err != nil {
		return nil, err
	}
	if ans[2].status == "ok" && ans[2].entry.Type != 'f' {
		return nil, fmt.Errorf("%s exists as a %s, not a regular file", st.file, entryKind(ans[2].entry.Type))
	}
	st.existed = ans[2].status == "ok"
	st.sha = transport.ExpectAbsent
	if st.existed {
		st.before = string(ans[3].content)
		sum := sha256.Sum256(ans[3].content)
		st.sha = hex.EncodeToString(sum[:])
	}
	kf := parseAKFile(st.before)
	st.write = m.edit.apply(kf)
	if !st.write {
		return st, nil
	}
	st.after = kf.serialize()
	owner := fmt.Sprintf("%d:%d", st.uid, st.gid)
	if m.manageDir {
		if ans[0].status != "ok" {
			st.steps = append(st.steps, fsStep{"mkdir", st.dir, ""})
		}
		st.steps = append(st.steps, fsStep{"chown", st.dir, owner}, fsStep{"chmod", st.dir, "0700"})
	}
	if !st.existed {
		missing := ans[1].list
		for i := len(missing) - 1; i >= 0; i-- {
			if !(m.manageDir && missing[i] == st.dir) {
				st.steps = append(st.steps, fsStep{"mkdir", missing[i], ""})
			}
		}
		st.steps = append(st.steps, fsStep{"create", st.file, ""})
	}
	st.steps = append(st.steps, fsStep{"chown", st.file, owner}, fsStep{"chmod", st.file, "0600"})
	return st, nil
}

// change renders the plan.
func (m *authorizedKeyModule) change(st *akState) plan.Change {
	data := map[string]any{"keyfile": st.file, "user": m.user, "key": m.args.Key, "state": m.args.State,
		"exclusive": m.edit.exclusive, "manage_dir": m.manageDir, "follow": m.args.Follow,
		"path": nilIfEmpty(m.path), "key_options": m.args.KeyOptions, "comment": m.args.Comment}
	c := plan.Change{Action: plan.None, Data: data, Summary: st.file + ": ok"}
	if !st.write {
		return c
	}
	c.Action = plan.Update
	c.Files = []plan.FileChange{{Path: st.file, BeforeSHA256: st.sha, Diff: sysctlDiff(st.file, []byte(st.before), st.existed, []byte(st.after))}}
	verb := "add"
	if !m.edit.present {
		verb = "remove"
	}
	c.Summary = fmt.Sprintf("%s: would %s %s", st.file, verb, pluralize(int64(len(m.edit.keys)), "key"))
	if m.edit.exclusive {
		c.Summary += " (exclusive: others removed)"
	}
	return c
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Check reads the user, the file and its directory, and plans the edit.
func (m *authorizedKeyModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	st, err := m.inspect(ctx, conn)
	if err != nil {
		return plan.Change{}, fmt.Errorf("authorized_key: %w", err)
	}
	c := m.change(st)
	c.Private = st
	return c, nil
}

// Apply makes the directory and the file the user's, then writes the new
// content atomically (refused when the file changed since Check).
func (m *authorizedKeyModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	st, _ := planned.Private.(*akState)
	if st == nil {
		var err error
		if st, err = m.inspect(ctx, conn); err != nil {
			return plan.Change{}, fmt.Errorf("authorized_key: %w", err)
		}
	}
	c := m.change(st)
	if !st.write {
		return c, nil
	}
	failed := func(err error) (plan.Change, error) {
		c.Failed, c.Msg = true, fmt.Sprintf("authorized_key: %s: %v", st.file, err)
		return c, nil
	}
	if err := fsChange(ctx, conn, st.steps); err != nil {
		return failed(err)
	}
	want := st.sha
	if !st.existed {
		want = sha256Hex(nil) // the empty file just created
	}
	res, err := transport.WriteFileAtomic(ctx, conn, st.file, []byte(st.after),
		transport.WriteOptions{Backup: backupsForced(ctx), ExpectSHA256: want, Mode: 0o600})
	if err != nil {
		var fe *transport.FileError
		if errors.As(err, &fe) {
			return failed(err)
		}
		return plan.Change{}, fmt.Errorf("authorized_key: %w", err)
	}
	c.Files[0].Backup, c.Files[0].InPlace = res.BackupPath, res.InPlace
	c.Summary = strings.Replace(c.Summary, "would ", "done: ", 1)
	return c, nil
}
