package modules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/runner/plan"
)

func newCopyT(t *testing.T, playbook, src string) Module {
	t.Helper()
	m, err := newCopy(Args{Node: argsNode(t, src), File: playbook})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func readT(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLabCopy: content and src copies against a real sshd host: the dry run
// shows a diff and writes nothing, the apply writes atomically with a
// backup, through a symlink that stays one, a failing validate leaves the
// file alone, a second run changes nothing.
func TestLabCopy(t *testing.T) {
	l := newFSLab(t)
	ctx := context.Background()

	t.Run("ContentOverExistingWithBackup", func(t *testing.T) {
		d := l.sub("content")
		p := filepath.Join(d, "app.conf")
		mustWrite(t, p, "a=1\nb=2\n", 0o640)
		dry, got := l.converge(t, newCopyT(t, "play.yml", "dest: "+p+"\ncontent: \"a=1\\nb=3\\n\"\nbackup: true\nmode: g+w"), d)
		if diff := dry.Files[0].Diff; !strings.Contains(diff, "-b=2\n+b=3\n") {
			t.Errorf("diff %q", diff)
		}
		if len(dry.Values) != 1 || dry.Values[0].Before != "0640" || dry.Values[0].After != "0660" {
			t.Errorf("values %+v", dry.Values)
		}
		if readT(t, p) != "a=1\nb=3\n" || modeOf(t, p) != 0o660 {
			t.Errorf("content %q mode %v", readT(t, p), modeOf(t, p))
		}
		if b := got.Files[0].Backup; b == "" || readT(t, b) != "a=1\nb=2\n" {
			t.Errorf("backup %q", b)
		}
	})

	t.Run("SrcIntoDirectoryNewFile", func(t *testing.T) {
		pb := filepath.Join(t.TempDir(), "site.yml")
		mustWrite(t, filepath.Join(filepath.Dir(pb), "files", "motd"), "hello\n", 0o644)
		d := l.sub("src")
		dry, _ := l.converge(t, newCopyT(t, pb, "src: motd\ndest: "+d+"/\nmode: \"0600\"\nowner: nobody"), d)
		p := filepath.Join(d, "motd")
		if !strings.HasPrefix(dry.Files[0].Diff, "--- /dev/null\n") || dry.Files[0].BeforeSHA256 != "absent" {
			t.Errorf("diff %q", dry.Files[0].Diff)
		}
		if readT(t, p) != "hello\n" || modeOf(t, p) != 0o600 {
			t.Errorf("content %q mode %v", readT(t, p), modeOf(t, p))
		}
		if uid, _ := ownerOf(t, p); uid != 65534 {
			t.Errorf("owner %d", uid)
		}
	})

	t.Run("ThroughSymlink", func(t *testing.T) {
		d := l.sub("symlink")
		target := filepath.Join(d, "real.conf")
		mustWrite(t, target, "old\n", 0o644)
		ln := filepath.Join(d, "link.conf")
		os.Symlink("real.conf", ln)
		l.converge(t, newCopyT(t, "play.yml", "dest: "+ln+"\ncontent: \"new\\n\""), d)
		if got, _ := os.Readlink(ln); got != "real.conf" || readT(t, target) != "new\n" {
			t.Errorf("link -> %q, target %q", got, readT(t, target))
		}
	})

	t.Run("ValidateFails", func(t *testing.T) {
		d := l.sub("validate")
		p := filepath.Join(d, "f")
		mustWrite(t, p, "good\n", 0o644)
		before := snapshot(t, d)
		m := newCopyT(t, "play.yml", "dest: "+p+"\ncontent: \"bad\\n\"\nvalidate: grep -q good %s")
		dry, err := m.Check(ctx, l.conn)
		if err != nil || dry.Action != plan.Update {
			t.Fatalf("check %v %+v", err, dry)
		}
		got, err := m.Apply(ctx, l.conn, dry)
		if err != nil || !got.Failed || !strings.Contains(got.Msg, "validate grep -q good %s failed (exit 1)") {
			t.Fatalf("apply: %v %+v", err, got)
		}
		sameSnap(t, "a failed validate", before, snapshot(t, d))
		// Validation that passes sees the new content at %s.
		l.converge(t, newCopyT(t, "play.yml", "dest: "+p+"\ncontent: \"good too\\n\"\nvalidate: grep -q 'good too' %s"), d)
	})

	t.Run("ForceFalseKeepsExisting", func(t *testing.T) {
		d := l.sub("force")
		p := filepath.Join(d, "f")
		mustWrite(t, p, "mine\n", 0o644)
		c, err := newCopyT(t, "play.yml", "dest: "+p+"\ncontent: theirs\nforce: false").Check(ctx, l.conn)
		if err != nil || c.Action != plan.None || !strings.Contains(c.Summary, "force: false") {
			t.Errorf("force false: %v %+v", err, c)
		}
	})

	t.Run("StalePlan", func(t *testing.T) {
		d := l.sub("stale")
		p := filepath.Join(d, "f")
		mustWrite(t, p, "one\n", 0o644)
		m := newCopyT(t, "play.yml", "dest: "+p+"\ncontent: \"two\\n\"")
		dry, _ := m.Check(ctx, l.conn)
		mustWrite(t, p, "someone else\n", 0o644)
		if _, err := m.Apply(ctx, l.conn, dry); err == nil || !strings.Contains(err.Error(), "stale") {
			t.Errorf("apply over a changed file: %v", err)
		}
		if readT(t, p) != "someone else\n" {
			t.Errorf("content %q", readT(t, p))
		}
	})
}
