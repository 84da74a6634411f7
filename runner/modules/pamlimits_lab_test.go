package modules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/internal/lab"
	"tend/runner/plan"
	"tend/runner/transport"
)

// TestLabPamLimits: pam_limits against a real sshd host. The dry run shows
// the diff and touches nothing (mtime, inode, content), the apply writes
// with a backup of the old content and keeps the file's mode, the second
// run changes nothing; use_max leaves a larger value alone; a missing file
// is created, a missing directory fails with the module's message; a
// symlinked dest stays a link to the edited file; and the
// default dest is the host's /etc/security/limits.conf (a private /etc).
func TestLabPamLimits(t *testing.T) {
	l := newFSLab(t)
	ctx := context.Background()
	build := func(t *testing.T, args string) Module {
		t.Helper()
		m, err := newModule(t, "pam_limits", args)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	const seed = "# /etc/security/limits.conf\n#*  soft core 0\nactivemq   soft   nofile   1024\n@mq hard nofile 200000\n"
	t.Run("ApplyTwiceWithBackup", func(t *testing.T) {
		d := l.sub("apply")
		p := filepath.Join(d, "limits.conf")
		mustWrite(t, p, seed, 0o640)
		m := build(t, "dest: "+p+"\ndomain: activemq\nlimit_type: soft\nlimit_item: nofile\nvalue: 65536\ncomment: raised for the broker\nbackup: true")
		dry, got := l.converge(t, m, d)
		if !strings.Contains(dry.Files[0].Diff, "-activemq   soft   nofile   1024") ||
			!strings.Contains(dry.Files[0].Diff, "+activemq\tsoft\tnofile\t65536\t#raised for the broker") {
			t.Errorf("dry-run diff:\n%s", dry.Files[0].Diff)
		}
		if !strings.Contains(dry.Summary, "activemq soft nofile 1024 → 65536") {
			t.Errorf("summary %q", dry.Summary)
		}
		want := strings.Replace(seed, "activemq   soft   nofile   1024\n", "activemq\tsoft\tnofile\t65536\t#raised for the broker\n", 1)
		if readT(t, p) != want {
			t.Errorf("file %q, want %q", readT(t, p), want)
		}
		if got.Data["msg"] != "activemq\tsoft\tnofile\t65536\t#raised for the broker\n" || got.Data["changed"] != true {
			t.Errorf("registered %v", got.Data)
		}
		b, _ := got.Data["backup_file"].(string)
		if b == "" || readT(t, b) != seed {
			t.Errorf("backup %q", b)
		}
		if modeOf(t, p).Perm() != 0o640 {
			t.Errorf("mode %v, want 0640 kept", modeOf(t, p))
		}
		again, err := m.Check(ctx, l.conn)
		if err != nil || again.Action != plan.None || again.Data["msg"] != "activemq\tsoft\tnofile\t65536\t#raised for the broker\n" {
			t.Errorf("second run: %v %s %v", err, again.Action, again.Data)
		}
	})
	t.Run("UseMaxKeepsLarger", func(t *testing.T) {
		d := l.sub("usemax")
		p := filepath.Join(d, "limits.conf")
		mustWrite(t, p, seed, 0o644)
		before := snapshot(t, d)
		c, err := build(t, "dest: "+p+"\ndomain: '@mq'\nlimit_type: hard\nlimit_item: nofile\nvalue: 65536\nuse_max: true").Check(ctx, l.conn)
		if err != nil || c.Action != plan.None || c.Data["msg"] != "@mq hard nofile 200000\n" {
			t.Fatalf("%v %s %v", err, c.Action, c.Data)
		}
		sameSnap(t, "an ok check", before, snapshot(t, d))
	})
	t.Run("SymlinkKept", func(t *testing.T) {
		// The module replaces a symlinked dest by a file; tend edits the
		// target and keeps the link, as its other file modules do.
		d := l.sub("symlink")
		p, target := filepath.Join(d, "limits.conf"), filepath.Join(d, "real.conf")
		mustWrite(t, target, seed, 0o644)
		if err := os.Symlink("real.conf", p); err != nil {
			t.Fatal(err)
		}
		l.converge(t, build(t, "dest: "+p+"\ndomain: activemq\nlimit_type: soft\nlimit_item: nofile\nvalue: 4096"), d)
		if modeOf(t, p)&os.ModeSymlink == 0 || !strings.Contains(readT(t, target), "activemq\tsoft\tnofile\t4096\n") {
			t.Errorf("link mode %v, target %q", modeOf(t, p), readT(t, target))
		}
	})
	t.Run("MissingFileCreated", func(t *testing.T) {
		d := l.sub("create")
		p := filepath.Join(d, "limits.d", "90-mq.conf")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		l.converge(t, build(t, "dest: "+p+"\ndomain: '@mq'\nlimit_type: '-'\nlimit_item: nofile\nvalue: unlimited"), d)
		if got := readT(t, p); got != "@mq\t-\tnofile\tunlimited\n" {
			t.Errorf("created %q", got)
		}
	})
	t.Run("MissingDirectoryFails", func(t *testing.T) {
		p := filepath.Join(l.sub("nodir"), "no", "limits.conf")
		_, err := build(t, "dest: "+p+"\ndomain: joe\nlimit_type: soft\nlimit_item: nofile\nvalue: 1").Check(ctx, l.conn)
		if err == nil || !strings.Contains(err.Error(), "directory "+filepath.Dir(p)+" is not writable") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("InvalidLineFails", func(t *testing.T) {
		d := l.sub("invalid")
		p := filepath.Join(d, "limits.conf")
		mustWrite(t, p, "joe soft nofile lots\n", 0o644)
		_, err := build(t, "dest: "+p+"\ndomain: joe\nlimit_type: soft\nlimit_item: nofile\nvalue: 1").Check(ctx, l.conn)
		if err == nil || !strings.Contains(err.Error(), "Invalid configuration found in '"+p+"'") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("DefaultDest", func(t *testing.T) {
		el := lab.New(t, 1, lab.WithOverlayEtc())
		conn := dialLab(t, el, el.Hosts[0], "root")
		const conf = "/etc/security/limits.conf"
		if _, _, err := el.Hosts[0].Exec(ctx, "/bin/sh", "-c", `mkdir -p /etc/security && printf '# limits\n' > `+conf); err != nil {
			t.Fatal(err)
		}
		m := build(t, "domain: activemq\nlimit_type: hard\nlimit_item: nofile\nvalue: 65536\nbackup: false")
		dry, err := m.Check(ctx, conn)
		if err != nil || dry.Action != plan.Update || dry.Files[0].Path != conf {
			t.Fatalf("%v %s %+v", err, dry.Action, dry.Files)
		}
		got, err := m.Apply(ctx, conn, dry)
		if err != nil || got.Failed || got.Data["backup_file"] != "" {
			t.Fatalf("%v %s %v", err, got.Msg, got.Data)
		}
		b, err := transport.ReadFile(ctx, conn, conf)
		if err != nil || string(b) != "# limits\nactivemq\thard\tnofile\t65536\n" {
			t.Errorf("%s: %q %v", conf, b, err)
		}
	})
}
