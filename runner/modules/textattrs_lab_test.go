package modules

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"tend/runner/plan"
)

// TestLabTextAttrs: mode, owner and group on lineinfile, blockinfile and
// replace against a real sshd host. A content edit plus a mode change, a
// mode change alone (no write, no backup, same inode), an edit that keeps
// the mode and owner it does not name, and a file created with a mode;
// each dry run shows "mode 0640 → 0600" and touches nothing, each second
// run changes nothing.
func TestLabTextAttrs(t *testing.T) {
	l := newFSLab(t)
	ctx := context.Background()
	edits := map[string]struct{ edit, same, create string }{
		"lineinfile":  {"line: b=2", "line: a=1", "line: a=1\ncreate: true"},
		"blockinfile": {"block: b=2", "block: b=2", "block: a=1\ncreate: true"},
		"replace":     {"regexp: '^a=1$'\nreplace: a=2", "regexp: '^zzz'\nreplace: y", ""},
	}
	for _, mod := range []string{"lineinfile", "blockinfile", "replace"} {
		ed := edits[mod]
		build := func(t *testing.T, p, rest string) Module {
			t.Helper()
			m, err := newModule(t, mod, "path: "+p+"\n"+rest+"\n")
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		t.Run(mod+"/EditAndMode", func(t *testing.T) {
			d := l.sub(mod + "-edit")
			p := filepath.Join(d, "f.conf")
			mustWrite(t, p, "a=1\n", 0o640)
			dry, got := l.converge(t, build(t, p, ed.edit+"\nmode: '0600'\nowner: nobody\ngroup: daemon"), d)
			if !strings.Contains(dry.Summary, "mode 0640 → 0600") || !strings.Contains(dry.Summary, "owner root (0) → nobody (65534)") ||
				!strings.Contains(dry.Summary, "group root (0) → daemon (1)") {
				t.Errorf("summary %q", dry.Summary)
			}
			if dry.Files[0].Diff == "" {
				t.Errorf("no diff in the dry run")
			}
			if msg, _ := got.Data["msg"].(string); !strings.HasSuffix(msg, " and ownership, perms or SE linux context changed") {
				t.Errorf("msg %q", msg)
			}
			if modeOf(t, p) != 0o600 {
				t.Errorf("mode %v", modeOf(t, p))
			}
			if uid, gid := ownerOf(t, p); uid != 65534 || gid != 1 {
				t.Errorf("owner %d:%d", uid, gid)
			}
		})
		t.Run(mod+"/ModeOnly", func(t *testing.T) {
			d := l.sub(mod + "-modeonly")
			p := filepath.Join(d, "f.conf")
			content := "a=1\n"
			if mod == "blockinfile" {
				content = "# BEGIN ANSIBLE MANAGED BLOCK\nb=2\n# END ANSIBLE MANAGED BLOCK\n"
			}
			mustWrite(t, p, content, 0o644)
			ino := inodeOf(t, p)
			dry, got := l.converge(t, build(t, p, ed.same+"\nmode: u=rw,g=r,o="), d)
			if dry.Files[0].Diff != "" || dry.Summary != p+": mode 0644 → 0640" {
				t.Errorf("dry run: diff %q summary %q", dry.Files[0].Diff, dry.Summary)
			}
			if msg, _ := got.Data["msg"].(string); msg != "ownership, perms or SE linux context changed" {
				t.Errorf("msg %q", msg)
			}
			if modeOf(t, p) != 0o640 || readT(t, p) != content || inodeOf(t, p) != ino || got.Files[0].Backup != "" {
				t.Errorf("mode %v content %q inode %d (was %d) backup %q", modeOf(t, p), readT(t, p), inodeOf(t, p), ino, got.Files[0].Backup)
			}
		})
		t.Run(mod+"/EditKeepsModeAndOwner", func(t *testing.T) {
			d := l.sub(mod + "-keep")
			p := filepath.Join(d, "f.conf")
			mustWrite(t, p, "a=1\n", 0o604)
			if err := os.Chown(p, 65534, 1); err != nil {
				t.Fatal(err)
			}
			ino := inodeOf(t, p)
			dry, _ := l.converge(t, build(t, p, ed.edit), d)
			if len(dry.Values) != 0 {
				t.Errorf("values %+v", dry.Values)
			}
			if modeOf(t, p) != 0o604 || inodeOf(t, p) == ino {
				t.Errorf("mode %v, inode %d (was %d): want kept mode and an atomic rename", modeOf(t, p), inodeOf(t, p), ino)
			}
			if uid, gid := ownerOf(t, p); uid != 65534 || gid != 1 {
				t.Errorf("owner %d:%d", uid, gid)
			}
		})
		if ed.create == "" {
			continue // replace creates no file
		}
		t.Run(mod+"/CreateWithMode", func(t *testing.T) {
			d := l.sub(mod + "-create")
			p := filepath.Join(d, "new.conf")
			dry, _ := l.converge(t, build(t, p, ed.create+"\nmode: '2640'"), d)
			if !strings.Contains(dry.Summary, "mode (new) → 2640") {
				t.Errorf("summary %q", dry.Summary)
			}
			if fi, err := os.Stat(p); err != nil || fi.Mode()&fs.ModePerm != 0o640 || fi.Mode()&fs.ModeSetgid == 0 {
				t.Errorf("stat %v %v", fi.Mode(), err)
			}
		})
		t.Run(mod+"/CreatePrivate", func(t *testing.T) {
			// Written with the mode asked from the start: no chmod after.
			d := l.sub(mod + "-private")
			p := filepath.Join(d, "secret.conf")
			dry, _ := l.converge(t, build(t, p, ed.create+"\nmode: '0600'"), d)
			if !strings.Contains(dry.Summary, "mode (new) → 0600") || modeOf(t, p) != 0o600 {
				t.Errorf("summary %q, mode %v", dry.Summary, modeOf(t, p))
			}
		})
	}
	t.Run("NoSuchOwner", func(t *testing.T) {
		p := filepath.Join(l.sub("nosuch"), "f.conf")
		mustWrite(t, p, "a=1\n", 0o644)
		m, err := newModule(t, "lineinfile", "path: "+p+"\nline: b\nowner: no-such-user-x\n")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Check(ctx, l.conn); err == nil || !strings.Contains(err.Error(), `owner "no-such-user-x": no such user on the host`) {
			t.Errorf("check: %v", err)
		}
		if readT(t, p) != "a=1\n" {
			t.Errorf("changed: %q", readT(t, p))
		}
	})
	t.Run("AbsentFileGetsNoAttrs", func(t *testing.T) {
		p := filepath.Join(l.sub("absent"), "none.conf")
		m, err := newModule(t, "lineinfile", "path: "+p+"\nline: b\nstate: absent\nmode: '0600'\n")
		if err != nil {
			t.Fatal(err)
		}
		c, err := m.Check(ctx, l.conn)
		if err != nil || c.Action != plan.None {
			t.Errorf("check: %v %s", err, c.Action)
		}
	})
}

func inodeOf(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}
