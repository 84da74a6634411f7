package modules

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// fetchSpec copies a file from the host to the controller: Ansible's
// fetch. Ansible 2.14 skips fetch in check mode ("check mode not (yet)
// supported for this module"), so Check plans plan.Run: a dry run reads
// the host's checksum and says what would be fetched, and the task shows
// skipped, as Ansible's. It changes nothing on the host, so there is
// nothing to verify.
var fetchSpec = Spec{New: newFetch}

// fetchArgs are fetch's YAML arguments.
type fetchArgs struct {
	Src              string `yaml:"src"`
	Dest             string `yaml:"dest"`
	Flat             bool   `yaml:"flat"`
	FailOnMissing    *bool  `yaml:"fail_on_missing"`
	ValidateChecksum *bool  `yaml:"validate_checksum"`
}

// fetchModule is one fetch task, validated.
type fetchModule struct {
	src           string // absolute, cleaned, on the host
	dest          string // on the controller: absolute, ~ expanded, as given otherwise
	flat          bool
	failOnMissing bool
	validate      bool
	host          string // inventory_hostname, for dest/HOST/SRC
}

func newFetch(a Args) (Module, error) {
	var args fetchArgs
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	perr := func(key, format string, v ...any) error {
		return posErr(a.File, argValueNode(a.Node, key), "fetch", format, v...)
	}
	m := &fetchModule{flat: args.Flat, failOnMissing: true, validate: true}
	if args.FailOnMissing != nil {
		m.failOnMissing = *args.FailOnMissing
	}
	if args.ValidateChecksum != nil {
		m.validate = *args.ValidateChecksum
	}
	if args.Src == "" {
		return nil, perr("src", "src is required (the file on the host)")
	}
	if args.Dest == "" {
		return nil, perr("dest", "dest is required (a directory on the controller, or the file with flat: true)")
	}
	var err error
	if m.src, err = checkRemotePath(a, "fetch", "src", args.Src); err != nil {
		return nil, err
	}
	if strings.ContainsRune(args.Dest, 0) {
		return nil, perr("dest", "dest: a path cannot hold a NUL byte")
	}
	m.dest = args.Dest
	if !templated(m.dest) {
		if m.dest, err = controllerPath(a.File, m.dest); err != nil {
			return nil, perr("dest", "dest: %v", err)
		}
	}
	if a.Eval != nil {
		v, err := a.Eval("inventory_hostname")
		if err != nil {
			return nil, perr("dest", "dest: cannot read inventory_hostname: %v", err)
		}
		m.host = fmt.Sprint(v)
	}
	return m, nil
}

// controllerPath makes dest absolute as Ansible's path_dwim does: "~" is
// the controller user's home, a relative path lies beside the playbook
// (the file holding the task). A trailing slash is kept: with flat it
// means "a directory".
func controllerPath(playbook, dest string) (string, error) {
	slash := strings.HasSuffix(dest, "/")
	switch {
	case dest == "~" || strings.HasPrefix(dest, "~/"):
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dest = filepath.Join(home, dest[1:])
	case strings.HasPrefix(dest, "~"):
		return "", fmt.Errorf("%q: ~user is not supported, give the path", dest)
	case !filepath.IsAbs(dest):
		dir, err := filepath.Abs(filepath.Dir(playbook))
		if err != nil {
			return "", err
		}
		dest = filepath.Join(dir, dest)
	}
	dest = filepath.Clean(dest)
	if slash && dest != "/" {
		dest += "/"
	}
	return dest, nil
}

// fetchLocalPath is where the file lands on the controller: with flat,
// dest itself (dest ending in / is a directory: dest/BASENAME); else
// dest/HOST/SRC. An existing directory given as a flat dest without the
// slash is refused, as Ansible refuses it.
func fetchLocalPath(dest, host, src string, flat bool) (string, error) {
	if flat {
		if strings.HasSuffix(dest, "/") {
			return filepath.Join(dest, filepath.Base(src)), nil
		}
		if fi, err := os.Stat(dest); err == nil && fi.IsDir() {
			return "", fmt.Errorf("dest is an existing directory, use a trailing slash if you want to fetch src into that directory")
		}
		return filepath.Clean(dest), nil
	}
	if host == "" || host == "." || host == ".." || strings.ContainsAny(host, "/\x00") {
		return "", fmt.Errorf("inventory_hostname %q cannot name a directory under dest", host)
	}
	return filepath.Join(dest, host, src), nil
}

