package modules

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"tend/runner/plan"
	"tend/runner/transport"
)

// corruptConn flips one byte of what the host sends after the probe's
// "cat" answer: the content read no longer has the sha1 the host computed.
type corruptConn struct{ transport.Conn }

func (c corruptConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	res, err := c.Conn.Run(ctx, cmd)
	if i := bytes.LastIndex(res.Stdout, []byte("cat\x00ok\x00")); err == nil && i >= 0 && len(res.Stdout) > i+7 {
		res.Stdout[i+7] ^= 0x20
	}
	return res, err
}

// TestLabFetch: fetch over SSH through sudo (a password-asking sudoer)
// reads a root-only file into dest/HOST/SRC; the second run changes
// nothing; a flat fetch into a directory; content that does not match the
// host's sha1 fails and leaves the controller's file as it was (or is
// written with validate_checksum: false).
func TestLabFetch(t *testing.T) {
	ctx := context.Background()
	c, root := sudoLab(t)
	hostDir := t.TempDir()
	os.Chmod(hostDir, 0o700) // root only: deploy cannot read it without sudo
	src := filepath.Join(hostDir, "secret.conf")
	mustWrite(t, src, "token = 42\n", 0o600)
	ctl := t.TempDir()
	pb := filepath.Join(ctl, "site.yml")

	run := func(conn transport.Conn, args string) plan.Change {
		t.Helper()
		m, err := newFetchT(t, pb, args, "web1")
		if err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, hostDir)
		dry, err := m.Check(ctx, conn)
		if err != nil || dry.Action != plan.Run {
			t.Fatalf("check: %v %+v", err, dry)
		}
		got, err := m.Apply(ctx, conn, dry)
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		sameSnap(t, "fetch", before, snapshot(t, hostDir))
		return got
	}

	t.Run("WithoutBecomeUnreadable", func(t *testing.T) {
		got := run(c, "src: "+src+"\ndest: fetched")
		if !got.Failed || got.Msg != "file is not readable: "+src {
			t.Errorf("without sudo: %+v", got)
		}
	})
	local := filepath.Join(ctl, "fetched", "web1", src)
	t.Run("BecomeRootOnly", func(t *testing.T) {
		got := run(root, "src: "+src+"\ndest: fetched")
		if got.Failed || got.Action != plan.Update || readT(t, local) != "token = 42\n" {
			t.Fatalf("fetch: %+v %q", got, readT(t, local))
		}
		if again := run(root, "src: "+src+"\ndest: fetched"); again.Action != plan.None || again.Failed {
			t.Errorf("second run: %+v", again)
		}
	})
	t.Run("FlatIntoDirectory", func(t *testing.T) {
		got := run(root, "src: "+src+"\ndest: flat/\nflat: true")
		if got.Failed || readT(t, filepath.Join(ctl, "flat", "secret.conf")) != "token = 42\n" {
			t.Errorf("flat: %+v", got)
		}
	})
	t.Run("ChecksumMismatch", func(t *testing.T) {
		mustWrite(t, src, "token = 43\n", 0o600)
		before := snapshot(t, ctl)
		got := run(corruptConn{root}, "src: "+src+"\ndest: fetched")
		if !got.Failed || got.Msg != "checksum mismatch" || got.Data["remote_checksum"] == got.Data["checksum"] {
			t.Errorf("corrupted read: %+v", got)
		}
		sameSnap(t, "a corrupted read", before, snapshot(t, ctl))
		got = run(corruptConn{root}, "src: "+src+"\ndest: fetched\nvalidate_checksum: false")
		if got.Failed || got.Action != plan.Update || readT(t, local) != "Token = 43\n" {
			t.Errorf("validate_checksum false: %+v %q", got, readT(t, local))
		}
	})
}
