package modules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"tend/internal/searchpath"
	"tend/runner/transport"
)

// copyTreeModule is copy with a directory src on the controller, or with
// remote_src (a file or a directory on the host), as Ansible does it:
// "src: dir" copies the directory itself into dest, "src: dir/" its
// contents; every file is written atomically (with a backup when asked),
// missing directories are made (directory_mode, or the umask's default;
// with remote_src the source directory's mode), and a second run changes
// nothing.
type copyTreeModule struct {
	dest  string // cleaned
	src   string // as given, for messages
	slash bool   // src ends with "/": its contents, not itself
	// destSlash: dest ends with "/" (with remote_src it decides the mode
	// a new root gets, as in Ansible).
	destSlash bool
	remote    bool
	local     *treeSrc // the controller directory, read when the task was built
	attrs     fileAttrs
	dirMode   *fileMode
	backup    bool
	force     bool
	file      *copyModule // remote_src whose src is a file on the host
}

// treeSrc is a source directory: its subdirectories and files, by path
// relative to it, parents before children.
type treeSrc struct {
	mode  uint32 // of the directory itself
	dirs  []treeItem
	files []treeItem
}

// treeItem is one entry of a source directory.
type treeItem struct {
	rel     string
	mode    uint32
	content []byte // a controller file
	path    string // a file on the host (remote_src)
	sha     string // hex SHA-256 of the content
}

// copyTreeMaxTotal bounds what a controller directory copy reads.
const copyTreeMaxTotal = 4 * copyMaxSrc

// walkControllerDir reads directory dir on the controller. Symlinks to
// files are followed (Ansible's local_follow default); a symlink to a
// directory is refused.
func walkControllerDir(dir string) (*treeSrc, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("src: %v", err)
	}
	t := &treeSrc{mode: uint32(fi.Mode().Perm())}
	var total int64
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		switch {
		case fi.IsDir() && d.Type()&fs.ModeSymlink != 0:
			return fmt.Errorf("%s is a symlink to a directory: not supported in a directory copy", p)
		case fi.IsDir():
			t.dirs = append(t.dirs, treeItem{rel: rel, mode: uint32(fi.Mode().Perm())})
			return nil
		case !fi.Mode().IsRegular():
			return fmt.Errorf("%s is not a regular file nor a directory", p)
		}
		if total += fi.Size(); fi.Size() > copyMaxSrc || total > copyTreeMaxTotal {
			return fmt.Errorf("%s: the directory holds more than %d bytes (at most %d a file)", dir, int64(copyTreeMaxTotal), int64(copyMaxSrc))
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		t.files = append(t.files, treeItem{rel: rel, mode: uint32(fi.Mode().Perm()), content: b, sha: hex.EncodeToString(sum[:])})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("src: %v", err)
	}
	return t, nil
}

// findControllerDir returns the first existing of a src's candidates
// (Args.sourceCandidates) when it is a directory, else "".
func findControllerDir(cands []string) string {
	if p := searchpath.Find(cands); p != "" {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
	}
	return ""
}

