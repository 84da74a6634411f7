package modules

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"tend/internal/lab"
	"tend/runner/plan"
	"tend/runner/transport"
)

// Lab hosts share this machine's /usr and /var/lib/dpkg: a package a lab
// host installs is installed here. These tests only install fixture
// packages they build themselves (no dependency, one file under
// /usr/share/NAME/), and purge them in Cleanup, whatever happens.

// fixtureDeb builds a .deb of package name at version in dir and registers
// its purge; it returns the file's path.
func fixtureDeb(t *testing.T, dir, name, version string) string {
	t.Helper()
	root := filepath.Join(dir, name+"-"+version)
	mustWrite(t, filepath.Join(root, "DEBIAN", "control"), "Package: "+name+"\nVersion: "+version+
		"\nArchitecture: all\nMaintainer: tend tests <tend@localhost>\nDescription: tend test fixture\n", 0o644)
	mustWrite(t, filepath.Join(root, "usr", "share", name, "fixture.txt"), version+"\n", 0o644)
	deb := root + ".deb"
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", root, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %v: %s", err, out)
	}
	t.Cleanup(func() { purgeFixture(t, name) })
	return deb
}

// purgeFixture purges name from this machine (lab.PurgePackage), reporting a failure.
func purgeFixture(t *testing.T, name string) {
	if err := lab.PurgePackage(name); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

// fixtureName is a package name no other test or run uses.
func fixtureName(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "tend-fixture-" + hex.EncodeToString(b)
}

// dpkgInstalled reports whether this machine has name installed.
func dpkgInstalled(name string) bool {
	out, _ := exec.Command("dpkg-query", "-W", "-f=${db:Status-Abbrev}", name).Output()
	return strings.HasPrefix(string(out), "ii")
}

// recordConn records the argv of every command run through it.
type recordConn struct {
	transport.Conn
	mu   sync.Mutex
	cmds [][]string
}

func (c *recordConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	c.mu.Lock()
	c.cmds = append(c.cmds, cmd.Argv)
	c.mu.Unlock()
	return c.Conn.Run(ctx, cmd)
}

// aptGets counts the apt-get commands (not the read-only queries) run.
func (c *recordConn) aptGets() int {
	n := 0
	for _, a := range c.cmds {
		for _, w := range a {
			if w == "apt-get" {
				n++
				break
			}
		}
	}
	return n
}

// TestLabApt runs apt on a real host: a fixture .deb installed by deb:
// (check mode first: changed, nothing installed), again (ok), removed by
// name (changed, then ok), two fixtures removed by one apt-get command,
// coreutils present (ok), and a name apt does not know (failed with
// Ansible's message, nothing changed).
func TestLabApt(t *testing.T) {
	l := newFSLab(t)
	ctx := context.Background()
	dir := l.sub("apt")
	a, b := fixtureName(t), fixtureName(t)
	debA, debB := fixtureDeb(t, dir, a, "1.0-1"), fixtureDeb(t, dir, b, "2.0")
	build := func(src string) Module {
		t.Helper()
		m, err := newApt(Args{Node: argsNode(t, src), File: "play.yml"})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// run checks, then applies when asked and the check plans a change;
	// it returns the check's and the apply's results and the recorder.
	run := func(src string, apply bool) (plan.Change, plan.Change, *recordConn) {
		t.Helper()
		m := build(src)
		rc := &recordConn{Conn: l.conn}
		c, err := m.Check(ctx, rc)
		if err != nil {
			t.Fatalf("%s: check: %v", src, err)
		}
		if !apply || !c.Changed() {
			return c, c, rc
		}
		got, err := m.Apply(ctx, rc, c)
		if err != nil {
			t.Fatalf("%s: apply: %v", src, err)
		}
		return c, got, rc
	}
	file := "/usr/share/" + a + "/fixture.txt"

	t.Run("DebCheckMode", func(t *testing.T) {
		c, _, _ := run("deb: "+debA, false)
		if !c.Changed() || !strings.Contains(c.Summary, "would install "+a+" 1.0-1 from "+debA) {
			t.Errorf("check: %s %q", c.Action, c.Summary)
		}
		if dpkgInstalled(a) || exists(file) {
			t.Errorf("check mode installed %s", a)
		}
	})
	t.Run("DebInstall", func(t *testing.T) {
		_, got, rc := run("deb: "+debA+","+debB, true)
		if !got.Changed() || got.Failed || !strings.Contains(got.Summary, "installed "+a+" 1.0-1") {
			t.Fatalf("apply: %s %q %v", got.Action, got.Summary, got.Data)
		}
		if !dpkgInstalled(a) || !dpkgInstalled(b) || !exists(file) {
			t.Errorf("%s or %s not installed", a, b)
		}
		if n := rc.aptGets(); n != 1 {
			t.Errorf("%d apt-get commands, want one for both debs: %q", n, rc.cmds)
		}
	})
	t.Run("DebAgainOK", func(t *testing.T) {
		c, got, _ := run("deb: "+debA, true)
		if c.Changed() || got.Changed() || c.Failed {
			t.Errorf("second run: %s %q", c.Action, c.Summary)
		}
	})
	t.Run("NamesPresentOK", func(t *testing.T) {
		c, _, rc := run("name: [coreutils, "+a+"]", true)
		if c.Changed() || c.Failed || !strings.Contains(c.Summary, "coreutils ") {
			t.Errorf("coreutils: %s %q", c.Action, c.Summary)
		}
		if len(rc.cmds) != 1 {
			t.Errorf("%d commands to read two names, want 1", len(rc.cmds))
		}
	})
	t.Run("PackageFindsApt", func(t *testing.T) {
		m, err := newPackage(Args{Node: argsNode(t, "name: [coreutils, "+a+"]"), File: "play.yml"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := m.Check(ctx, l.conn)
		if err != nil || c.Changed() || c.Failed || m.(*packageModule).mgr != "apt" {
			t.Errorf("package: %v %s %q (manager %q)", err, c.Action, c.Summary, m.(*packageModule).mgr)
		}
	})
	t.Run("Nonexistent", func(t *testing.T) {
		missing := fixtureName(t) + "-missing"
		c, got, rc := run("name: ["+a+", "+missing+"]", true)
		want := "No package matching '" + missing + "' is available"
		if !c.Failed || c.Msg != want || got.Changed() || rc.aptGets() != 0 {
			t.Errorf("check: failed=%v %q (want %q), apt-gets %d", c.Failed, c.Msg, want, rc.aptGets())
		}
	})
	t.Run("AbsentCheckMode", func(t *testing.T) {
		c, _, _ := run("name: "+a+"\nstate: absent", false)
		if !c.Changed() || !strings.Contains(c.Summary, "would remove "+a+" 1.0-1") || !dpkgInstalled(a) {
			t.Errorf("check: %s %q", c.Action, c.Summary)
		}
	})
	t.Run("AbsentBothOneCommand", func(t *testing.T) {
		_, got, rc := run("name: "+a+","+b+"\nstate: absent", true)
		if !got.Changed() || got.Failed {
			t.Fatalf("apply: %s %q %v", got.Action, got.Msg, got.Data)
		}
		if dpkgInstalled(a) || dpkgInstalled(b) || exists(file) {
			t.Errorf("still installed")
		}
		if n := rc.aptGets(); n != 1 {
			t.Errorf("%d apt-get commands, want 1: %q", n, rc.cmds)
		}
	})
	t.Run("AbsentAgainOK", func(t *testing.T) {
		c, got, _ := run("name: "+a+"\nstate: absent", true)
		if c.Changed() || got.Changed() || c.Failed {
			t.Errorf("second removal: %s %q", c.Action, c.Summary)
		}
	})
}
