package modules

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// copySpec writes a file on the host from inline content or a controller
// file: Ansible's copy module, with a unified diff in check mode, an atomic
// write (symlinks followed and kept, in place on a bind mount), a backup
// when asked, and validate run on a temporary copy before anything changes.
var copySpec = Spec{New: newCopy, Verifiable: true}

type copyArgs struct {
	Dest     string  `yaml:"dest"`
	Src      string  `yaml:"src"`
	Content  *string `yaml:"content"`
	Mode     string  `yaml:"mode"`
	Owner    string  `yaml:"owner"`
	Group    string  `yaml:"group"`
	Backup   bool    `yaml:"backup"`
	Validate string  `yaml:"validate"`
	Force    *bool   `yaml:"force"`
	Follow   *bool   `yaml:"follow"`
	// DirectoryMode, RemoteSrc and LocalFollow are copy's own (a directory
	// src, a src on the host); template refuses them.
	DirectoryMode string `yaml:"directory_mode"`
	RemoteSrc     bool   `yaml:"remote_src"`
	LocalFollow   *bool  `yaml:"local_follow"`
}

type copyModule struct {
	name     string // the module, for messages: copy or template
	dest     string
	src      string // the controller file, for messages
	content  []byte
	attrs    fileAttrs
	backup   bool
	validate []string
	force    bool
	remote   bool // remote_src: src is a file on the host, read by Check
}

// copyMaxSrc bounds a controller file copy reads.
const copyMaxSrc = transport.MaxReadFile

func newCopy(a Args) (Module, error) {
	var args copyArgs
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	if args.LocalFollow != nil && !*args.LocalFollow {
		return nil, posErr(a.File, argNode(a.Node, "local_follow"), "copy", "local_follow: false is not supported: tend copies what a symlink in src points to")
	}
	if args.DirectoryMode != "" && !templated(args.DirectoryMode) {
		if _, err := parseFileMode(args.DirectoryMode); err != nil {
			return nil, posErr(a.File, argNode(a.Node, "directory_mode"), "copy", "directory_mode: %v", err)
		}
	}
	if args.RemoteSrc {
		return buildCopyTree(a, args, "")
	}
	if args.Src != "" && !templated(args.Src) {
		if d := findControllerDir(a.sourceCandidates("files", args.Src)); d != "" {
			return buildCopyTree(a, args, d)
		}
	}
	return buildCopy(a, "copy", args, func(src string) (string, []byte, uint32, error) {
		return readFirstFile(src, a.sourceCandidates("files", src))
	})
}

// srcReader finds a controller file src and returns its path, the content
// to write and its mode.
type srcReader func(src string) (string, []byte, uint32, error)

// buildCopy checks copy's arguments for the module named (copy, template):
// the content is given, or src read by readSrc.
func buildCopy(a Args, name string, args copyArgs, readSrc srcReader) (Module, error) {
	fail := func(key, format string, v ...any) (Module, error) {
		return nil, posErr(a.File, argNode(a.Node, key), name, format, v...)
	}
	m := &copyModule{name: name, backup: args.Backup, force: true, attrs: fileAttrs{owner: args.Owner, group: args.Group}}
	if args.Force != nil {
		m.force = *args.Force
	}
	if args.Follow != nil && !*args.Follow {
		return fail("follow", "follow: false is not supported: tend writes through a symlink and keeps it")
	}
	var err error
	if args.Dest == "" {
		return fail("dest", "dest is required")
	}
	dest := args.Dest
	if m.dest, err = checkRemotePath(a, name, "dest", dest); err != nil {
		return nil, err
	}
	switch {
	case args.Content != nil && args.Src != "":
		return fail("src", "give src or content, not both")
	case args.Content == nil && args.Src == "":
		return fail("dest", "give src (a file beside the playbook) or content")
	case args.Content != nil:
		m.content = []byte(*args.Content)
		if strings.HasSuffix(dest, "/") {
			return fail("dest", "dest %q is a directory: content needs a file name", dest)
		}
	default:
		m.src = args.Src
		if !templated(args.Src) {
			p, data, mode, err := readSrc(args.Src)
			if err != nil {
				return fail("src", "%v", err)
			}
			m.src, m.content = p, data
			if args.Mode == "preserve" {
				args.Mode = fmt.Sprintf("%04o", mode)
			}
			if strings.HasSuffix(dest, "/") && !templated(dest) {
				m.dest = path.Join(m.dest, filepath.Base(p))
			}
		}
	}
	if args.Mode == "preserve" && args.Content != nil {
		return fail("mode", "mode: preserve needs src")
	}
	if m.attrs.mode, err = modeArg(a, name, args.Mode); err != nil {
		return nil, err
	}
	if args.Validate != "" {
		if !strings.Contains(args.Validate, "%s") {
			return fail("validate", "validate must contain %%s (the file to check)")
		}
		words, err := splitTemplated(a, args.Validate)
		if err != nil {
			return fail("validate", "%v", err)
		}
		m.validate = words
	}
	return m, nil
}

