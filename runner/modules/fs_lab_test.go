package modules

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"tend/internal/lab"
	"tend/runner/plan"
	"tend/runner/transport"
)

// The file-state modules are tested against a real sshd lab host. A lab
// host shares this machine's file system outside /etc, so a test builds a
// tree in its own temporary directory, runs a module over SSH, and checks
// the tree from here: a dry run must leave every mtime, inode, mode, owner
// and md5 as it was.

// fsLab is one lab host and a directory to play in.
type fsLab struct {
	t    *testing.T
	conn transport.Conn
	dir  string
}

func newFSLab(t *testing.T) *fsLab {
	t.Helper()
	l := lab.New(t, 1)
	h := l.Hosts[0]
	c := dialLab(t, l, h, "root")
	return &fsLab{t: t, conn: c, dir: t.TempDir()}
}

// sub returns a fresh directory for one subtest.
func (l *fsLab) sub(name string) string {
	d := filepath.Join(l.dir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		l.t.Fatal(err)
	}
	return d
}

// fsSnap is one entry's state as seen from this machine.
type fsSnap struct {
	mode       fs.FileMode
	uid, gid   uint32
	ino        uint64
	mtime      time.Time
	md5, link  string
	size       int64
	nlinkCount uint64
}

// snapshot records every entry under (and including) root, not following symlinks.
func snapshot(t *testing.T, root string) map[string]fsSnap {
	t.Helper()
	out := map[string]fsSnap{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return nil
		}
		st := fi.Sys().(*syscall.Stat_t)
		s := fsSnap{mode: fi.Mode(), uid: st.Uid, gid: st.Gid, ino: st.Ino, mtime: fi.ModTime(), size: fi.Size(), nlinkCount: uint64(st.Nlink)}
		switch {
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			sum := md5.Sum(b)
			s.md5 = hex.EncodeToString(sum[:])
		case fi.Mode()&fs.ModeSymlink != 0:
			s.link, _ = os.Readlink(p)
		}
		out[p] = s
		return nil
	})
	return out
}

// sameSnap fails the test when the tree under root differs from before.
func sameSnap(t *testing.T, what string, before, after map[string]fsSnap) {
	t.Helper()
	var diffs []string
	for p, b := range before {
		a, ok := after[p]
		if !ok {
			diffs = append(diffs, "removed "+p)
		} else if a != b {
			diffs = append(diffs, fmt.Sprintf("changed %s: %+v -> %+v", p, b, a))
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			diffs = append(diffs, "added "+p)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s changed the host:\n%s", what, strings.Join(diffs, "\n"))
	}
}

// converge runs the module as a run would: a dry run (which must write
// nothing under root and plan a change), the apply, then a second Check
// that must find nothing left to do. It returns the dry run and the
// applied change.
func (l *fsLab) converge(t *testing.T, m Module, root string) (plan.Change, plan.Change) {
	t.Helper()
	ctx := context.Background()
	before := snapshot(t, root)
	dry, err := m.Check(ctx, l.conn)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	sameSnap(t, "the dry run", before, snapshot(t, root))
	if dry.Action != plan.Update {
		t.Fatalf("dry run plans %s (%s), want update", dry.Action, dry.Summary)
	}
	got, err := m.Apply(ctx, l.conn, dry)
	if err != nil || got.Failed {
		t.Fatalf("apply: %v %s", err, got.Msg)
	}
	again, err := m.Check(ctx, l.conn)
	if err != nil || again.Action != plan.None {
		t.Fatalf("second run: %v %s %+v", err, again.Action, again.Values)
	}
	return dry, got
}

func mustWrite(t *testing.T, p, content string, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func modeOf(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