// fetchState is what Check saw: the host's file and the local copy.
type fetchState struct {
	local    string // the controller path, "" when localErr says why not
	localErr string
	problem  string // "missing", "directory", "unreadable", "special"
	size     int64
	perm     uint32 // the host file's permission bits
	remote   string // sha1 of the host's file
	current  string // sha1 of the local copy, "" when there is none
}

// Check reads the host's file (stat and sha1, one command) and the local
// copy's checksum.
func (m *fetchModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	st, err := m.inspect(ctx, conn)
	if err != nil {
		return plan.Change{}, fmt.Errorf("fetch: %s: %w", m.src, err)
	}
	c := plan.Change{Action: plan.Run, Private: st}
	switch {
	case st.problem != "":
		c.Summary = fmt.Sprintf("%s: %s on the host: %s", m.src, st.problem, m.problemVerdict())
	case st.localErr != "":
		c.Summary = fmt.Sprintf("%s: would fail: %s", m.src, st.localErr)
	case st.current == st.remote:
		c.Summary = fmt.Sprintf("%s: the controller's %s is the same (sha1 %s)", m.src, st.local, st.remote)
	default:
		c.Summary = fmt.Sprintf("%s: would fetch %s to the controller's %s", m.src, humanBytes(st.size), st.local)
	}
	return c, nil
}

func (m *fetchModule) problemVerdict() string {
	if m.failOnMissing {
		return "would fail"
	}
	return "would be ignored (fail_on_missing: false)"
}

// fetchOps reads src: followed stat, whether it opens (a missing file and
// one behind a directory the user may not enter differ, as in Ansible),
// then sha1 (and the content, with cat).
func fetchOps(src string, content bool) []fsOp {
	ops := []fsOp{{"stat", src}, {"open", src}, {"sha1", src}}
	if content {
		ops = append(ops, fsOp{"cat", src})
	}
	return ops
}

// inspect reads the host's file (and its content when asked) and the local copy.
func (m *fetchModule) inspect(ctx context.Context, conn transport.Conn) (*fetchState, error) {
	ans, _, err := fsProbe(ctx, conn, fetchOps(m.src, false))
	if err != nil {
		return nil, err
	}
	st := remoteFetchState(ans)
	if st.problem != "" {
		return st, nil
	}
	if st.local, err = fetchLocalPath(m.dest, m.host, m.src, m.flat); err != nil {
		st.local, st.localErr = "", err.Error()
		return st, nil
	}
	if st.current, err = localSHA1(st.local); err != nil {
		st.localErr = err.Error()
	}
	return st, nil
}

// remoteFetchState reads the answers of fetchOps.
func remoteFetchState(ans []fsAnswer) *fetchState {
	st := &fetchState{}
	switch {
	case ans[0].status != "ok" && ans[1].status == "denied":
		st.problem = "unreadable"
	case ans[0].status != "ok": // absent, or a dangling symlink
		st.problem = "missing"
	case ans[0].entry.Type == 'd':
		st.problem = "directory"
	case ans[0].entry.Type != 'f':
		st.problem = "special"
	case ans[2].status != "ok":
		st.problem = "unreadable"
	default:
		st.size, st.remote, st.perm = ans[0].entry.Size, ans[2].value, ans[0].entry.Mode
	}
	return st
}

// localSHA1 is the sha1 of the local file at p, "" when there is none.
func localSHA1(p string) (string, error) {
	b, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		if fi, serr := os.Stat(p); serr == nil && fi.IsDir() {
			return "", fmt.Errorf("%s is a directory on the controller", p)
		}
		return "", err
	}
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:]), nil
}

