package modules

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"tend/runner/plan"
	"tend/runner/transport"
)

// TestFileRelativePath: a relative path is resolved against the working
// directory of a command on the connection, as Ansible's file module
// resolves it against its own: here the local connection (a task
// delegated to localhost), whose working directory is the controller's.
func TestFileRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, conn := context.Background(), transport.Local()
	for _, c := range []struct {
		args, want string
		kind       os.FileMode
	}{
		{"path: troubleshooting\nstate: directory", "troubleshooting", os.ModeDir},
		{"path: a/b/../c/\nstate: directory", "a/c", os.ModeDir},
		{"path: note\nstate: touch", "note", 0},
	} {
		m := newFileT(t, c.args)
		dry, err := m.Check(ctx, conn)
		if err != nil || dry.Action != plan.Update {
			t.Fatalf("%q: check %v %s", c.args, err, dry.Action)
		}
		if got, err := m.Apply(ctx, conn, dry); err != nil || got.Failed {
			t.Fatalf("%q: apply %v %s", c.args, err, got.Msg)
		}
		fi, err := os.Lstat(filepath.Join(real, c.want))
		if err != nil || fi.Mode().Type() != c.kind {
			t.Fatalf("%q: %v, %v", c.args, fi, err)
		}
		if c.kind != os.ModeDir {
			continue // touch changes every time, as Ansible's
		}
		again, err := newFileT(t, c.args).Check(ctx, conn)
		if err != nil || again.Action != plan.None {
			t.Errorf("%q: second run %v %s", c.args, err, again.Action)
		}
	}
	m := newFileT(t, "path: gone\nstate: absent")
	if c, err := m.Check(ctx, conn); err != nil || c.Action != plan.None {
		t.Errorf("absent: %v %s", err, c.Action)
	}
}