// buildCopyTree checks the arguments of a directory or remote_src copy.
func buildCopyTree(a Args, args copyArgs, localDir string) (Module, error) {
	fail := func(key, format string, v ...any) (Module, error) {
		return nil, posErr(a.File, argNode(a.Node, key), "copy", format, v...)
	}
	switch {
	case args.Content != nil:
		return fail("content", "give src or content, not both; remote_src needs src")
	case args.Src == "":
		return fail("src", "src is required with remote_src")
	case args.Dest == "":
		return fail("dest", "dest is required")
	case args.Mode == "preserve":
		return fail("mode", "mode: preserve is not supported with a directory src or remote_src")
	case args.Validate != "" && localDir != "":
		return fail("validate", "validate is not supported with a directory src")
	}
	m := &copyTreeModule{src: args.Src, slash: strings.HasSuffix(args.Src, "/"), destSlash: strings.HasSuffix(args.Dest, "/"), remote: args.RemoteSrc,
		backup: args.Backup, force: true, attrs: fileAttrs{owner: args.Owner, group: args.Group}}
	if args.Force != nil {
		m.force = *args.Force
	}
	var err error
	if m.dest, err = checkRemotePath(a, "copy", "dest", args.Dest); err != nil {
		return nil, err
	}
	if m.attrs.mode, err = modeArg(a, "copy", args.Mode); err != nil {
		return nil, err
	}
	for _, x := range []struct{ key, v string }{{"owner", args.Owner}, {"group", args.Group}} {
		if err := checkAccountName(a, "copy", x.key, x.v); err != nil {
			return nil, err
		}
	}
	if args.DirectoryMode != "" && !templated(args.DirectoryMode) {
		m.dirMode, _ = parseFileMode(args.DirectoryMode) // checked by newCopy
	}
	if m.remote {
		if _, err := checkRemotePath(a, "copy", "src", args.Src); err != nil {
			return nil, err
		}
		// A file src is an ordinary copy whose content Check reads on the host.
		f := args
		f.RemoteSrc, f.DirectoryMode = false, ""
		fm, err := buildCopy(a, "copy", f, func(src string) (string, []byte, uint32, error) { return src, nil, 0, nil })
		if err != nil {
			return nil, err
		}
		m.file = fm.(*copyModule)
		m.file.remote, m.file.src = true, path.Clean(args.Src)
		if strings.HasSuffix(args.Dest, "/") && !templated(args.Dest) {
			m.file.dest = path.Join(m.dest, path.Base(m.file.src))
		}
		return m, nil
	}
	if m.local, err = walkControllerDir(localDir); err != nil {
		return fail("src", "%v", err)
	}
	return m, nil
}

// readRemoteSrc reads remote_src's file on the host.
func readRemoteSrc(ctx context.Context, conn transport.Conn, src string) ([]byte, error) {
	b, err := transport.ReadFile(ctx, conn, src)
	if err != nil {
		return nil, fmt.Errorf("reading src %s on the host: %w", src, err)
	}
	return b, nil
}

// root is where the copy goes: dest for "src/", dest/NAME for "src".
func (m *copyTreeModule) root() string {
	if m.slash {
		return m.dest
	}
	return path.Join(m.dest, path.Base(path.Clean(m.src)))
}

// remoteTree reads the source directory on the host: its entries and
// their checksums, in two remote commands. isFile is true when src is a
// regular file (copied as one file).
func (m *copyTreeModule) remoteTree(ctx context.Context, conn transport.Conn) (t *treeSrc, isFile bool, err error) {
	src := path.Clean(m.src)
	ans, _, err := fsProbe(ctx, conn, []fsOp{{"stat", src}, {"tree", src}})
	if err != nil {
		return nil, false, err
	}
	switch {
	case ans[0].status != "ok":
		return nil, false, fmt.Errorf("src %s not found on the host", src)
	case ans[0].entry.Type == 'f':
		return nil, true, nil
	case ans[0].entry.Type != 'd':
		return nil, false, fmt.Errorf("src %s is a %s, not a file or a directory", src, entryKind(ans[0].entry.Type))
	}
	t = &treeSrc{mode: ans[0].entry.Mode}
	var sums []fsOp
	for _, e := range ans[1].entries {
		rel := strings.TrimPrefix(e.Path, src+"/")
		switch e.Type {
		case 'd':
			t.dirs = append(t.dirs, treeItem{rel: rel, mode: e.Mode})
		case 'f':
			t.files = append(t.files, treeItem{rel: rel, mode: e.Mode, path: e.Path})
			sums = append(sums, fsOp{"lsha256", e.Path})
		default:
			return nil, false, fmt.Errorf("%s is a %s: a directory copy takes files and directories only", e.Path, entryKind(e.Type))
		}
	}
	sort.Slice(t.dirs, func(i, j int) bool { return t.dirs[i].rel < t.dirs[j].rel })
	if len(sums) > 0 {
		sa, _, err := fsProbe(ctx, conn, sums)
		if err != nil {
			return nil, false, err
		}
		for i := range t.files {
			if sa[i].status != "ok" {
				return nil, false, fmt.Errorf("cannot read %s", t.files[i].path)
			}
			t.files[i].sha = sa[i].value
		}
	}
	return t, false, nil
}
