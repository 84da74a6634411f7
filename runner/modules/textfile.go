package modules

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/kballard/go-shellquote"
	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// The file-content modules (lineinfile, blockinfile, replace) share this:
// the file read in one command (symlinks followed), binary content refused,
// the edit computed on the client, a unified diff for the dry run, and an
// atomic write (temp file in the same directory, fsync, rename, mode and
// owner kept, a backup, an in-place rewrite on a bind mount) that refuses
// to write when the file changed since Check read it, with Ansible's
// validate run on the temp file first.

// textFile is a remote file as Check read it.
type textFile struct {
	path    string
	exists  bool
	content []byte
	sha     string // hex SHA-256 of content, or transport.ExpectAbsent
}

// readTextFile reads path on the host. A missing file is exists=false; a
// directory or a file holding NUL bytes is an error.
func readTextFile(ctx context.Context, conn transport.Conn, module, p string) (*textFile, error) {
	if !path.IsAbs(p) || strings.ContainsAny(p, "\n\x00") {
		return nil, fmt.Errorf("%s: path %q must be an absolute path", module, p)
	}
	f := &textFile{path: p, sha: transport.ExpectAbsent}
	b, err := transport.ReadFile(ctx, conn, p)
	var fe *transport.FileError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return f, nil
	case errors.As(err, &fe) && fe.ExitCode == 82:
		return nil, fmt.Errorf("%s: path %s is a directory", module, p)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", module, err)
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return nil, fmt.Errorf("%s: %s holds a NUL byte at offset %d: a binary file, left untouched (%s edits text files only)", module, p, i, module)
	}
	sum := sha256.Sum256(b)
	f.exists, f.content, f.sha = true, b, hex.EncodeToString(sum[:])
	return f, nil
}

// fileEdit is a planned edit of one file: Check's result, Apply's input.
type fileEdit struct {
	module string
	file   *textFile
	after  []byte
	// create is true when the file is missing and the edit creates it
	// (an empty new file is a change too).
	create bool
	// msg is Ansible's message for the edit ("line added", "Block removed", ...).
	msg string
	// data is added to what register: stores (found, ...).
	data map[string]any
	// backupKey is the name of the backup path in the registered result
	// (lineinfile: backup; blockinfile, replace: backup_file).
	backupKey string
	// noAttrs: the module stops before applying mode, owner and group
	// (replace whose after/before section matched nothing).
	noAttrs bool
	// newMode is the mode a created file is written with (0: the default);
	// steps set the mode, owner and group asked after the write, and
	// changes show them old → new (planAttrs).
	newMode uint32
	steps   []fsStep
	changes []attrChange
}

// changed reports whether the file or its attributes would change.
func (e *fileEdit) changed() bool { return e.contentChanged() || len(e.changes) > 0 }

// contentChanged reports whether the file would be written.
func (e *fileEdit) contentChanged() bool {
	if !e.file.exists {
		return e.create
	}
	return !bytes.Equal(e.file.content, e.after)
}

// change is the plan shown to the reviewer: the diff of the file and
// Ansible's message.
func (e *fileEdit) change() plan.Change {
	c := plan.Change{Action: plan.None, Private: e}
	fc := plan.FileChange{Path: e.file.path, BeforeSHA256: e.file.sha}
	msg := e.msg
	if e.contentChanged() {
		c.Action = plan.Update
		fc.Diff = sysctlDiff(e.file.path, e.file.content, e.file.exists, e.after)
		add, del := diffCounts(fc.Diff)
		c.Summary = fmt.Sprintf("%s: %s (+%d -%d lines)", e.file.path, msg, add, del)
	}
	if len(e.changes) > 0 {
		// Ansible's check_file_attrs message.
		c.Action = plan.Update
		if e.contentChanged() {
			msg += " and "
		} else {
			msg = ""
		}
		msg += "ownership, perms or SE linux context changed"
		var parts []string
		for _, ch := range e.changes {
			parts = append(parts, fmt.Sprintf("%s %s → %s", ch.attr, ch.before, ch.after))
			c.Values = append(c.Values, plan.ValueChange{Key: ch.attr, Before: ch.before, After: ch.after, Status: sysctlStatusChange})
		}
		if e.contentChanged() {
			c.Summary += "; " + strings.Join(parts, ", ")
		} else {
			c.Summary = fmt.Sprintf("%s: %s", e.file.path, strings.Join(parts, ", "))
		}
	}
	if !e.changed() {
		msg = ""
		c.Summary = e.file.path + ": nothing to change"
		if !e.file.exists {
			c.Summary = e.file.path + ": not present, nothing to change"
		}
	}
	c.Files = []plan.FileChange{fc}
	c.Data = map[string]any{"changed": e.changed(), "msg": msg, e.backupKey: ""}
	for k, v := range e.data {
		c.Data[k] = v
	}
	return c
}

