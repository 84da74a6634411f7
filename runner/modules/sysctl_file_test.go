package modules

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/runner/plan"
	"tend/runner/transport"
)

// RHEL's /etc/sysctl.d/99-sysctl.conf links to /etc/sysctl.conf: the target
// is edited, the link stays a link, the backup lies beside the target.
func TestSysctlSymlinkStaysLink(t *testing.T) {
	t.Parallel()
	c, ctx := sysctlTestConn(t), sysctlCtx(t)
	dir := t.TempDir()
	target := filepath.Join(dir, "etc", "sysctl.conf")
	link := filepath.Join(dir, "etc", "sysctl.d", "99-sysctl.conf")
	writeTestFile(t, target, "net.ipv4.tcp_fin_timeout = 60\n")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../sysctl.conf", link); err != nil {
		t.Fatal(err)
	}
	m := newSysctlT(t, "file: "+link+"\nname: net.ipv4.tcp_fin_timeout\nvalue: 30\n")
	planned, err := m.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Apply(ctx, c, planned)
	if err != nil || got.Failed {
		t.Fatalf("apply: %v %s", err, got.Msg)
	}
	fi, err := os.Lstat(link)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("%s is no longer a symlink: %v", link, err)
	}
	if s := readTestFile(t, target); s != "net.ipv4.tcp_fin_timeout = 30\n" {
		t.Errorf("target: %q", s)
	}
	if b := got.Files[0].Backup; filepath.Dir(b) != filepath.Dir(target) {
		t.Errorf("backup %q not beside the target", b)
	}
	if c.live("net.ipv4.tcp_fin_timeout") != "30" {
		t.Error("live value not set")
	}
}

// A file changed between Check and Apply: refused as stale, nothing written.
func TestSysctlStalePlanRefused(t *testing.T) {
	t.Parallel()
	c, ctx := sysctlTestConn(t), sysctlCtx(t)
	file := filepath.Join(t.TempDir(), "sysctl.conf")
	writeTestFile(t, file, "net.ipv4.tcp_fin_timeout = 60\n")
	m := newSysctlT(t, "file: "+file+"\nname: net.ipv4.tcp_fin_timeout\nvalue: 30\n")
	planned, err := m.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	changed := "net.ipv4.tcp_fin_timeout = 60\nnet.ipv4.tcp_syn_retries = 4\n"
	writeTestFile(t, file, changed)
	_, err = m.Apply(ctx, c, planned)
	var stale *transport.StaleError
	if !errors.As(err, &stale) {
		t.Fatalf("Apply = %v, want a *transport.StaleError", err)
	}
	if readTestFile(t, file) != changed || c.live("net.ipv4.tcp_fin_timeout") != "60" {
		t.Error("a stale apply changed the host")
	}
}

// sysctl_set: false and reload: false manage the file only.
func TestSysctlFileOnly(t *testing.T) {
	t.Parallel()
	c, ctx := sysctlTestConn(t), sysctlCtx(t)
	file := filepath.Join(t.TempDir(), "sysctl.conf")
	writeTestFile(t, file, "")
	m := newSysctlT(t, "file: "+file+"\nname: net.ipv4.tcp_fin_timeout\nvalue: 30\nsysctl_set: false\nreload: false\n")
	planned, err := m.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.Apply(ctx, c, planned); err != nil || got.Failed {
		t.Fatalf("apply: %v %+v", err, got)
	}
	if c.live("net.ipv4.tcp_fin_timeout") != "60" {
		t.Error("live value changed")
	}
	if again, _ := m.Check(ctx, c); again.Action != plan.None {
		t.Errorf("second Check: %+v", again)
	}
}

