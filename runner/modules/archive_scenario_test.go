package modules

import (
	"archive/tar"
	"archive/zip"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"tend/runner/plan"
	"tend/runner/transport"
)

// archiveListing is an archive's members as "NAME MODE CONTENT" lines,
// sorted: what the archive tests compare (bytes of Python's tarfile and
// of the host's tar differ; the members must not).
func archiveListing(t *testing.T, p, format string) []string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	if format == "zip" {
		fi, _ := f.Stat()
		zr, err := zip.NewReader(f, fi.Size())
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, zf := range zr.File {
			rc, _ := zf.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			out = append(out, zf.Name+" "+string(b))
		}
		sort.Strings(out)
		return out
	}
	var r io.Reader = f
	switch format {
	case "gz":
		if r, err = gzip.NewReader(f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	case "bz2":
		r = bzip2.NewReader(f)
	case "xz":
		cmd := exec.Command("xz", "-dc", p)
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("xz -dc %s: %v", p, err)
		}
		r = strings.NewReader(string(b))
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		b, _ := io.ReadAll(tr)
		out = append(out, strings.TrimSuffix(h.Name, "/")+" "+string(b))
	}
	sort.Strings(out)
	return out
}

// gunzip is the content of a gzip file.
func gunzip(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(zr)
	return string(b)
}