// diffCounts counts the added and removed lines of a unified diff.
func diffCounts(diff string) (add, del int) {
	for _, l := range strings.Split(diff, "\n") {
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
		case strings.HasPrefix(l, "+"):
			add++
		case strings.HasPrefix(l, "-"):
			del++
		}
	}
	return add, del
}

// writeOpts are the write arguments every content module takes.
type writeOpts struct {
	backup   bool
	validate []string  // argv with %s, nil for none
	attrs    fileAttrs // mode, owner and group asked
}

// setWriteArgs reads the arguments every text module takes for its write:
// validate (a command run on the new content first) and the file's mode,
// owner and group.
func (o *writeOpts) setWriteArgs(a Args, mod string, at func(string) *yaml.Node, validate string, common fileCommonArgs) error {
	var err error
	if o.validate, err = parseValidate(a.File, at("validate"), mod, validate); err != nil {
		return err
	}
	o.attrs, err = common.attrs(a, mod)
	return err
}

// parseValidate splits a validate command as Ansible does (shell words, no
// shell) and requires the %s that names the temp file.
func parseValidate(file string, n *yaml.Node, module, v string) ([]string, error) {
	if v == "" || yamlnode.IsTemplateText(v) {
		return nil, nil
	}
	if !strings.Contains(v, "%s") {
		return nil, posErr(file, n, module, "validate must contain %%s (the file to check): %q", v)
	}
	if strings.Count(v, "%") != strings.Count(v, "%s") {
		return nil, posErr(file, n, module, "validate: only %%s may follow a %% sign: %q", v)
	}
	argv, err := shellquote.Split(v)
	if err != nil || len(argv) == 0 {
		return nil, posErr(file, n, module, "validate: cannot split %q into words: %v", v, err)
	}
	return argv, nil
}

// applyFileEdit writes the planned edit. The write is refused
// (*transport.StaleError) when the file no longer holds what Check read. A
// failing validate or write step is a failed result with the file intact.
func applyFileEdit(ctx context.Context, conn transport.Conn, e *fileEdit, o writeOpts) (plan.Change, error) {
	c := e.change()
	if !e.changed() {
		return c, nil
	}
	if !e.contentChanged() {
		if err := fsChange(ctx, conn, e.steps); err != nil {
			c.Failed, c.Msg = true, fmt.Sprintf("%s: %s: %v", e.module, e.file.path, err)
		}
		return c, nil
	}
	if !e.file.exists {
		dir := path.Dir(e.file.path)
		res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", `mkdir -p -- "$1"`, "sh", dir}})
		if err != nil {
			return plan.Change{}, fmt.Errorf("%s: %w", e.module, err)
		}
		if res.ExitCode != 0 {
			c.Failed, c.Msg = true, fmt.Sprintf("creating %s: %s", dir, strings.TrimSpace(string(res.Stderr)))
			return c, nil
		}
	}
	mode := fs.FileMode(0o644)
	if e.newMode&0o777 != 0 {
		mode = fs.FileMode(e.newMode & 0o777)
	}
	res, err := transport.WriteFileAtomic(ctx, conn, e.file.path, e.after, transport.WriteOptions{
		Backup: o.backup || backupsForced(ctx), ExpectSHA256: e.file.sha, Mode: mode, Validate: o.validate})
	var fe *transport.FileError
	switch {
	case errors.As(err, &fe) && fe.ExitCode == 95:
		c.Failed = true
		c.Msg = fmt.Sprintf("failed to validate: %s; %s left unchanged", strings.TrimSpace(fe.Stderr), e.file.path)
		return c, nil
	case errors.As(err, &fe):
		c.Failed, c.Msg = true, err.Error()
		return c, nil
	case err != nil:
		return plan.Change{}, fmt.Errorf("%s: %w", e.module, err)
	}
	c.Files[0].Backup, c.Files[0].InPlace = res.BackupPath, res.InPlace
	c.Data[e.backupKey] = res.BackupPath
	c.Undo = fileUndo(c.Files[0], e.after)
	if err := fsChange(ctx, conn, e.steps); err != nil {
		c.Failed, c.Msg = true, fmt.Sprintf("%s: %s: content written, then: %v", e.module, e.file.path, err)
	}
	return c, nil
}