// readFirstFile reads the first of tries that exists (an absolute src is
// read as is): its path, content and permission bits.
func readFirstFile(src string, tries []string) (string, []byte, uint32, error) {
	if filepath.IsAbs(src) {
		tries = []string{src}
	}
	for _, p := range tries {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if fi.IsDir() {
			return "", nil, 0, fmt.Errorf("src %s is a directory: a file is needed here", p)
		}
		if fi.Size() > copyMaxSrc {
			return "", nil, 0, fmt.Errorf("src %s is larger than %d bytes", p, copyMaxSrc)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return "", nil, 0, fmt.Errorf("src: %v", err)
		}
		return p, b, uint32(fi.Mode().Perm()), nil
	}
	return "", nil, 0, fmt.Errorf("src %q not found (looked in %s)", src, strings.Join(tries, ", "))
}

// copyState is what Check saw and plans.
type copyState struct {
	dest    string // the path written (dest, or dest/NAME when dest is a directory)
	exists  bool
	entry   fsEntry // followed
	old     []byte
	sha     string // of old, or transport.ExpectAbsent
	write   bool
	newMode uint32 // mode of a new file
	steps   []fsStep
	changes []attrChange
	warning string
	content []byte // what is written: the module's, or the host's src file (remote_src)
}

// Check reads dest (followed), its directory and the owner and group asked
// in one remote command, and plans: a diff and old → new attributes.
func (m *copyModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	st, err := m.inspect(ctx, conn)
	if err != nil {
		return plan.Change{}, fmt.Errorf("%s: %s: %w", m.name, m.dest, err)
	}
	c := m.change(st)
	c.Private = st
	return c, nil
}

