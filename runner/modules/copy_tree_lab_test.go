package modules

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"tend/runner/plan"
)

// TestCopyTreeArgs: bad arguments of a directory or remote_src copy are
// refused when the playbook is read, positioned on the field.
func TestCopyTreeArgs(t *testing.T) {
	pb := filepath.Join(t.TempDir(), "site.yml")
	mustWrite(t, filepath.Join(filepath.Dir(pb), "files", "d", "a"), "a\n", 0o644)
	for _, tc := range []struct{ name, args, want string }{
		{"bad directory_mode", "src: d\ndest: /x\ndirectory_mode: '9'", "site.yml:3:17: copy: directory_mode: mode \"9\""},
		{"bad mode on a tree", "src: d/\ndest: /x\nmode: u", "site.yml:3:7: copy: mode \"u\""},
		{"preserve on a tree", "src: d\ndest: /x\nmode: preserve", "site.yml:3:7: copy: mode: preserve is not supported"},
		{"remote_src with content", "content: x\ndest: /x\nremote_src: true", "site.yml:1:10: copy: give src or content, not both"},
		{"remote_src relative src", "src: rel/x\ndest: /x\nremote_src: true", "site.yml:1:6: copy: src \"rel/x\" must be an absolute path"},
		{"local_follow false", "src: d\ndest: /x\nlocal_follow: false", "site.yml:3:15: copy: local_follow: false is not supported"},
		{"owner with colon", "src: d\ndest: /x\nowner: 'a:b'", "site.yml:3:8: copy: owner \"a:b\" is not a user or group name"},
		{"validate on a tree", "src: d\ndest: /x\nvalidate: 'true %s'", "site.yml:3:11: copy: validate is not supported with a directory src"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newCopy(Args{Node: argsNode(t, tc.args), File: pb})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// listTree lists every entry under root as "REL MODE" (files with their
// content), sorted.
func listTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		s := rel + " " + fi.Mode().String()
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			s += " " + strings.TrimSpace(string(b))
		}
		out = append(out, s)
		return nil
	})
	sort.Strings(out)
	return out
}