// archiveScenario runs the archive module's cases on conn over dir (a
// directory of this machine the host sees at the same path): each dry run
// changes nothing, each apply does what the module does, and a second run
// is ok.
func archiveScenario(t *testing.T, conn transport.Conn, dir string) {
	ctx := context.Background()
	pb := filepath.Join(t.TempDir(), "play.yml")
	mustWrite(t, filepath.Join(dir, "logs", "a.log"), "line 1\nline 2\n", 0o644)
	mustWrite(t, filepath.Join(dir, "app", "x.conf"), "x=1\n", 0o600)
	mustWrite(t, filepath.Join(dir, "app", "sub", "y.txt"), "y\n", 0o644)
	mustWrite(t, filepath.Join(dir, "app", "z.tmp"), "scratch\n", 0o644)
	mustWrite(t, filepath.Join(dir, "old", "1.log"), "one\n", 0o644)
	mustWrite(t, filepath.Join(dir, "old", "d", "2.log"), "two\n", 0o644)
	os.MkdirAll(filepath.Join(dir, "out"), 0o755)

	mk := func(args string) Module {
		t.Helper()
		m, err := newArchive(Args{Node: argsNode(t, args), File: pb})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// converge: the dry run plans a change and writes nothing; apply makes
	// it; a second check and apply find nothing to do.
	converge := func(args string) plan.Change {
		t.Helper()
		m := mk(args)
		before := snapshot(t, dir)
		dry, err := m.Check(ctx, conn)
		if err != nil || dry.Failed || dry.Action != plan.Update {
			t.Fatalf("check %q: %v %s %q %s", args, err, dry.Action, dry.Summary, dry.Msg)
		}
		sameSnap(t, "the dry run", before, snapshot(t, dir))
		got, err := m.Apply(ctx, conn, dry)
		if err != nil || got.Failed || got.Action != plan.Update {
			t.Fatalf("apply %q: %v %s %q %s", args, err, got.Action, got.Summary, got.Msg)
		}
		again, err := m.Check(ctx, conn)
		if err != nil || again.Action != plan.None || again.Failed {
			t.Fatalf("second check %q: %v %s %q %s", args, err, again.Action, again.Summary, again.Msg)
		}
		if again, err = m.Apply(ctx, conn, again); err != nil || again.Action != plan.None || again.Failed {
			t.Fatalf("second apply %q: %v %s %q %s", args, err, again.Action, again.Summary, again.Msg)
		}
		return got
	}

	// One file: compressed, not archived, dest beside it.
	log := filepath.Join(dir, "logs", "a.log")
	got := converge("path: " + log)
	if gunzip(t, log+".gz") != "line 1\nline 2\n" || got.Data["dest_state"] != "compress" || !reflect.DeepEqual(got.Data["archived"], []any{log}) {
		t.Errorf("gz: %q %v", gunzip(t, log+".gz"), got.Data)
	}
	// The source changes: the archive is rewritten.
	mustWrite(t, log, "line 1\nline 2\nline 3\n", 0o644)
	converge("path: " + log)
	if gunzip(t, log+".gz") != "line 1\nline 2\nline 3\n" {
		t.Errorf("gz after the change: %q", gunzip(t, log+".gz"))
	}

	// A dest that is a symlink (dangling here) is written through: the link stays.
	ln := filepath.Join(dir, "out", "ln.gz")
	os.Symlink("real.gz", ln)
	converge("path: " + log + "\ndest: " + ln)
	if target, err := os.Readlink(ln); err != nil || target != "real.gz" || gunzip(t, filepath.Join(dir, "out", "real.gz")) != "line 1\nline 2\nline 3\n" {
		t.Errorf("symlink dest: %q %v", target, err)
	}

	// A directory as tar.gz: its entries (not itself), exclusion_patterns
	// on member names, the mode asked.
	tgz := filepath.Join(dir, "out", "app.tgz")
	got = converge("path: " + filepath.Join(dir, "app") + "\ndest: " + tgz + "\nexclusion_patterns: ['*.tmp']\nmode: '0640'")
	want := []string{"app/sub ", "app/sub/y.txt y\n", "app/x.conf x=1\n"}
	if l := archiveListing(t, tgz, "gz"); !reflect.DeepEqual(l, want) {
		t.Errorf("tgz: %q, want %q", l, want)
	}
	if modeOf(t, tgz).Perm() != 0o640 || got.Data["dest_state"] != "archive" || got.Data["arcroot"] != dir+"/" {
		t.Errorf("tgz: %v %v", modeOf(t, tgz), got.Data)
	}

	// A zip of a file and a directory, one path excluded by exclude_path.
	zp := filepath.Join(dir, "out", "app.zip")
	got = converge("path: ['" + dir + "/app/*']\nexclude_path: ['" + dir + "/app/z.tmp']\ndest: " + zp + "\nformat: zip")
	// A directory among the paths adds its entries, never itself.
	want = []string{"sub/y.txt y\n", "x.conf x=1\n"}
	if l := archiveListing(t, zp, "zip"); !reflect.DeepEqual(l, want) {
		t.Errorf("zip: %q, want %q", l, want)
	}
	if ex := got.Data["expanded_exclude_paths"]; !reflect.DeepEqual(ex, []any{dir + "/app/z.tmp"}) {
		t.Errorf("expanded_exclude_paths %v", ex)
	}

	// A tar whose dest is not a tar: the module fails, nothing is removed.
	bad := filepath.Join(dir, "out", "bad.tar")
	mustWrite(t, bad, "not a tar\n", 0o644)
	m := mk("path: " + filepath.Join(dir, "old") + "\ndest: " + bad + "\nformat: tar\nremove: true")
	c, err := m.Apply(ctx, conn, plan.Change{Action: plan.Update})
	if err != nil || !c.Failed || !strings.Contains(c.Msg, "tar is not a valid format") {
		t.Errorf("bad tar: %v %+v", err, c)
	}
	if readT(t, filepath.Join(dir, "old", "1.log")) != "one\n" || readT(t, bad) != "not a tar\n" {
		t.Errorf("a failed archive removed or changed something")
	}
	// A dest whose directory is missing: fails, nothing removed.
	c, err = mk("path: "+filepath.Join(dir, "old")+"\ndest: "+filepath.Join(dir, "nowhere", "o.tgz")+"\nremove: true").Apply(ctx, conn, plan.Change{Action: plan.Update})
	if err != nil || !c.Failed || readT(t, filepath.Join(dir, "old", "d", "2.log")) != "two\n" {
		t.Errorf("missing dest dir: %v %+v", err, c)
	}

	// remove: the tree goes after the archive is in place; a second run
	// finds nothing to archive and the archive there (ok).
	txz := filepath.Join(dir, "out", "old.tar.xz")
	got = converge("path: " + filepath.Join(dir, "old") + "\ndest: " + txz + "\nformat: xz\nremove: true")
	if _, err := os.Lstat(filepath.Join(dir, "old")); !os.IsNotExist(err) {
		t.Errorf("old not removed: %v", err)
	}
	want = []string{"old/1.log one\n", "old/d ", "old/d/2.log two\n"}
	if l := archiveListing(t, txz, "xz"); !reflect.DeepEqual(l, want) {
		t.Errorf("txz: %q, want %q", l, want)
	}
	if n := len(got.Data["archived"].([]any)); n != 3 {
		t.Errorf("archived %v", got.Data["archived"])
	}

	// The disk-full case: old logs by a glob into a tar.gz, then removed;
	// the other files stay. A second run fails as the module's does: the
	// glob matches nothing any more.
	mustWrite(t, filepath.Join(dir, "rot", "a.log"), "a\n", 0o644)
	mustWrite(t, filepath.Join(dir, "rot", "b.log"), "b\n", 0o644)
	mustWrite(t, filepath.Join(dir, "rot", "current"), "now\n", 0o644)
	rot := filepath.Join(dir, "out", "rot.tar.gz")
	m = mk("path: " + filepath.Join(dir, "rot", "*.log") + "\ndest: " + rot + "\nremove: true")
	if v, ok := m.(Verifier); !ok || v.Verifiable() {
		t.Errorf("with remove, the task is not re-checked after apply")
	}
	before := snapshot(t, dir)
	if c, err = m.Check(ctx, conn); err != nil || c.Action != plan.Update {
		t.Fatalf("rot check: %v %+v", err, c)
	}
	sameSnap(t, "the dry run", before, snapshot(t, dir))
	if c, err = m.Apply(ctx, conn, c); err != nil || c.Failed || c.Action != plan.Update {
		t.Fatalf("rot apply: %v %+v", err, c)
	}
	if l := archiveListing(t, rot, "gz"); !reflect.DeepEqual(l, []string{"a.log a\n", "b.log b\n"}) {
		t.Errorf("rot: %q", l)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "rot")); len(ents) != 1 || ents[0].Name() != "current" {
		t.Errorf("rot left %v", ents)
	}
	if c, err = m.Check(ctx, conn); err != nil || !c.Failed || c.Msg != "Error, no source paths were found" {
		t.Errorf("rot second check: %v %+v", err, c)
	}

	// Two paths as bz2, one missing: incomplete (the root is the missing
	// one's directory too).
	tbz := filepath.Join(dir, "out", "two.tar.bz2")
	got = converge("path: [" + log + ", " + filepath.Join(dir, "nothere") + "]\ndest: " + tbz + "\nformat: bz2")
	if got.Data["dest_state"] != "incomplete" || !reflect.DeepEqual(got.Data["missing"], []any{filepath.Join(dir, "nothere")}) {
		t.Errorf("incomplete: %v", got.Data)
	}
	if l := archiveListing(t, tbz, "bz2"); !reflect.DeepEqual(l, []string{"logs/a.log line 1\nline 2\nline 3\n"}) {
		t.Errorf("tbz: %q", l)
	}
}

// TestArchiveLocal runs the archive cases on this machine (the local
// connection, no lab).
func TestArchiveLocal(t *testing.T) {
	archiveScenario(t, transport.Local(), t.TempDir())
}
