package modules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/runner/plan"
	"tend/runner/transport"
)

// TestLabUnarchive: unarchive over SSH through sudo (a password-asking
// sudoer) into a directory only root may enter: a controller tar.gz is
// streamed to the host's tar and a zip already on the host is unzipped;
// the dry run writes nothing, owner and mode land on every member, and the
// second run changes nothing.
func TestLabUnarchive(t *testing.T) {
	ctx := context.Background()
	c, root := sudoLab(t)
	hostDir := t.TempDir()
	os.Chmod(hostDir, 0o700)
	ctl := t.TempDir()
	pb := filepath.Join(ctl, "site.yml")
	makeTar(t, filepath.Join(ctl, "files", "app.tar.gz"), true,
		archEntry{"app/", "", 0o755}, archEntry{"app/run.sh", "#!/bin/sh\n", 0o755}, archEntry{"app/a.conf", "a=1\n", 0o600})
	makeZip(t, filepath.Join(hostDir, "site.zip"), archEntry{"site/index.html", "<h1>hi</h1>\n", 0o644})
	opt := filepath.Join(hostDir, "opt")
	os.Mkdir(opt, 0o755)

	converge := func(args string, wantDry plan.Action) plan.Change {
		t.Helper()
		m, err := newUnarchiveT(t, pb, args)
		if err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, hostDir)
		dry, err := m.Check(ctx, root)
		if err != nil || dry.Failed || dry.Action != wantDry {
			t.Fatalf("check: %v %s %q %s", err, dry.Action, dry.Summary, dry.Msg)
		}
		sameSnap(t, "the dry run", before, snapshot(t, hostDir))
		got, err := m.Apply(ctx, root, dry)
		if err != nil || got.Failed || got.Action != plan.Update {
			t.Fatalf("apply: %v %s %q %s", err, got.Action, got.Summary, got.Msg)
		}
		again, err := m.Check(ctx, root)
		if err != nil {
			t.Fatal(err)
		}
		if again.Action == plan.Run { // tar: Apply decides
			if again, err = m.Apply(ctx, root, again); err != nil {
				t.Fatal(err)
			}
		}
		if again.Action != plan.None || again.Failed {
			t.Errorf("second run: %s %q %s", again.Action, again.Summary, again.Msg)
		}
		return got
	}

	tgz := converge("src: app.tar.gz\ndest: "+opt+"\nowner: nobody\nlist_files: true", plan.Run)
	if readT(t, filepath.Join(opt, "app", "a.conf")) != "a=1\n" || modeOf(t, filepath.Join(opt, "app", "a.conf")).Perm() != 0o600 {
		t.Errorf("a.conf: %q %v", readT(t, filepath.Join(opt, "app", "a.conf")), modeOf(t, filepath.Join(opt, "app", "a.conf")))
	}
	for _, p := range []string{"app", "app/run.sh", "app/a.conf"} {
		if uid, _ := ownerOf(t, filepath.Join(opt, p)); uid != 65534 {
			t.Errorf("%s: owner %d, want nobody", p, uid)
		}
	}
	if files, _ := tgz.Data["files"].([]any); len(files) != 3 {
		t.Errorf("files %v", tgz.Data["files"])
	}

	www := filepath.Join(hostDir, "www")
	os.Mkdir(www, 0o755)
	converge("src: "+filepath.Join(hostDir, "site.zip")+"\ndest: "+www+"\nremote_src: true\nmode: u=rw,g=r,o=", plan.Update)
	idx := filepath.Join(www, "site", "index.html")
	if readT(t, idx) != "<h1>hi</h1>\n" || modeOf(t, idx).Perm() != 0o640 {
		t.Errorf("index.html %q %v", readT(t, idx), modeOf(t, idx))
	}

	// Without sudo the archive cannot be read nor dest entered: a clear failure.
	m, err := newUnarchiveT(t, pb, "src: "+filepath.Join(hostDir, "site.zip")+"\ndest: "+www+"\nremote_src: true")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.Check(ctx, c); err != nil || !got.Failed || !strings.Contains(got.Msg, "must be an existing dir") {
		t.Errorf("without sudo: %v %+v", err, got)
	}
}

// missingConn answers the unarchive script as a host without its program.
type missingConn struct{ transport.Conn }

func (c missingConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if len(cmd.Argv) > 2 && cmd.Argv[2] == unarchiveScript {
		if cmd.Input != nil {
			buf := make([]byte, 4096)
			for {
				if _, err := cmd.Input.Read(buf); err != nil {
					break
				}
			}
		}
		return transport.Result{Stdout: []byte("missing\x00unzip\x00")}, nil
	}
	return c.Conn.Run(ctx, cmd)
}

// TestUnarchiveMissingTool: an archive on a host without its program is
// planned (skipped in a dry run, as Ansible's, whose tar handlers skip in
// check mode) and fails when applied with Ansible's message.
func TestUnarchiveMissingTool(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	makeZip(t, filepath.Join(dir, "a.zip"), archEntry{"x", "y", 0o644})
	makeTar(t, filepath.Join(dir, "a.tar"), false, archEntry{"x", "y", 0o644})
	conn := missingConn{transport.Local()}
	for _, tc := range []struct{ src string }{{"a.zip"}, {"a.tar"}} {
		m, err := newUnarchiveT(t, filepath.Join(dir, "site.yml"), "src: "+tc.src+"\ndest: "+dir)
		if err != nil {
			t.Fatal(err)
		}
		dry, err := m.Check(ctx, conn)
		if err != nil || dry.Failed || dry.Action != plan.Run || !strings.Contains(dry.Summary, "would fail: the host has no unzip") {
			t.Fatalf("%s: check %v %+v", tc.src, err, dry)
		}
		got, err := m.Apply(ctx, conn, dry)
		if err != nil || !got.Failed || !strings.Contains(got.Msg, `Failed to find handler for "`) || !strings.Contains(got.Msg, "the host has no unzip") {
			t.Errorf("%s: apply %v %+v", tc.src, err, got)
		}
	}
}