// TestLabCopyTree: directory copies against a real sshd host. "src: d"
// makes dest/d, "src: d/" fills dest; directory_mode, mode and owner
// apply; an existing file is rewritten atomically with a backup and one
// unknown to the source is kept; remote_src copies a host file and a host
// directory (the source files' modes kept). Every dry run lists the files
// and touches nothing; every second run changes nothing.
func TestLabCopyTree(t *testing.T) {
	l := newFSLab(t)
	ctx := context.Background()
	pb := filepath.Join(t.TempDir(), "site.yml")
	files := filepath.Join(filepath.Dir(pb), "files", "conf.d")
	mustWrite(t, filepath.Join(files, "app.conf"), "listen 8080\n", 0o644)
	mustWrite(t, filepath.Join(files, "sub", "inner.conf"), "inner\n", 0o644)

	t.Run("DirectoryItself", func(t *testing.T) {
		d := l.sub("itself")
		dry, _ := l.converge(t, newCopyT(t, pb, "src: conf.d\ndest: "+d+"/out\nmode: '0640'\ndirectory_mode: '0750'"), d)
		if !strings.Contains(dry.Summary, "would create 3 directories, create 2 files") || len(dry.Files) != 2 {
			t.Errorf("dry run %q, %d files", dry.Summary, len(dry.Files))
		}
		if !strings.Contains(dry.Files[0].Diff, "+listen 8080") {
			t.Errorf("diff %q", dry.Files[0].Diff)
		}
		want := []string{"conf.d drwxr-x---", "conf.d/app.conf -rw-r----- listen 8080", "conf.d/sub drwxr-x---", "conf.d/sub/inner.conf -rw-r----- inner"}
		if got := listTree(t, filepath.Join(d, "out")); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("tree\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("ContentsIntoExisting", func(t *testing.T) {
		d := l.sub("contents")
		mustWrite(t, filepath.Join(d, "app.conf"), "listen 80\n", 0o600)
		mustWrite(t, filepath.Join(d, "local.conf"), "mine\n", 0o644)
		dry, got := l.converge(t, newCopyT(t, pb, "src: conf.d/\ndest: "+d+"\nbackup: true\nowner: nobody"), d)
		if !strings.Contains(dry.Summary, "create 1 directory, create 1 file, rewrite 1 file") {
			t.Errorf("summary %q", dry.Summary)
		}
		var diffs []string
		for _, f := range dry.Files {
			diffs = append(diffs, f.Diff)
		}
		if all := strings.Join(diffs, ""); !strings.Contains(all, "-listen 80\n+listen 8080\n") || !strings.Contains(all, "+inner\n") {
			t.Errorf("diffs %q", all)
		}
		if readT(t, filepath.Join(d, "app.conf")) != "listen 8080\n" || modeOf(t, filepath.Join(d, "app.conf")) != 0o600 {
			t.Errorf("app.conf %q %v: want the content written and the mode kept", readT(t, filepath.Join(d, "app.conf")), modeOf(t, filepath.Join(d, "app.conf")))
		}
		if readT(t, filepath.Join(d, "local.conf")) != "mine\n" {
			t.Errorf("local.conf touched")
		}
		var backup string
		for _, f := range got.Files {
			if f.Path == filepath.Join(d, "app.conf") {
				backup = f.Backup
			}
		}
		if backup == "" || readT(t, backup) != "listen 80\n" {
			t.Errorf("backup %q", backup)
		}
		for _, p := range []string{"app.conf", "sub", "sub/inner.conf"} {
			if uid, _ := ownerOf(t, filepath.Join(d, p)); uid != 65534 {
				t.Errorf("%s owner %d", p, uid)
			}
		}
	})

	t.Run("ForceFalseKeepsFiles", func(t *testing.T) {
		d := l.sub("force")
		mustWrite(t, filepath.Join(d, "app.conf"), "mine\n", 0o644)
		l.converge(t, newCopyT(t, pb, "src: conf.d/\ndest: "+d+"\nforce: false"), d)
		if readT(t, filepath.Join(d, "app.conf")) != "mine\n" || readT(t, filepath.Join(d, "sub", "inner.conf")) != "inner\n" {
			t.Errorf("force: false")
		}
	})

	t.Run("RemoteSrcFile", func(t *testing.T) {
		d := l.sub("remotefile")
		mustWrite(t, filepath.Join(d, "src.conf"), "port 9000\n", 0o600)
		mustWrite(t, filepath.Join(d, "dst", "keep"), "", 0o644)
		dry, _ := l.converge(t, newCopyT(t, pb, "src: "+d+"/src.conf\ndest: "+d+"/dst/\nremote_src: true\nmode: '0640'"), d)
		if !strings.Contains(dry.Files[0].Diff, "+port 9000") {
			t.Errorf("diff %q", dry.Files[0].Diff)
		}
		p := filepath.Join(d, "dst", "src.conf")
		if readT(t, p) != "port 9000\n" || modeOf(t, p) != 0o640 {
			t.Errorf("%q %v", readT(t, p), modeOf(t, p))
		}
	})

	t.Run("RemoteSrcDirectory", func(t *testing.T) {
		d := l.sub("remotedir")
		mustWrite(t, filepath.Join(d, "tree", "run.sh"), "exec true\n", 0o755)
		mustWrite(t, filepath.Join(d, "tree", "etc", "a.conf"), "a\n", 0o600)
		mustWrite(t, filepath.Join(d, "dst", "run.sh"), "old\n", 0o644)
		dry, _ := l.converge(t, newCopyT(t, pb, "src: "+d+"/tree/\ndest: "+d+"/dst\nremote_src: true"), d)
		if !strings.Contains(dry.Summary, "would create 1 directory, create 1 file, rewrite 1 file") {
			t.Errorf("summary %q", dry.Summary)
		}
		want := []string{"etc drwxr-xr-x", "etc/a.conf -rw------- a", "run.sh -rwxr-xr-x exec true"}
		var got []string
		for _, s := range listTree(t, filepath.Join(d, "dst")) {
			if !strings.Contains(s, ".tend-backup.") {
				got = append(got, s)
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("tree\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("RemoteSrcStale", func(t *testing.T) {
		d := l.sub("remotestale")
		mustWrite(t, filepath.Join(d, "tree", "f"), "one\n", 0o644)
		m := newCopyT(t, pb, "src: "+d+"/tree/\ndest: "+d+"/dst\nremote_src: true")
		dry, err := m.Check(ctx, l.conn)
		if err != nil || dry.Action != plan.Update {
			t.Fatalf("check %v %+v", err, dry)
		}
		mustWrite(t, filepath.Join(d, "tree", "f"), "two\n", 0o644)
		if _, err := m.Apply(ctx, l.conn, dry); err == nil || !strings.Contains(err.Error(), "stale") {
			t.Errorf("apply after the source changed: %v", err)
		}
	})
}