// replanned returns the edit Check planned, or, when the plan carries none
// (a saved plan) or another file's, plans again with check and refuses a
// file that changed since the plan was made.
func replanned(ctx context.Context, conn transport.Conn, planned plan.Change, path string,
	check func(context.Context, transport.Conn) (*fileEdit, error)) (*fileEdit, error) {
	e, _ := planned.Private.(*fileEdit)
	if e != nil && e.file.path == path {
		return e, nil
	}
	e, err := check(ctx, conn)
	if err != nil {
		return nil, err
	}
	if len(planned.Files) > 0 && planned.Files[0].BeforeSHA256 != "" && planned.Files[0].BeforeSHA256 != e.file.sha {
		return nil, &transport.StaleError{Path: path, Want: planned.Files[0].BeforeSHA256, Got: e.file.sha}
	}
	return e, nil
}

// fileLines splits content after each '\n' (Python's readlines on a
// binary file): every line keeps its ending, a last line may have none.
func fileLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, b)
			break
		}
		out = append(out, b[:i+1])
		b = b[i+1:]
	}
	return out
}

// chomp drops one trailing '\n': Python's `$` (without MULTILINE) also
// matches before a final newline, Go's only at the very end.
func chomp(b []byte) []byte { return bytes.TrimSuffix(b, []byte{'\n'}) }

// checkEdit is Check of every text-editing module (lineinfile,
// blockinfile, replace): the edit the module plans on the file as read
// now, as a change with its diff.
func checkEdit(ctx context.Context, conn transport.Conn, o writeOpts, planEdit func(context.Context, transport.Conn) (*fileEdit, error)) (plan.Change, error) {
	e, err := withAttrs(o, planEdit)(ctx, conn)
	if err != nil {
		return plan.Change{}, err
	}
	return e.change(), nil
}

// applyEdit is Apply of every text-editing module: it writes what Check
// planned for path, or refuses a file that changed since.
func applyEdit(ctx context.Context, conn transport.Conn, planned plan.Change, path string, o writeOpts,
	planEdit func(context.Context, transport.Conn) (*fileEdit, error)) (plan.Change, error) {
	e, err := replanned(ctx, conn, planned, path, withAttrs(o, planEdit))
	if err != nil {
		return plan.Change{}, err
	}
	return applyFileEdit(ctx, conn, e, o)
}

// decodeTextArgs decodes a text-editing module's arguments strictly into
// args (a pointer to its struct); at finds a key's node and fail returns
// an error positioned on it, for the module's own checks.
func decodeTextArgs(a Args, mod string, args any) (at func(string) *yaml.Node, fail func(key, format string, v ...any) (Module, error), err error) {
	if err := yamlnode.DecodeStrict(a.File, a.Node, args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, nil, err
	}
	at = func(key string) *yaml.Node { return sysctlArgValue(a.Node, key, a.Node) }
	fail = func(key, format string, v ...any) (Module, error) {
		return nil, posErr(a.File, at(key), mod, format, v...)
	}
	return at, fail, nil
}

// withAttrs is planEdit followed by planAttrs for the attributes o asks.
func withAttrs(o writeOpts, planEdit func(context.Context, transport.Conn) (*fileEdit, error)) func(context.Context, transport.Conn) (*fileEdit, error) {
	return func(ctx context.Context, conn transport.Conn) (*fileEdit, error) {
		e, err := planEdit(ctx, conn)
		if err != nil {
			return nil, err
		}
		if err := planAttrs(ctx, conn, e, o.attrs); err != nil {
			return nil, err
		}
		return e, nil
	}
}