// Apply fetches the file when the local copy differs: one command reads
// its sha1 and content; the content must have that sha1 (validate_checksum)
// before it replaces the local file atomically.
func (m *fetchModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	st, _ := planned.Private.(*fetchState)
	if st == nil {
		var err error
		if st, err = m.inspect(ctx, conn); err != nil {
			return plan.Change{}, fmt.Errorf("fetch: %s: %w", m.src, err)
		}
	}
	if st.problem != "" {
		return m.problemResult(st.problem), nil
	}
	if st.localErr != "" {
		return plan.Change{Failed: true, Msg: st.localErr, Summary: "fetch: " + st.localErr,
			Data: map[string]any{"file": m.src}}, nil
	}
	if st.current == st.remote {
		return m.result(st, plan.None, st.remote, nil), nil
	}
	ans, _, err := fsProbe(ctx, conn, fetchOps(m.src, true))
	if err != nil {
		return plan.Change{}, fmt.Errorf("fetch: %s: %w", m.src, err)
	}
	now := remoteFetchState(ans)
	if now.problem == "" && ans[3].status != "ok" {
		now.problem = "unreadable"
	}
	if now.problem != "" {
		return m.problemResult(now.problem), nil
	}
	data := ans[3].content
	sum := sha1.Sum(data)
	got := hex.EncodeToString(sum[:])
	if m.validate && got != now.remote {
		c := m.result(st, plan.None, got, data)
		c.Failed, c.Msg = true, "checksum mismatch"
		c.Data["remote_checksum"] = now.remote
		c.Summary = fmt.Sprintf("%s: checksum mismatch (read sha1 %s, the host says %s): the controller's file left as it was", m.src, got, now.remote)
		return c, nil
	}
	// A new file gets the host file's permissions plus u+w, less the
	// umask, as the sftp or scp download of Ansible's fetch gives it.
	if err := writeLocalAtomic(st.local, data, fs.FileMode(now.perm|0o200)&0o777); err != nil {
		return plan.Change{Failed: true, Msg: "Failed to fetch the file: " + err.Error(), Summary: "fetch: " + err.Error(),
			Data: map[string]any{"file": m.src}}, nil
	}
	c := m.result(st, plan.Update, got, data)
	c.Data["remote_checksum"] = now.remote
	c.Summary = fmt.Sprintf("%s: fetched %s to the controller's %s", m.src, humanBytes(int64(len(data))), st.local)
	return c, nil
}

// result is what fetch registers: Ansible's keys.
func (m *fetchModule) result(st *fetchState, action plan.Action, sha string, data []byte) plan.Change {
	d := map[string]any{"dest": st.local, "checksum": sha}
	if data == nil { // unchanged: the local file's md5
		data, _ = os.ReadFile(st.local)
	}
	sum := md5.Sum(data)
	d["md5sum"] = hex.EncodeToString(sum[:])
	if action == plan.None {
		d["file"] = m.src
	} else {
		d["remote_md5sum"] = nil
	}
	return plan.Change{Action: action, Data: d, Summary: fmt.Sprintf("%s: the controller's %s is the same", m.src, st.local)}
}

// problemResult is Ansible's answer for a file it cannot fetch: failed,
// or ok with the reason when fail_on_missing is false.
func (m *fetchModule) problemResult(problem string) plan.Change {
	var msg string
	switch problem {
	case "missing":
		msg = "the remote file does not exist, not transferring, ignored"
	case "directory":
		msg = "remote file is a directory, fetch cannot work on directories"
		if !m.failOnMissing {
			msg += ", not transferring, ignored"
		}
	case "unreadable":
		msg = "file is not readable: " + m.src
	default:
		msg = "source is not a regular file: " + m.src
	}
	c := plan.Change{Action: plan.None, Msg: msg, Summary: m.src + ": " + msg, Data: map[string]any{"file": m.src}}
	if m.failOnMissing {
		c.Failed = true
	} else if problem == "unreadable" || problem == "special" {
		c.Msg = "" // Ansible ignores these silently
	}
	return c
}