// state: absent removes the dead key's lines; the live value is not touched.
func TestSysctlAbsentRemovesLines(t *testing.T) {
	t.Parallel()
	c, ctx := sysctlTestConn(t), sysctlCtx(t)
	file := filepath.Join(t.TempDir(), "sysctl.conf")
	writeTestFile(t, file, "net.ipv4.tcp_fin_timeout = 60\nnet.ipv4.tcp_tw_recycle = 1\n# net.ipv4.tcp_tw_recycle = 1\n")
	m := newSysctlT(t, "file: "+file+"\nname: net.ipv4.tcp_tw_recycle\nstate: absent\n")
	planned, err := m.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if v := valueOf(planned, "net.ipv4.tcp_tw_recycle"); v.Status != sysctlStatusChange || v.Before != "1" {
		t.Errorf("plan value: %+v", v)
	}
	got, err := m.Apply(ctx, c, planned)
	if err != nil || got.Failed {
		t.Fatalf("apply: %v %+v", err, got)
	}
	if s := readTestFile(t, file); s != "net.ipv4.tcp_fin_timeout = 60\n# net.ipv4.tcp_tw_recycle = 1\n" {
		t.Errorf("file: %q", s)
	}
	if len(got.Warnings) != 0 {
		t.Errorf("warnings after removing the dead key: %q", got.Warnings)
	}
	if again, _ := m.Check(ctx, c); again.Action != plan.None {
		t.Errorf("second Check: %+v", again)
	}
}

// A missing file is created (mode 0644); the plan records that it was absent.
func TestSysctlCreatesMissingFile(t *testing.T) {
	t.Parallel()
	c, ctx := sysctlTestConn(t), sysctlCtx(t)
	file := filepath.Join(t.TempDir(), "90-tend.conf")
	m := newSysctlT(t, "file: "+file+"\nname: net.ipv4.tcp_keepalive_time\nvalue: 1200\n")
	planned, err := m.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if planned.Files[0].BeforeSHA256 != transport.ExpectAbsent || !strings.HasPrefix(planned.Files[0].Diff, "--- /dev/null\n") {
		t.Errorf("plan file: %+v", planned.Files[0])
	}
	if got, err := m.Apply(ctx, c, planned); err != nil || got.Failed {
		t.Fatalf("apply: %v %+v", err, got)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("created file: %v %v", fi, err)
	}
	if s := readTestFile(t, file); s != "# added by tend\nnet.ipv4.tcp_keepalive_time = 1200\n" {
		t.Errorf("file: %q", s)
	}
}

// A key present but read-only here (net.core.rmem_max in a namespace) is
// unsupported like a missing one; the rest goes on.
func TestSysctlReadOnlyKeyUnsupported(t *testing.T) {
	t.Parallel()
	c, ctx := sysctlTestConn(t), sysctlCtx(t)
	file := filepath.Join(t.TempDir(), "sysctl.conf")
	m := newSysctlT(t, "file: "+file+"\nsettings:\n  net.core.rmem_max: 8388608\n  net.ipv4.tcp_fin_timeout: 30\n")
	planned, err := m.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if v := valueOf(planned, "net.core.rmem_max"); v.Status != plan.ValueUnsupported || !strings.Contains(v.Note, "read-only") {
		t.Skipf("net.core.rmem_max is writable in a namespace on this kernel: %+v", v)
	}
	got, err := m.Apply(ctx, c, planned)
	if err != nil || got.Failed {
		t.Fatalf("apply: %v %+v", err, got)
	}
	if s := readTestFile(t, file); strings.Contains(s, "rmem_max") || c.live("net.ipv4.tcp_fin_timeout") != "30" {
		t.Errorf("file %q, fin_timeout %s", s, c.live("net.ipv4.tcp_fin_timeout"))
	}
}

