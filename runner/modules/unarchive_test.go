package modules

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tend/runner/plan"
	"tend/runner/transport"
)

// archEntry is one member of a test archive: a directory when name ends
// in /.
type archEntry struct {
	name, content string
	mode          int64
}

var archTime = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// makeTarGz writes a .tar.gz of entries (gzip when gz) to p.
func makeTar(t *testing.T, p string, gz bool, entries ...archEntry) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: archTime, Size: int64(len(e.content)), Typeflag: tar.TypeReg, Format: tar.FormatGNU}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.content))
	}
	tw.Close()
	data := buf.Bytes()
	if gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(data)
		zw.Close()
		data = z.Bytes()
	}
	mustWrite(t, p, string(data), 0o644)
}

// makeZip writes a .zip of entries to p.
func makeZip(t *testing.T, p string, entries ...archEntry) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: archTime}
		mode := os.FileMode(e.mode)
		if strings.HasSuffix(e.name, "/") {
			mode |= os.ModeDir
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.content))
	}
	zw.Close()
	mustWrite(t, p, buf.String(), 0o644)
}

func newUnarchiveT(t *testing.T, playbook, src string) (Module, error) {
	t.Helper()
	return newUnarchive(Args{Node: argsNode(t, src), File: playbook})
}

// TestUnarchiveArgs: bad input is refused before any host, at the field.
func TestUnarchiveArgs(t *testing.T) {
	dir := t.TempDir()
	pb := filepath.Join(dir, "play.yml")
	makeTar(t, filepath.Join(dir, "files", "app.tgz"), true, archEntry{"a", "x", 0o644})
	mustWrite(t, filepath.Join(dir, "empty.tgz"), "", 0o644)
	for _, tc := range []struct{ name, args, want string }{
		{"unknown", "src: app.tgz\ndest: /opt\nexclude_files: x", `play.yml:3:1: exclude_files: unknown key`},
		{"no src", "dest: /opt", "play.yml:1:1: unarchive: src is required"},
		{"no dest", "src: app.tgz", "play.yml:1:1: unarchive: dest is required"},
		{"relative dest", "src: app.tgz\ndest: opt", `play.yml:2:7: unarchive: dest "opt" must be an absolute path`},
		{"url", "src: https://example.com/a.tgz\ndest: /opt\nremote_src: true", "play.yml:1:6: unarchive: src \"https://example.com/a.tgz\": a URL is not supported yet: download it with get_url"},
		{"include and exclude", "src: app.tgz\ndest: /opt\ninclude: [a]\nexclude: [b]", "play.yml:3:10: unarchive: parameters are mutually exclusive: include, exclude"},
		{"copy and remote_src", "src: app.tgz\ndest: /opt\ncopy: false\nremote_src: true", "play.yml:3:7: unarchive: parameters are mutually exclusive: copy, remote_src"},
		{"attributes", "src: app.tgz\ndest: /opt\nattributes: +i", "play.yml:3:13: unarchive: attributes is not supported"},
		{"not found", "src: nope.tgz\ndest: /opt", `play.yml:1:6: unarchive: src "nope.tgz" not found`},
		{"empty", "src: empty.tgz\ndest: /opt", "the file is 0 bytes"},
		{"bad mode", "src: app.tgz\ndest: /opt\nmode: u+q", "play.yml:3:7: unarchive"},
		{"remote relative", "src: a.tgz\ndest: /opt\nremote_src: yes", `src "a.tgz" must be an absolute path`},
		{"ok controller", "src: app.tgz\ndest: /opt\nextra_opts: [--strip-components=1]\nexclude: a,b\nlist_files: yes\nmode: \"0755\"\nowner: root", ""},
		{"ok remote", "src: /tmp/a.zip\ndest: /opt\ncopy: no\ncreates: /opt/a", ""},
		{"templated", "src: \"{{ a }}\"\ndest: \"{{ d }}\"", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newUnarchiveT(t, pb, tc.args)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestArchiveKind: the kind is read from the first bytes, not the name.
func TestArchiveKind(t *testing.T) {
	for magic, want := range map[string]string{
		"504b030414000000": "zip", "504b0506": "zip", "1f8b0800": "gz", "425a683931": "bz2",
		"fd377a585a000004": "xz", "28b52ffd": "zst", "6170702f00000000": "tar", "": "tar",
	} {
		if got := archiveKind(magic); got != want {
			t.Errorf("archiveKind(%q) = %q, want %q", magic, got, want)
		}
	}
}

// TestFilterNames: Ansible's include / exclude (fnmatch), a leading /
// dropped.
func TestFilterNames(t *testing.T) {
	names := []string{"app/", "app/bin/run", "/app/etc/a.conf", "app/etc/b.log", "README"}
	for _, tc := range []struct {
		name             string
		include, exclude []string
		want             string
	}{
		{"all", nil, nil, "app/ app/bin/run app/etc/a.conf app/etc/b.log README"},
		{"exclude glob", nil, []string{"*.log"}, "app/ app/bin/run app/etc/a.conf README"},
		{"exclude dir", nil, []string{"app"}, "app/bin/run app/etc/a.conf app/etc/b.log README"},
		{"include", []string{"app/etc/*"}, nil, "app/etc/a.conf app/etc/b.log"},
	} {
		if got := strings.Join(filterNames(names, tc.include, tc.exclude), " "); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	// --strip-components=1 lists the top directory as "/": it stays, as "".
	if got := filterNames([]string{"/", "bin/"}, nil, nil); len(got) != 2 || got[0] != "" {
		t.Errorf("stripped top: %q", got)
	}
	if got := unescapeTar(`a\\b\nc\tx\303\251`); got != "a\\b\nc\tx\u00e9" {
		t.Errorf("unescapeTar: %q", got)
	}
}

// TestUnarchiveCommands: every value reaches tar single-quoted; Ansible's
// counted lines follow the arguments.
func TestUnarchiveCommands(t *testing.T) {
	m := &unarchiveModule{dest: "/opt/it's", extraOpts: []string{"--strip-components=1"}, exclude: []string{"*.log", "tmp/"},
		include: []string{"a b"}, keepNewer: true, attrs: fileAttrs{owner: "app"}}
	c := m.commands("gz", true)
	want := `tar --diff '-C' '/opt/it'\''s' '-z' '--show-transformed-names' '--strip-components=1' '--owner=app' '--keep-newer-files' '--exclude=*.log' '--exclude=tmp' -f "$A" 'a b'`
	if c.diff != want {
		t.Errorf("diff\n got %s\nwant %s", c.diff, want)
	}
	if !strings.HasPrefix(c.extract, "tar --extract '-C'") || !strings.HasPrefix(c.list, "tar --list '-C'") {
		t.Errorf("extract %s / list %s", c.extract, c.list)
	}
	if c.pat != ": (Mod time differs|Warning: Cannot stat: No such file or directory|Invalid owner|Invalid group|Mode differs)$" || c.rootpat != ": (Gid differs)$" {
		t.Errorf("patterns %q %q", c.pat, c.rootpat)
	}
	z := (&unarchiveModule{dest: "/opt", exclude: []string{"x"}}).commands("zip", false)
	if z.extract != `unzip -o "$A" -x 'x' -d '/opt'` || z.list != "" {
		t.Errorf("zip extract %s list %q", z.extract, z.list)
	}
}

// TestUnarchiveLocal runs unarchive over the local connection (this
// machine is the host): a tar.gz from the controller and a zip on the
// host are compared, extracted, left alone the second time, and extracted
// again when a file's mtime changed; creates skips; a missing dest fails.
func TestUnarchiveLocal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	pb := filepath.Join(dir, "site.yml")
	conn := transport.Local()
	makeTar(t, filepath.Join(dir, "files", "app.tgz"), true,
		archEntry{"app/", "", 0o755}, archEntry{"app/run.sh", "#!/bin/sh\n", 0o755}, archEntry{"app/a.conf", "a=1\n", 0o644}, archEntry{"app/x.log", "log\n", 0o644})
	makeZip(t, filepath.Join(dir, "host", "site.zip"), archEntry{"site/", "", 0o755}, archEntry{"site/index.html", "<h1>hi</h1>\n", 0o644})
	run := func(args string) (plan.Change, plan.Change) {
		t.Helper()
		m, err := newUnarchiveT(t, pb, args)
		if err != nil {
			t.Fatal(err)
		}
		c, err := m.Check(ctx, conn)
		if err != nil {
			t.Fatalf("check: %v", err)
		}
		if c.Skipped || c.Failed || !c.Action.Changes() {
			return c, c
		}
		got, err := m.Apply(ctx, conn, c)
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		return c, got
	}
	dest := filepath.Join(dir, "opt")
	os.Mkdir(dest, 0o755)
	tgz := "src: app.tgz\ndest: " + dest + "\nexclude: \"*.log\"\nlist_files: true"
	dry, got := run(tgz)
	if dry.Action != plan.Run || !strings.Contains(dry.Summary, "would extract") || got.Action != plan.Update {
		t.Fatalf("first: %q -> %s %s %q", dry.Summary, got.Action, got.Msg, got.Summary)
	}
	if readT(t, filepath.Join(dest, "app", "a.conf")) != "a=1\n" || exists(filepath.Join(dest, "app", "x.log")) {
		t.Errorf("extracted wrong")
	}
	if files := got.Data["files"]; len(files.([]any)) != 3 || got.Data["handler"] != "TgzArchive" {
		t.Errorf("data %v", got.Data)
	}
	if dry, again := run(tgz); again.Action != plan.None || !strings.Contains(dry.Summary, "nothing to extract") {
		t.Errorf("second: %q %s %q", dry.Summary, again.Action, again.Summary)
	}
	os.Chtimes(filepath.Join(dest, "app", "a.conf"), time.Now(), time.Now())
	if dry, again := run(tgz); again.Action != plan.Update || !strings.Contains(dry.Summary, "app/a.conf: Mod time differs") {
		t.Errorf("after touch: %q %s", dry.Summary, again.Action)
	}

	zipArgs := "src: " + filepath.Join(dir, "host", "site.zip") + "\ndest: " + dest + "\nremote_src: true\nmode: \"0750\""
	dry, got = run(zipArgs)
	if dry.Action != plan.Update || got.Action != plan.Update || got.Data["handler"] != "ZipArchive" {
		t.Fatalf("zip: %q %s %q %s", dry.Summary, got.Action, got.Summary, got.Msg)
	}
	if modeOf(t, filepath.Join(dest, "site", "index.html")).Perm() != 0o750 || readT(t, filepath.Join(dest, "site", "index.html")) != "<h1>hi</h1>\n" {
		t.Errorf("zip extracted wrong")
	}
	if dry, _ := run(zipArgs); dry.Action != plan.None {
		t.Errorf("zip second: %s %q", dry.Action, dry.Summary)
	}
	// An edited member (content, size, mtime) is a difference for a zip.
	mustWrite(t, filepath.Join(dest, "site", "index.html"), "<h1>edited</h1>\n", 0o750)
	if dry, got := run(zipArgs); dry.Action != plan.Update || readT(t, filepath.Join(dest, "site", "index.html")) != "<h1>hi</h1>\n" {
		t.Errorf("zip after an edit: %s %q -> %s", dry.Action, dry.Summary, got.Action)
	}
	// A tar with a mode: tar's "Mode differs" then does not count, so the
	// second run is ok once the mode is set.
	modeDest := filepath.Join(dir, "modes")
	os.Mkdir(modeDest, 0o755)
	modeArgs := "src: app.tgz\ndest: " + modeDest + "\nmode: \"0700\""
	if _, got := run(modeArgs); got.Action != plan.Update || modeOf(t, filepath.Join(modeDest, "app", "a.conf")).Perm() != 0o700 {
		t.Errorf("tar with mode: %s %q", got.Action, got.Msg)
	}
	if _, again := run(modeArgs); again.Action != plan.None {
		t.Errorf("tar with mode, second run: %s %q", again.Action, again.Summary)
	}

	if c, _ := run(tgz + "\ncreates: " + dest + "/app"); !c.Skipped || c.Summary != "skipped, since "+dest+"/app exists" {
		t.Errorf("creates: %+v", c)
	}
	if c, _ := run("src: app.tgz\ndest: " + dir + "/nope"); !c.Failed || c.Msg != "dest '"+dir+"/nope' must be an existing dir" {
		t.Errorf("missing dest: %+v", c)
	}
	if c, _ := run("src: " + dir + "/host/none.zip\ndest: " + dest + "\nremote_src: true"); !c.Failed || !strings.Contains(c.Msg, "does not exist") {
		t.Errorf("missing src: %+v", c)
	}
	// Not an archive (a tar, a zip): the dry run says it would fail; the
	// run fails as Ansible's.
	makeZip(t, filepath.Join(dir, "files", "ok.zip"), archEntry{"x", "y", 0o644})
	zipData := readT(t, filepath.Join(dir, "files", "ok.zip"))
	mustWrite(t, filepath.Join(dir, "files", "bad.zip"), zipData[:len(zipData)/2], 0o644)
	if dry, got := run("src: bad.zip\ndest: " + dest); dry.Action != plan.Run || !strings.Contains(dry.Summary, "would fail: the host cannot read it") ||
		!got.Failed || !strings.Contains(got.Msg, `Command "unzip" could not handle archive`) {
		t.Errorf("bad zip: %q -> %+v", dry.Summary, got)
	}
	mustWrite(t, filepath.Join(dir, "files", "junk.tgz"), "this is no archive\n", 0o644)
	if dry, got := run("src: junk.tgz\ndest: " + dest); !strings.Contains(dry.Summary, "would fail: the host cannot read it: tar:") ||
		!got.Failed || !strings.Contains(got.Msg, `Failed to find handler for "`) || !strings.Contains(got.Msg, `Command "tar" could not handle archive`) {
		t.Errorf("junk: %q -> %+v", dry.Summary, got)
	}
}

// TestUnarchiveQuoting: shell syntax in every value reaches tar and unzip
// as data (fault 21): no canary command runs, and a dest with a quote and
// spaces is extracted into.
func TestUnarchiveQuoting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	canary := filepath.Join(dir, "canary")
	makeTar(t, filepath.Join(dir, "a.tgz"), true, archEntry{"f", "x\n", 0o644}, archEntry{"g", "y\n", 0o644})
	makeZip(t, filepath.Join(dir, "a.zip"), archEntry{"z", "z\n", 0o644})
	dest := filepath.Join(dir, "it's a $(dir)")
	os.Mkdir(dest, 0o755)
	for _, args := range []string{
		"src: a.tgz\ndest: \"" + dest + "\"\nexclude: [\"$(touch " + canary + ")\", \"`touch " + canary + "`\", \"g;touch " + canary + "\"]\nextra_opts: [\"--exclude=$(touch " + canary + ")\"]",
		"src: a.zip\ndest: \"" + dest + "\"\nexclude: [\"'; touch " + canary + "; '\", \"$(touch " + canary + ")\"]\nowner: \"0\"",
	} {
		m, err := newUnarchiveT(t, filepath.Join(dir, "site.yml"), args)
		if err != nil {
			t.Fatal(err)
		}
		c, err := m.Check(ctx, transport.Local())
		if err != nil {
			t.Fatal(err)
		}
		if got, err := m.Apply(ctx, transport.Local(), c); err != nil || got.Failed {
			t.Fatalf("%v %s", err, got.Msg)
		}
	}
	if exists(canary) {
		t.Fatalf("a value ran as a command")
	}
	if readT(t, filepath.Join(dest, "f")) != "x\n" || readT(t, filepath.Join(dest, "z")) != "z\n" {
		t.Errorf("not extracted into %q", dest)
	}
}

// countConn counts the unarchive script's runs.
type countConn struct {
	transport.Conn
	n *int
}

func (c countConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if len(cmd.Argv) > 2 && cmd.Argv[2] == unarchiveScript {
		*c.n++
	}
	return c.Conn.Run(ctx, cmd)
}

// TestUnarchiveSendsOnceWhenSame: once unpacked, a run (Check then Apply)
// sends the archive once, for the comparison; with list_files (or mode,
// owner, group) Apply runs again to list (or set) what Ansible's does.
func TestUnarchiveSendsOnceWhenSame(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	makeTar(t, filepath.Join(dir, "files", "a.tgz"), true, archEntry{"f", "x\n", 0o644})
	for i, tc := range []struct {
		extra string
		runs  int // the script's runs in the second run
	}{{"", 1}, {"\nlist_files: true", 2}, {"\nmode: \"0644\"", 2}} {
		dest := filepath.Join(dir, fmt.Sprint(i))
		os.Mkdir(dest, 0o755)
		for round, want := range []struct {
			runs   int
			action plan.Action
		}{{2, plan.Update}, {tc.runs, plan.None}} {
			n := 0
			conn := countConn{transport.Local(), &n}
			m, err := newUnarchiveT(t, filepath.Join(dir, "site.yml"), "src: a.tgz\ndest: "+dest+tc.extra)
			if err != nil {
				t.Fatal(err)
			}
			c, err := m.Check(ctx, conn)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Apply(ctx, conn, c)
			if err != nil || got.Failed || got.Action != want.action || n != want.runs {
				t.Errorf("%q round %d: %v %s %q, the script ran %d times; want %s, %d", tc.extra, round, err, got.Action, got.Msg, n, want.action, want.runs)
			}
		}
	}
}
