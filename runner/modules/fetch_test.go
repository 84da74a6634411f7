package modules

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"tend/runner/plan"
	"tend/runner/transport"
)

func newFetchT(t *testing.T, playbook, src, host string) (Module, error) {
	t.Helper()
	a := Args{Node: argsNode(t, src), File: playbook}
	if host != "" {
		a.Eval = func(e string) (any, error) {
			if e != "inventory_hostname" {
				t.Fatalf("fetch evaluated %q", e)
			}
			return host, nil
		}
	}
	return newFetch(a)
}

// TestFetchArgs: bad input is refused before any host, at the field's
// position.
func TestFetchArgs(t *testing.T) {
	for _, tc := range []struct {
		name, args, want string
	}{
		{"unknown", "src: /etc/hosts\ndest: /tmp/x\nflatt: true", `play.yml:3:1: flatt: unknown key; did you mean "flat"?`},
		{"no src", "dest: /tmp/x", "play.yml:1:1: fetch: src is required"},
		{"no dest", "src: /etc/hosts", "play.yml:1:1: fetch: dest is required"},
		{"relative src", "src: etc/hosts\ndest: /tmp/x", `play.yml:1:6: fetch: src "etc/hosts" must be an absolute path`},
		{"bad bool", "src: /etc/hosts\ndest: /tmp/x\nflat: maybe", "play.yml:3:7"},
		{"user home", "src: /etc/hosts\ndest: ~bob/x", "play.yml:2:7: fetch: dest: \"~bob/x\": ~user is not supported"},
		{"templated ok", "src: \"{{ p }}\"\ndest: \"{{ d }}\"", ""},
		{"ok", "src: /etc/hosts\ndest: out/\nflat: yes\nfail_on_missing: no\nvalidate_checksum: false", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newFetchT(t, "play.yml", tc.args, "")
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestFetchLocalPath: where the file lands, as Ansible computes it.
func TestFetchLocalPath(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "existing"), 0o755)
	for _, tc := range []struct {
		name, dest, host, src string
		flat                  bool
		want, err             string
	}{
		{"per host", dir + "/out", "web1", "/etc/hosts", false, dir + "/out/web1/etc/hosts", ""},
		{"per host slash", dir + "/out/", "web1", "/var/log/a.log", false, dir + "/out/web1/var/log/a.log", ""},
		{"flat file", dir + "/hosts.txt", "web1", "/etc/hosts", true, dir + "/hosts.txt", ""},
		{"flat dir slash", dir + "/existing/", "web1", "/etc/hosts", true, dir + "/existing/hosts", ""},
		{"flat missing dir slash", dir + "/new/", "web1", "/etc/hosts", true, dir + "/new/hosts", ""},
		{"flat existing dir", dir + "/existing", "web1", "/etc/hosts", true, "", "dest is an existing directory, use a trailing slash"},
		{"host escapes", dir, "../x", "/etc/hosts", false, "", "cannot name a directory"},
		{"host with slash", dir, "a/b", "/etc/hosts", false, "", "cannot name a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fetchLocalPath(tc.dest, tc.host, tc.src, tc.flat)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %q, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestControllerPath: a relative dest lies beside the playbook; ~ is home.
func TestControllerPath(t *testing.T) {
	home, _ := os.UserHomeDir()
	for _, tc := range []struct{ playbook, dest, want string }{
		{"/srv/pb/site.yml", "fetched", "/srv/pb/fetched"},
		{"/srv/pb/site.yml", "fetched/", "/srv/pb/fetched/"},
		{"/srv/pb/site.yml", "/abs/x/../y", "/abs/y"},
		{"/srv/pb/site.yml", "~/f", home + "/f"},
	} {
		if got, err := controllerPath(tc.playbook, tc.dest); err != nil || got != tc.want {
			t.Errorf("controllerPath(%q, %q) = %q, %v; want %q", tc.playbook, tc.dest, got, err, tc.want)
		}
	}
}

// TestWriteLocalAtomic: a new file gets 0666 less the umask; an existing
// one keeps its mode; a symlink stays one; nothing is left behind.
func TestWriteLocalAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a", "b", "f")
	if err := writeLocalAtomic(p, []byte("one\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640&^umaskT() || readT(t, p) != "one\n" {
		t.Errorf("new file: %v %q", fi.Mode(), readT(t, p))
	}
	os.Chmod(p, 0o604)
	ln := filepath.Join(dir, "link")
	os.Symlink(p, ln)
	if err := writeLocalAtomic(ln, []byte("two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(ln); fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced")
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o604 || readT(t, p) != "two\n" {
		t.Errorf("rewrite: %v %q", fi.Mode(), readT(t, p))
	}
	// A directory in the way: an error, nothing left behind.
	if err := writeLocalAtomic(filepath.Join(dir, "a"), []byte("x"), 0o644); err == nil {
		t.Errorf("a directory was overwritten")
	}
	// The rename fails: the old content stays, the temporary file goes.
	localRename = func(string, string) error { return os.ErrPermission }
	err := writeLocalAtomic(p, []byte("three\n"), 0o600)
	localRename = os.Rename
	if err == nil || readT(t, p) != "two\n" {
		t.Errorf("a failed rename: %v, content %q", err, readT(t, p))
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "a", "b"))
	root, _ := os.ReadDir(dir)
	if len(ents) != 1 || len(root) != 2 {
		t.Errorf("left behind: %v %v", ents, root)
	}
}

// TestFetchLocal runs fetch over the local connection (this machine is the
// host): fetched, unchanged the second time, missing / directory handled
// as Ansible, checksums registered.
func TestFetchLocal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "host", "app.conf")
	mustWrite(t, src, "port = 1\n", 0o600)
	conn := transport.Local()
	run := func(args string) (plan.Change, plan.Change) {
		t.Helper()
		m, err := newFetchT(t, filepath.Join(dir, "site.yml"), args, "web1")
		if err != nil {
			t.Fatal(err)
		}
		c, err := m.Check(ctx, conn)
		if err != nil || c.Action != plan.Run {
			t.Fatalf("check: %v %+v", err, c)
		}
		got, err := m.Apply(ctx, conn, c)
		if err != nil {
			t.Fatal(err)
		}
		return c, got
	}
	dry, got := run("src: " + src + "\ndest: fetched")
	local := filepath.Join(dir, "fetched", "web1", src)
	if !strings.Contains(dry.Summary, "would fetch 9 bytes") || got.Action != plan.Update || readT(t, local) != "port = 1\n" ||
		modeOf(t, local).Perm() != 0o600&^umaskT() {
		t.Fatalf("first: %q %+v %q", dry.Summary, got, readT(t, local))
	}
	if sum := sha1.Sum([]byte("port = 1\n")); got.Data["checksum"] != hex.EncodeToString(sum[:]) || got.Data["remote_checksum"] != got.Data["checksum"] {
		t.Errorf("checksums %v", got.Data)
	}
	if got.Data["dest"] != local || got.Data["md5sum"] == "" {
		t.Errorf("data %v", got.Data)
	}
	if _, again := run("src: " + src + "\ndest: fetched"); again.Action != plan.None || again.Failed || again.Data["file"] != src {
		t.Errorf("second: %+v", again)
	}
	mustWrite(t, src, "port = 2\n", 0o600)
	if _, again := run("src: " + src + "\ndest: fetched"); again.Action != plan.Update || readT(t, local) != "port = 2\n" {
		t.Errorf("after a change: %+v", again)
	}
	for _, tc := range []struct {
		name, args, msg string
		failed          bool
	}{
		{"missing", "src: " + dir + "/nope\ndest: f", "the remote file does not exist, not transferring, ignored", true},
		{"missing ignored", "src: " + dir + "/nope\ndest: f\nfail_on_missing: false", "the remote file does not exist, not transferring, ignored", false},
		{"directory", "src: " + dir + "\ndest: f", "remote file is a directory, fetch cannot work on directories", true},
		{"directory ignored", "src: " + dir + "\ndest: f\nfail_on_missing: false", "fetch cannot work on directories, not transferring, ignored", false},
		{"flat onto a directory", "src: " + src + "\ndest: " + dir + "\nflat: true", "dest is an existing directory", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got := run(tc.args)
			if got.Failed != tc.failed || !strings.Contains(got.Msg, tc.msg) || got.Changed() {
				t.Errorf("got failed=%v %q %s, want failed=%v %q", got.Failed, got.Msg, got.Action, tc.failed, tc.msg)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "f")); err == nil {
		t.Errorf("a failed fetch wrote something")
	}
}

// umaskT is this process's umask (read by setting it back at once).
func umaskT() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}