// Through sysctl -p only (sysctl_set: false), a value the kernel stores
// differently is caught by the read-back: failed, named, file kept with a
// backup.
func TestSysctlReadBackAfterReload(t *testing.T) {
	t.Parallel()
	c, ctx := sysctlTestConn(t), sysctlCtx(t)
	file := filepath.Join(t.TempDir(), "sysctl.conf")
	writeTestFile(t, file, "# x\n")
	m := newSysctlT(t, "file: "+file+"\nname: net.ipv4.tcp_fin_timeout\nvalue: 0755\nsysctl_set: false\n")
	planned, err := m.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Apply(ctx, c, planned)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Failed || !strings.Contains(got.Msg, `net.ipv4.tcp_fin_timeout (want "0755", holds "493")`) {
		t.Errorf("result: %v %q", got.Failed, got.Msg)
	}
	if v := valueOf(got, "net.ipv4.tcp_fin_timeout"); v.Status != plan.ValueFailed {
		t.Errorf("value: %+v", v)
	}
	if got.Files[0].Backup == "" {
		t.Error("no backup")
	}
}

// `ip netns exec` bind-mounts /etc/netns/NAME/sysctl.conf over
// /etc/sysctl.conf: rename fails with EBUSY, the file is rewritten in place
// and the result says so. The host's own /etc/sysctl.conf must not change.
func TestSysctlBindMountedFileInPlace(t *testing.T) {
	t.Parallel()
	c, ctx := sysctlTestConn(t), sysctlCtx(t)
	hostBefore, err := os.ReadFile("/etc/sysctl.conf")
	if err != nil {
		t.Skip("no /etc/sysctl.conf on this host to bind-mount over")
	}
	nsDir := filepath.Join("/etc/netns", c.ns)
	t.Cleanup(func() { os.RemoveAll(nsDir) })
	marker := "# tend test " + c.ns + "\nnet.ipv4.tcp_fin_timeout = 60\n"
	writeTestFile(t, filepath.Join(nsDir, "sysctl.conf"), marker)
	res, err := c.Run(ctx, transport.Command{Argv: []string{"cat", "/etc/sysctl.conf"}})
	if err != nil || string(res.Stdout) != marker {
		t.Skipf("ip netns exec did not bind-mount the file: %v", err)
	}
	m := newSysctlT(t, "name: net.ipv4.tcp_fin_timeout\nvalue: 30\n")
	planned, err := m.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Apply(ctx, c, planned)
	if b := got.Data["backup"]; b != nil && b != "" {
		t.Cleanup(func() { os.Remove(b.(string)) })
	}
	if err != nil || got.Failed {
		t.Fatalf("apply: %v %+v", err, got)
	}
	if !got.Files[0].InPlace || got.Data["in_place"] != true {
		t.Errorf("in place not reported: %+v", got.Files[0])
	}
	if s := readTestFile(t, filepath.Join(nsDir, "sysctl.conf")); !strings.Contains(s, "net.ipv4.tcp_fin_timeout = 30\n") {
		t.Errorf("bind-mounted file: %q", s)
	}
	if hostAfter, _ := os.ReadFile("/etc/sysctl.conf"); sha256.Sum256(hostAfter) != sha256.Sum256(hostBefore) {
		t.Fatal("the host's /etc/sysctl.conf changed")
	}
}

// sysctlCountConn counts the commands run through it.
type sysctlCountConn struct {
	*sysctlNSConn
	n int
}

func (c *sysctlCountConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	c.n++
	return c.sysctlNSConn.Run(ctx, cmd)
}

