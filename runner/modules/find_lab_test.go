package modules

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"tend/runner/plan"
)

func newFindT(t *testing.T, src string) Module {
	t.Helper()
	m, err := newFind(Args{Node: argsNode(t, src), File: "play.yml"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// findTree builds the tree the find tests search, and a directory outside it.
func findTree(t *testing.T, d string) (root, outside string) {
	root, outside = filepath.Join(d, "root"), filepath.Join(d, "outside")
	mustWrite(t, filepath.Join(outside, "x.log"), "outside", 0o644)
	mustWrite(t, filepath.Join(root, "a.log"), "0123456789", 0o644)
	mustWrite(t, filepath.Join(root, "b.txt"), "b", 0o644)
	mustWrite(t, filepath.Join(root, ".hidden.log"), "h", 0o644)
	mustWrite(t, filepath.Join(root, "sub", "c.log"), "cc", 0o644)
	mustWrite(t, filepath.Join(root, "sub", ".hd", "d.log"), "ddd", 0o644)
	for name, target := range map[string]string{"ln-out": outside, "ln-loop": ".", "sub/up": "..", "ln-in": "sub", "ln-file.log": "a.log"} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-72 * time.Hour)
	if err := os.Chtimes(filepath.Join(root, "a.log"), old, old); err != nil {
		t.Fatal(err)
	}
	return root, outside
}

func foundPaths(t *testing.T, c plan.Change, root string) []string {
	t.Helper()
	var out []string
	for _, f := range c.Data["files"].([]any) {
		p := f.(map[string]any)["path"].(string)
		out = append(out, strings.TrimPrefix(p, root+"/"))
	}
	sort.Strings(out)
	return out
}

// TestLabFind: Ansible's filters on a real host; symlinks are not followed
// unless asked, and even then never out of the paths nor round a loop
// (faults.md row 45).
func TestLabFind(t *testing.T) {
	l := newFSLab(t)
	d := l.sub("find")
	root, outside := findTree(t, d)
	before := snapshot(t, d)
	for _, tc := range []struct {
		name, args string
		want       []string
		examined   int
		warn       string
	}{
		{"Flat", "patterns: '*.log'", []string{"a.log"}, 8, ""},
		{"Recurse", "patterns: '*.log'\nrecurse: true", []string{"a.log", "sub/.hd/d.log", "sub/c.log"}, 12, ""},
		{"Hidden", "patterns: '*.log'\nrecurse: true\nhidden: true", []string{".hidden.log", "a.log", "sub/.hd/d.log", "sub/c.log"}, 12, ""},
		{"Follow", "patterns: '*.log'\nrecurse: true\nfollow: true", []string{"a.log", "ln-in/.hd/d.log", "ln-in/c.log", "sub/.hd/d.log", "sub/c.log"}, 16, "outside"},
		{"Excludes", "patterns: '*.log,*.txt'\nexcludes: 'a*'", []string{"b.txt"}, 8, ""},
		{"Regex", "patterns: '[ab]\\.'\nuse_regex: true", []string{"a.log", "b.txt"}, 8, ""},
		{"Age", "age: 2d\nrecurse: true", []string{"a.log"}, 12, ""},
		{"YoungerThan", "age: -1d\npatterns: '*.log'\nrecurse: true", []string{"sub/.hd/d.log", "sub/c.log"}, 12, ""},
		{"Size", "size: 5\nrecurse: true", []string{"a.log"}, 12, ""},
		{"SizeAtMost", "size: -2b\nrecurse: true", []string{"b.txt", "sub/c.log"}, 12, ""},
		{"Links", "file_type: link", []string{"ln-file.log", "ln-in", "ln-loop", "ln-out"}, 8, ""},
		{"Directories", "file_type: directory\nrecurse: true\nhidden: true", []string{"sub", "sub/.hd"}, 12, ""},
		{"Depth", "file_type: any\nrecurse: true\ndepth: 1\npatterns: '*.log'", []string{"a.log", "ln-file.log"}, 11, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := newFindT(t, "paths: "+root+"\n"+tc.args).Check(context.Background(), l.conn)
			if err != nil {
				t.Fatal(err)
			}
			if got := foundPaths(t, c, root); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("found %q, want %q", got, tc.want)
			}
			if c.Data["examined"] != tc.examined || c.Data["matched"] != len(tc.want) {
				t.Errorf("examined %v matched %v, want %d %d", c.Data["examined"], c.Data["matched"], tc.examined, len(tc.want))
			}
			if w := strings.Join(c.Warnings, "\n"); (tc.warn == "") != (w == "") || !strings.Contains(w, tc.warn) {
				t.Errorf("warnings %q, want %q", w, tc.warn)
			}
			for _, f := range foundPaths(t, c, root) {
				if strings.HasPrefix(f, "/") || strings.Contains(f, "x.log") {
					t.Errorf("found %s, outside the paths", f)
				}
			}
		})
	}
	sameSnap(t, "find", before, snapshot(t, d))

	t.Run("FollowedLoopsWarned", func(t *testing.T) {
		c, _ := newFindT(t, "paths: "+root+"\nrecurse: true\nfollow: true").Check(context.Background(), l.conn)
		w := strings.Join(c.Warnings, "\n")
		for _, want := range []string{"ln-out leads to " + outside, "ln-loop loops back", "up loops back"} {
			if !strings.Contains(w, want) {
				t.Errorf("warnings %q lack %q", w, want)
			}
		}
	})

	t.Run("ChecksumAndFields", func(t *testing.T) {
		c, err := newFindT(t, "paths: "+root+"\npatterns: a.log\nget_checksum: true").Check(context.Background(), l.conn)
		if err != nil {
			t.Fatal(err)
		}
		f := c.Data["files"].([]any)[0].(map[string]any)
		sum := sha1.Sum([]byte("0123456789"))
		if f["checksum"] != hex.EncodeToString(sum[:]) || f["size"] != int64(10) || f["mode"] != "0644" || f["isreg"] != true || f["pw_name"] != "root" {
			t.Errorf("file %+v", f)
		}
	})

	// Disk clean-up as find + file state=absent over the results: nothing
	// outside the paths goes, even with follow.
	t.Run("CleanUp", func(t *testing.T) {
		keep := snapshot(t, outside)
		c, err := newFindT(t, "paths: "+root+"\nrecurse: true\nfollow: true\nfile_type: any\nhidden: true").Check(context.Background(), l.conn)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range c.Data["files"].([]any) {
			p := f.(map[string]any)["path"].(string)
			m := newFileT(t, "path: '"+p+"'\nstate: absent")
			dry, err := m.Check(context.Background(), l.conn)
			if err != nil {
				t.Fatal(err)
			}
			if dry.Action == plan.Update {
				if got, err := m.Apply(context.Background(), l.conn, dry); err != nil || got.Failed {
					t.Fatalf("delete %s: %v %s", p, err, got.Msg)
				}
			}
		}
		sameSnap(t, "the clean-up", keep, snapshot(t, outside))
		if left, _ := os.ReadDir(root); len(left) != 0 {
			t.Errorf("left in %s: %v", root, left)
		}
	})
}