func (m *copyModule) inspect(ctx context.Context, conn transport.Conn) (*copyState, error) {
	if !path.IsAbs(m.dest) || strings.ContainsRune(m.dest, 0) {
		return nil, fmt.Errorf("dest must be an absolute path")
	}
	st := &copyState{dest: path.Clean(m.dest), content: m.content}
	if m.remote {
		b, err := readRemoteSrc(ctx, conn, m.src)
		if err != nil {
			return nil, err
		}
		st.content = b
	}
	probe := func() ([]fsAnswer, hostIDs, error) {
		ops := append([]fsOp{{"stat", st.dest}, {"stat", path.Dir(st.dest)}}, m.attrs.ops()...)
		ops = append(ops, fsOp{"cat", st.dest})
		ans, _, err := fsProbe(ctx, conn, ops)
		if err != nil {
			return nil, hostIDs{}, err
		}
		ids, rest, err := m.attrs.resolve(ans[2 : len(ans)-1])
		_ = rest
		return ans, ids, err
	}
	ans, ids, err := probe()
	if err != nil {
		return nil, err
	}
	if ans[0].status == "ok" && ans[0].entry.Type == 'd' {
		if m.src == "" {
			return nil, fmt.Errorf("is a directory: content needs a file name")
		}
		st.dest = path.Join(st.dest, filepath.Base(m.src))
		if ans, ids, err = probe(); err != nil {
			return nil, err
		}
	}
	if ans[1].status != "ok" || ans[1].entry.Type != 'd' {
		// A dry run may come before the task that makes the directory: say
		// so; the write itself fails if it is still missing then.
		st.warning = fmt.Sprintf("destination directory %s does not exist now: an earlier task must create it", path.Dir(st.dest))
	}
	st.sha = transport.ExpectAbsent
	switch {
	case ans[0].status == "ok" && ans[0].entry.Type != 'f':
		return nil, fmt.Errorf("exists as a %s, not a regular file", entryKind(ans[0].entry.Type))
	case ans[0].status == "ok":
		cat := ans[len(ans)-1]
		if cat.status != "ok" {
			return nil, fmt.Errorf("cannot read the current content")
		}
		st.exists, st.entry, st.old = true, ans[0].entry, cat.content
		st.entry.Path = st.dest
		sum := sha256.Sum256(st.old)
		st.sha = hex.EncodeToString(sum[:])
	}
	if st.exists && !m.force {
		return st, nil // force: false never touches an existing file
	}
	st.write = !st.exists || !bytes.Equal(st.old, st.content)
	st.newMode, st.steps, st.changes = m.attrs.newFilePlan(st.dest, st.exists, st.entry, ids)
	return st, nil
}

// change renders the plan: the diff, and attributes old → new.
func (m *copyModule) change(st *copyState) plan.Change {
	c := plan.Change{Action: plan.None, Summary: st.dest + ": ok"}
	fc := plan.FileChange{Path: st.dest, BeforeSHA256: st.sha}
	var parts []string
	if st.write {
		fc.Diff = copyDiff(st.dest, st.old, st.exists, st.content)
		if st.exists {
			parts = append(parts, "rewrite the content")
		} else {
			parts = append(parts, fmt.Sprintf("create it (%s)", humanBytes(int64(len(st.content)))))
		}
	}
	c.Files = []plan.FileChange{fc}
	if st.warning != "" {
		c.Warnings = append(c.Warnings, st.warning)
	}
	for _, ch := range st.changes {
		c.Values = append(c.Values, plan.ValueChange{Key: ch.attr, Before: ch.before, After: ch.after, Status: sysctlStatusChange})
	}
	if len(st.changes) > 0 && st.exists {
		parts = append(parts, fmt.Sprintf("change %s", pluralize(int64(len(st.changes)), "attribute")))
	}
	if st.exists && !m.force && !bytes.Equal(st.old, st.content) {
		c.Summary = st.dest + ": exists, left as it is (force: false)"
	}
	if len(parts) > 0 {
		c.Action = plan.Update
		c.Summary = fmt.Sprintf("%s: would %s", st.dest, strings.Join(parts, ", "))
	}
	sum := sha1.Sum(st.content)
	c.Data = map[string]any{"dest": st.dest, "checksum": hex.EncodeToString(sum[:]), "size": len(st.content), "state": "file"}
	if m.src != "" {
		c.Data["src"] = m.src
	}
	return c
}

// copyDiff is a unified diff of the content, or a line saying binary
// content differs.
func copyDiff(file string, before []byte, existed bool, after []byte) string {
	if isBinary(before) || isBinary(after) {
		a, b := sha256.Sum256(before), sha256.Sum256(after)
		return fmt.Sprintf("Binary content differs: %s (sha256 %s, %d bytes) → (sha256 %s, %d bytes)\n",
			file, hex.EncodeToString(a[:8]), len(before), hex.EncodeToString(b[:8]), len(after))
	}
	return sysctlDiff(file, before, existed, after)
}

func isBinary(b []byte) bool { return bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b) }
