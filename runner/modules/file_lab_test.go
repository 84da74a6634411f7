package modules

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"tend/runner/plan"
)

func newFileT(t *testing.T, src string) Module {
	t.Helper()
	m, err := newFile(Args{Node: argsNode(t, src), File: "play.yml"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ownerOf(t *testing.T, p string) (uint32, uint32) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

// TestLabFile: each state of the file module against a real sshd host:
// the dry run writes nothing and says what it would do, the apply gives
// the end state, a second run changes nothing.
func TestLabFile(t *testing.T) {
	l := newFSLab(t)

	t.Run("DirectoryWithParents", func(t *testing.T) {
		d := l.sub("dir")
		p := filepath.Join(d, "a", "b")
		dry, _ := l.converge(t, newFileT(t, fmt.Sprintf("path: %s/\nstate: directory\nmode: \"0750\"\nowner: nobody", p)), d)
		if !strings.Contains(dry.Summary, "create the directory and 1 missing parent") {
			t.Errorf("summary %q", dry.Summary)
		}
		for _, q := range []string{filepath.Join(d, "a"), p} {
			if m := modeOf(t, q); m != fs.ModeDir|0o750 {
				t.Errorf("%s: mode %v, want drwxr-x---", q, m)
			}
			if uid, _ := ownerOf(t, q); uid != 65534 {
				t.Errorf("%s: owner %d, want nobody", q, uid)
			}
		}
	})

	t.Run("SymbolicMode", func(t *testing.T) {
		d := l.sub("sym")
		p := filepath.Join(d, "f")
		mustWrite(t, p, "x", 0o644)
		dry, _ := l.converge(t, newFileT(t, "path: "+p+"\nmode: u+x,g-r,o=\ngroup: nogroup"), d)
		if len(dry.Values) != 2 || dry.Values[0].Key != "mode" || dry.Values[0].Before != "0644" || dry.Values[0].After != "0700" ||
			dry.Values[1].Key != "group" || !strings.HasPrefix(dry.Values[1].After, "nogroup (") {
			t.Errorf("values %+v", dry.Values)
		}
		if m := modeOf(t, p); m != 0o700 {
			t.Errorf("mode %v", m)
		}
	})

	t.Run("Recurse", func(t *testing.T) {
		d := l.sub("rec")
		mustWrite(t, filepath.Join(d, "top", "f"), "1", 0o666)
		mustWrite(t, filepath.Join(d, "top", "sub", "g"), "2", 0o777)
		os.Symlink("/etc/hostname", filepath.Join(d, "top", "ln"))
		before, _ := os.Lstat("/etc/hostname")
		l.converge(t, newFileT(t, "path: "+filepath.Join(d, "top")+"\nstate: directory\nrecurse: true\nmode: u=rwX,g=rX,o="), d)
		for p, want := range map[string]fs.FileMode{"top": fs.ModeDir | 0o750, "top/f": 0o640, "top/sub": fs.ModeDir | 0o750, "top/sub/g": 0o750} {
			if m := modeOf(t, filepath.Join(d, p)); m != want {
				t.Errorf("%s: %v, want %v", p, m, want)
			}
		}
		if after, _ := os.Lstat("/etc/hostname"); after.Mode() != before.Mode() {
			t.Errorf("a symlink's target outside the tree changed mode: %v", after.Mode())
		}
	})

	t.Run("Link", func(t *testing.T) {
		d := l.sub("link")
		mustWrite(t, filepath.Join(d, "a"), "a", 0o644)
		mustWrite(t, filepath.Join(d, "b"), "b", 0o644)
		ln := filepath.Join(d, "ln")
		l.converge(t, newFileT(t, "path: "+ln+"\nsrc: a\nstate: link"), d)
		if got, _ := os.Readlink(ln); got != "a" {
			t.Fatalf("link -> %q", got)
		}
		dry, _ := l.converge(t, newFileT(t, "path: "+ln+"\nsrc: "+filepath.Join(d, "b")+"\nstate: link"), d)
		if got, _ := os.Readlink(ln); got != filepath.Join(d, "b") || dry.Values[0].Before != "symlink to a" {
			t.Fatalf("relinked -> %q; plan %+v", got, dry.Values)
		}
		// A regular file in the way needs force; a missing src too.
		if _, err := newFileT(t, "path: "+filepath.Join(d, "a")+"\nsrc: b\nstate: link").Check(context.Background(), l.conn); err == nil || !strings.Contains(err.Error(), "force") {
			t.Errorf("file in the way: %v", err)
		}
		// A missing src: planned with a warning (an earlier task may make
		// it), refused when applied.
		m := newFileT(t, "path: "+filepath.Join(d, "l2")+"\nsrc: nope\nstate: link")
		dry, err := m.Check(context.Background(), l.conn)
		if err != nil || len(dry.Warnings) != 1 || !strings.Contains(dry.Warnings[0], "does not exist") {
			t.Errorf("missing src: %v %q", err, dry.Warnings)
		}
		if got, err := m.Apply(context.Background(), l.conn, dry); err != nil || !got.Failed || exists(filepath.Join(d, "l2")) {
			t.Errorf("missing src applied: %v %+v", err, got)
		}
	})

	t.Run("Hard", func(t *testing.T) {
		d := l.sub("hard")
		a := filepath.Join(d, "a")
		mustWrite(t, a, "a", 0o644)
		h := filepath.Join(d, "h")
		l.converge(t, newFileT(t, "path: "+h+"\nsrc: "+a+"\nstate: hard"), d)
		sa, _ := os.Stat(a)
		sh, _ := os.Stat(h)
		if !os.SameFile(sa, sh) {
			t.Errorf("not the same inode")
		}
	})

	t.Run("Touch", func(t *testing.T) {
		d := l.sub("touch")
		p := filepath.Join(d, "new")
		m := newFileT(t, "path: "+p+"\nstate: touch\nmode: \"0600\"")
		dry, err := m.Check(context.Background(), l.conn)
		if err != nil || dry.Action != plan.Update || exists(p) {
			t.Fatalf("dry run: %v %+v exists=%v", err, dry, exists(p))
		}
		if got, err := m.Apply(context.Background(), l.conn, dry); err != nil || got.Failed {
			t.Fatalf("apply %v %+v", err, got)
		}
		if modeOf(t, p) != 0o600 {
			t.Errorf("mode %v", modeOf(t, p))
		}
		if IsVerifiable(fileSpec, m) {
			t.Errorf("touch must not be rechecked: it always changes")
		}
	})

	t.Run("FileMissing", func(t *testing.T) {
		_, err := newFileT(t, "path: "+filepath.Join(l.dir, "nope")+"\nmode: \"0600\"").Check(context.Background(), l.conn)
		if err == nil || !strings.Contains(err.Error(), "absent") {
			t.Errorf("state file on a missing path: %v", err)
		}
	})

	t.Run("UnknownOwner", func(t *testing.T) {
		d := l.sub("own")
		mustWrite(t, filepath.Join(d, "f"), "", 0o644)
		_, err := newFileT(t, "path: "+filepath.Join(d, "f")+"\nowner: no-such-user-tend").Check(context.Background(), l.conn)
		if err == nil || !strings.Contains(err.Error(), `owner "no-such-user-tend": no such user`) {
			t.Errorf("unknown owner: %v", err)
		}
	})
}

// TestLabFileAbsent is faults.md row 45 for file: state=absent: a tree with
// symlinks to outside files and directories, and a symlink loop, is deleted
// with nothing outside it touched; the dry run counts exactly what goes.
func TestLabFileAbsent(t *testing.T) {
	l := newFSLab(t)
	d := l.sub("absent")
	outside := filepath.Join(d, "outside")
	mustWrite(t, filepath.Join(outside, "keep.txt"), "keep me", 0o644)
	mustWrite(t, filepath.Join(outside, "deep", "keep2.txt"), "keep me too", 0o644)
	tree := filepath.Join(d, "tree")
	mustWrite(t, filepath.Join(tree, "a.log"), "12345", 0o644)
	mustWrite(t, filepath.Join(tree, "sub", "b.log"), "1234567890", 0o644)
	for name, target := range map[string]string{
		"to-dir": outside, "to-file": filepath.Join(outside, "keep.txt"), "sub/loop": "..", "self": "self", "dangling": "/nonexistent/x",
	} {
		if err := os.Symlink(target, filepath.Join(tree, name)); err != nil {
			t.Fatal(err)
		}
	}
	keep := snapshot(t, outside)
	m := newFileT(t, "path: "+tree+"\nstate: absent")
	dry, got := l.converge(t, m, d)
	want := "would delete " + tree + ": 2 files, 2 directories, 5 symlinks, freeing 15 bytes (symlinks not followed)"
	if dry.Summary != want {
		t.Errorf("dry run says\n%q, want\n%q", dry.Summary, want)
	}
	if n := strings.Count(dry.Values[0].Note, "\n"); n != 9 {
		t.Errorf("dry run lists %d paths, want 9:\n%s", n, dry.Values[0].Note)
	}
	if del := got.Data["deleted"].(map[string]any); del["files"] != int64(2) || del["bytes"] != int64(15) || len(del["paths"].([]any)) != 9 {
		t.Errorf("registered %+v", del)
	}
	if exists(tree) {
		t.Errorf("%s still exists", tree)
	}
	sameSnap(t, "deleting the tree", keep, snapshot(t, outside))

	// A symlink itself: the link goes, its target directory stays whole.
	ln := filepath.Join(d, "ln")
	os.Symlink(outside, ln)
	dry, _ = l.converge(t, newFileT(t, "path: "+ln+"/\nstate: absent"), d)
	if !strings.Contains(dry.Summary, "the link only") {
		t.Errorf("summary %q", dry.Summary)
	}
	sameSnap(t, "deleting a symlink to a directory", keep, snapshot(t, outside))
}