// Check is one command unless the file sets other keys (then two); Apply
// works from Check's state: the live writes with their read-back, the file,
// sysctl -p with the final read-back.
func TestSysctlCommandCount(t *testing.T) {
	t.Parallel()
	c, ctx := &sysctlCountConn{sysctlNSConn: sysctlTestConn(t)}, sysctlCtx(t)
	file := filepath.Join(t.TempDir(), "sysctl.conf")
	writeTestFile(t, file, "# local settings\n")
	m := newSysctlT(t, "file: "+file+"\nsettings:\n  net.ipv4.tcp_fin_timeout: 30\n  net.ipv4.tcp_keepalive_time: 1200\n  net.core.netdev_max_backlog: 3000\n")
	planned, err := m.Check(ctx, c)
	if err != nil || c.n != 1 {
		t.Fatalf("Check: %d commands, %v", c.n, err)
	}
	c.n = 0
	got, err := m.Apply(ctx, c, planned)
	if err != nil || got.Failed || c.n != 3 {
		t.Fatalf("Apply: %d commands, %v %+v", c.n, err, got)
	}
	c.n = 0
	if again, err := m.Check(ctx, c); err != nil || again.Action != plan.None || c.n != 1 {
		t.Errorf("recheck: %d commands, %v %+v", c.n, err, again)
	}

	writeTestFile(t, file, "net.ipv4.tcp_syn_retries = 4\nnet.ipv4.no_such_key = 1\n")
	c.n = 0
	planned, err = m.Check(ctx, c)
	if err != nil || c.n != 2 {
		t.Fatalf("Check of a file with other keys: %d commands, %v", c.n, err)
	}
	if w := strings.Join(planned.Warnings, "\n"); !strings.Contains(w, file+":2: net.ipv4.no_such_key: no /proc/sys/net/ipv4/no_such_key") || strings.Contains(w, "tcp_syn_retries") {
		t.Errorf("warnings: %s", w)
	}
}

// A plan without Check's state (a saved plan) is checked against the host
// again: a changed file is stale, nothing written.
func TestSysctlStalePlanWithoutPrivate(t *testing.T) {
	t.Parallel()
	c, ctx := sysctlTestConn(t), sysctlCtx(t)
	file := filepath.Join(t.TempDir(), "sysctl.conf")
	writeTestFile(t, file, "net.ipv4.tcp_fin_timeout = 60\n")
	m := newSysctlT(t, "file: "+file+"\nname: net.ipv4.tcp_fin_timeout\nvalue: 30\n")
	planned, err := m.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	planned.Private = nil
	changed := "net.ipv4.tcp_fin_timeout = 60\n# edited\n"
	writeTestFile(t, file, changed)
	var stale *transport.StaleError
	if _, err = m.Apply(ctx, c, planned); !errors.As(err, &stale) {
		t.Fatalf("Apply = %v, want a *transport.StaleError", err)
	}
	if readTestFile(t, file) != changed || c.live("net.ipv4.tcp_fin_timeout") != "60" {
		t.Error("a stale apply changed the host")
	}
	writeTestFile(t, file, "net.ipv4.tcp_fin_timeout = 60\n")
	if got, err := m.Apply(ctx, c, planned); err != nil || got.Failed || c.live("net.ipv4.tcp_fin_timeout") != "30" {
		t.Errorf("apply of the saved plan: %v %+v", err, got)
	}
}

// The file already holds the value, only the live value differs: a file
// changed since Check still stops the live write.
func TestSysctlStaleLiveOnly(t *testing.T) {
	t.Parallel()
	c, ctx := sysctlTestConn(t), sysctlCtx(t)
	file := filepath.Join(t.TempDir(), "sysctl.conf")
	writeTestFile(t, file, "net.ipv4.tcp_fin_timeout = 30\n")
	m := newSysctlT(t, "file: "+file+"\nname: net.ipv4.tcp_fin_timeout\nvalue: 30\n")
	planned, err := m.Check(ctx, c)
	if err != nil || planned.Action != plan.Update || planned.Files[0].Diff != "" {
		t.Fatalf("plan: %v %+v", err, planned)
	}
	writeTestFile(t, file, "net.ipv4.tcp_fin_timeout = 40\n")
	var stale *transport.StaleError
	if _, err = m.Apply(ctx, c, planned); !errors.As(err, &stale) {
		t.Fatalf("Apply = %v, want a *transport.StaleError", err)
	}
	if c.live("net.ipv4.tcp_fin_timeout") != "60" {
		t.Error("a stale apply wrote the live value")
	}
}