// TestLabStat: stat's registered fields on a real host.
func TestLabStat(t *testing.T) {
	l := newFSLab(t)
	d := l.sub("stat")
	f := filepath.Join(d, "f")
	mustWrite(t, f, "hello\n", 0o640)
	os.Symlink("f", filepath.Join(d, "ln"))
	stat := func(args string) map[string]any {
		t.Helper()
		m, err := newStat(Args{Node: argsNode(t, args), File: "play.yml"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := m.Check(context.Background(), l.conn)
		if err != nil || c.Action != plan.Read {
			t.Fatalf("stat %s: %v %+v", args, err, c)
		}
		return c.Data["stat"].(map[string]any)
	}
	s1, s256 := sha1.Sum([]byte("hello\n")), sha256.Sum256([]byte("hello\n"))
	st := stat("path: " + f)
	if st["exists"] != true || st["isreg"] != true || st["mode"] != "0640" || st["size"] != int64(6) ||
		st["checksum"] != hex.EncodeToString(s1[:]) || st["pw_name"] != "root" || st["uid"] != 0 {
		t.Errorf("file: %+v", st)
	}
	if st := stat("path: " + f + "\nchecksum_algorithm: sha256"); st["checksum"] != hex.EncodeToString(s256[:]) {
		t.Errorf("sha256: %v", st["checksum"])
	}
	if st := stat("path: " + f + "\nget_checksum: false"); st["checksum"] != nil {
		t.Errorf("checksum without get_checksum: %v", st["checksum"])
	}
	st = stat("path: " + filepath.Join(d, "ln"))
	if st["islnk"] != true || st["isreg"] != false || st["lnk_source"] != f || st["lnk_target"] != "f" || st["checksum"] != nil {
		t.Errorf("link: %+v", st)
	}
	if st := stat("path: " + filepath.Join(d, "ln") + "\nfollow: true"); st["isreg"] != true || st["checksum"] != hex.EncodeToString(s1[:]) {
		t.Errorf("followed link: %+v", st)
	}
	if st := stat("path: " + d); st["isdir"] != true || st["mode"] != "0755" {
		t.Errorf("dir: %+v", st)
	}
	if st := stat("path: " + filepath.Join(d, "nope")); !reflect.DeepEqual(st, map[string]any{"exists": false}) {
		t.Errorf("absent: %+v", st)
	}
}
