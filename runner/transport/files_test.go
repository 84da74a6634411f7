package transport

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// prefixConn runs every command under a prefix, as a privilege or
// namespace wrapper would.
type prefixConn struct {
	Conn
	prefix []string
}

func (p prefixConn) Run(ctx context.Context, cmd Command) (Result, error) {
	cmd.Argv = append(append([]string{}, p.prefix...), cmd.Argv...)
	return p.Conn.Run(ctx, cmd)
}

// TestWriteInPlaceOnBindMount: inside a private mount namespace a file is
// bind-mounted over the target, as `ip netns exec` does with
// /etc/netns/NS/sysctl.conf; rename over it fails with EBUSY, so the write
// must go into the same inode.
func TestWriteInPlaceOnBindMount(t *testing.T) {
	if !isRoot() {
		t.Skip("needs root for unshare -m")
	}
	if err := exec.Command("unshare", "-m", "true").Run(); err != nil {
		t.Skipf("unshare -m unavailable: %v", err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "netns-sysctl.conf")
	dst := filepath.Join(dir, "sysctl.conf")
	mustWrite(t, src, "namespaced\n", 0o640)
	mustWrite(t, dst, "host\n", 0o644)
	c := prefixConn{Local(), []string{"unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
		`mount --bind "$1" "$2" && shift 2 && exec "$@"`, "sh", src, dst}}
	ctx := context.Background()
	before, _ := os.Stat(src)

	got, err := ReadFile(ctx, c, dst)
	if err != nil || string(got) != "namespaced\n" {
		t.Fatalf("the wrapper does not bind-mount: %q %v", got, err)
	}
	res, err := WriteFileAtomic(ctx, c, dst, []byte("new\n"), WriteOptions{Backup: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.InPlace {
		t.Errorf("InPlace = false on a bind-mounted target")
	}
	mustContent(t, src, "new\n") // the bind source is the inode the host sees
	mustContent(t, dst, "host\n")
	after, _ := os.Stat(src)
	if !os.SameFile(before, after) || after.Mode() != 0o640 {
		t.Errorf("inode or mode changed: same=%v mode=%v", os.SameFile(before, after), after.Mode())
	}
	mustContent(t, res.BackupPath, "namespaced\n")
	if tmps, _ := leftovers(t, dir); len(tmps) > 0 {
		t.Errorf("temp files left: %v", tmps)
	}
}
