package modules

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"tend/runner/modules/sysctlconf"
	"tend/runner/plan"
	"tend/runner/transport"
)

// These tests run the module against transport.Local() inside a throwaway
// network namespace per test, so only that namespace's net.* sysctls change
// (they start at kernel defaults). The Conn refuses any live write outside
// /proc/sys/net/ and any sysctl -p of a file holding a non-net key: kernel.*,
// vm.* and fs.* are global even from inside a namespace.

// sysctlNSConn runs every command through `ip netns exec NAME`.
type sysctlNSConn struct {
	t     *testing.T
	inner transport.Conn
	ns    string
}

func (c *sysctlNSConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if err := c.guard(cmd.Argv); err != nil {
		c.t.Error(err)
		return transport.Result{}, err
	}
	cmd.Argv = append([]string{"ip", "netns", "exec", c.ns}, cmd.Argv...)
	return c.inner.Run(ctx, cmd)
}

func (c *sysctlNSConn) Close() error { return c.inner.Close() }

// guard refuses commands that could change global kernel settings.
func (c *sysctlNSConn) guard(argv []string) error {
	for _, a := range argv {
		if a == "--system" {
			return errors.New("test guard: sysctl --system refused")
		}
	}
	if len(argv) < 3 || argv[0] != "/bin/sh" {
		return nil
	}
	switch argv[2] {
	case sysctlWriteScript: // sh READBACK GUARDFILE GUARDSHA PATH VALUE...
		for i := 7; i < len(argv); i += 2 {
			if !strings.HasPrefix(argv[i], "/proc/sys/net/") {
				return fmt.Errorf("test guard: live write to %s refused", argv[i])
			}
		}
	case sysctlReloadScript:
		// Read the file as the namespace sees it (ip netns exec may
		// bind-mount another file over it).
		res, err := c.inner.Run(context.Background(), transport.Command{Argv: []string{"ip", "netns", "exec", c.ns, "cat", "--", argv[4]}})
		if err != nil || res.ExitCode != 0 {
			return fmt.Errorf("test guard: reading %s: %v %s", argv[4], err, res.Stderr)
		}
		content := res.Stdout
		for _, l := range sysctlconf.Parse(content) {
			if l.Kind == sysctlconf.Assign && !strings.HasPrefix(l.ID(), "net.") {
				return fmt.Errorf("test guard: sysctl -p of a file setting %q refused", l.Key)
			}
		}
	}
	return nil
}

var (
	sysctlNSSeq   atomic.Int64
	sysctlNSSweep sync.Once
)

const sysctlNSPrefix = "tend-sysctltest-"

// sysctlTestConn creates a network namespace named after this process and
// deletes it when the test ends, failed or not. Namespaces left by killed
// test processes are removed first.
func sysctlTestConn(t *testing.T) *sysctlNSConn {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) not installed")
	}
	sysctlNSSweep.Do(sweepSysctlNamespaces)
	name := fmt.Sprintf("%s%d-%d", sysctlNSPrefix, os.Getpid(), sysctlNSSeq.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", name, err, out)
		}
	})
	return &sysctlNSConn{t: t, inner: transport.Local(), ns: name}
}

func sweepSysctlNamespaces() {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, sysctlNSPrefix)
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err == nil && pid != os.Getpid() && syscall.Kill(pid, 0) == syscall.ESRCH {
			_ = exec.Command("ip", "netns", "delete", name).Run()
		}
	}
}

// live reads a key inside the test namespace.
func (c *sysctlNSConn) live(key string) string {
	c.t.Helper()
	res, err := c.Run(context.Background(), transport.Command{Argv: []string{"cat", sysctlconf.KeyToProcPath(key)}})
	if err != nil || res.ExitCode != 0 {
		c.t.Fatalf("reading %s: %v %s", key, err, res.Stderr)
	}
	return sysctlconf.NormalizeValue(string(res.Stdout))
}

func sysctlCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readTestFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func valueOf(c plan.Change, key string) plan.ValueChange {
	for _, v := range c.Values {
		if v.Key == key {
			return v
		}
	}
	return plan.ValueChange{Key: key, Status: "missing from the plan"}
}

const incidentSettings = `settings:
  net.ipv4.tcp_syn_retries: 2
  net.ipv4.tcp_keepalive_time: 1200
  net.ipv4.tcp_orphan_retries: 3
  net.ipv4.tcp_fin_timeout: 30
  net.ipv4.tcp_max_syn_backlog: 4096
  net.ipv4.tcp_syncookies: 1
  net.ipv4.tcp_tw_reuse: 1
  net.ipv4.tcp_tw_recycle: 1
  net.ipv4.tcp_keepalive_probes: 5
  net.core.netdev_max_backlog: 3000
`

// The incident's runbook: tcp_tw_recycle (gone since 4.12) and
// netdev_max_backlog (global, absent in a namespace) are reported, not
// written; the rest is applied, verified, and a second Check finds nothing.
func TestSysctlIncidentRunbook(t *testing.T) {
	t.Parallel()
	c, ctx := sysctlTestConn(t), sysctlCtx(t)
	file := filepath.Join(t.TempDir(), "sysctl.conf")
	before := "# local settings\nnet.ipv4.tcp_fin_timeout = 60\n"
	writeTestFile(t, file, before)
	m := newSysctlT(t, "file: "+file+"\n"+incidentSettings)
	m.boot = sysctlBootLayout{conf: file} // procps reads it at boot: every value persists

	planned, err := m.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if planned.Action != plan.Update || planned.Failed {
		t.Fatalf("plan: %+v", planned)
	}
	if v := valueOf(planned, "net.ipv4.tcp_tw_recycle"); v.Status != plan.ValueUnsupported || !strings.Contains(v.Note, "4.12") || !strings.Contains(v.Note, "NAT") {
		t.Errorf("tcp_tw_recycle: %+v", v)
	}
	if v := valueOf(planned, "net.core.netdev_max_backlog"); v.Status != plan.ValueUnsupported || !strings.Contains(v.Note, "global key") {
		t.Errorf("netdev_max_backlog: %+v", v)
	}
	if v := valueOf(planned, "net.ipv4.tcp_fin_timeout"); v.Status != sysctlStatusChange || v.Before != "60" || v.After != "30" {
		t.Errorf("tcp_fin_timeout: %+v", v)
	}
	diff := planned.Files[0].Diff
	for _, s := range []string{"--- " + file + "\n", "+++ " + file + " (tend)\n", "-net.ipv4.tcp_fin_timeout = 60\n", "+net.ipv4.tcp_fin_timeout = 30\n", "+# added by tend\n"} {
		if !strings.Contains(diff, s) {
			t.Errorf("diff lacks %q:\n%s", s, diff)
		}
	}
	if strings.Contains(diff, "tcp_tw_recycle") || strings.Contains(diff, "netdev_max_backlog") {
		t.Errorf("unsupported keys in the diff:\n%s", diff)
	}
	if readTestFile(t, file) != before || c.live("net.ipv4.tcp_fin_timeout") != "60" {
		t.Fatal("Check changed the host")
	}

	got, err := m.Apply(ctx, c, planned)
	if err != nil {
		t.Fatal(err)
	}
	if got.Failed || got.Action != plan.Update {
		t.Fatalf("apply: %+v", got)
	}
	eff := sysctlconf.Effective([]byte(readTestFile(t, file)))
	for _, s := range m.want {
		id := sysctlconf.Canonical(s.Key)
		if id == "net.ipv4.tcp_tw_recycle" || id == "net.core.netdev_max_backlog" {
			if _, ok := eff[id]; ok {
				t.Errorf("unsupported %s written to the file", id)
			}
			continue
		}
		if eff[id] != s.Value || c.live(id) != s.Value {
			t.Errorf("%s: file %q, live %q, want %q", id, eff[id], c.live(id), s.Value)
		}
	}
	backup := got.Files[0].Backup
	if backup == "" || readTestFile(t, backup) != before {
		t.Errorf("backup %q missing or wrong", backup)
	}
	if ok, _ := filepath.Match("*.conf", filepath.Base(backup)); ok {
		t.Errorf("backup %s matches *.conf", backup)
	}
	d := got.Data
	if d["changed"] != true || d["backup"] != backup || d["file"] != file ||
		!reflect.DeepEqual(d["unsupported"], []string{"net.ipv4.tcp_tw_recycle", "net.core.netdev_max_backlog"}) {
		t.Errorf("data: %#v", d)
	}
	if v := d["values"].(map[string]any)["net.ipv4.tcp_fin_timeout"]; !reflect.DeepEqual(v, map[string]any{"before": "60", "after": "30", "status": "change", "note": "file: 60 → 30; live: 60 → 30"}) {
		t.Errorf("data values: %#v", v)
	}
	if b := d["boot"].(map[string]any)["net.ipv4.tcp_fin_timeout"]; !reflect.DeepEqual(b, map[string]any{"value": "30", "file": file, "line": 2}) ||
		d["boot_reader"] != "procps" || len(d["reverts_at_boot"].([]string)) != 0 {
		t.Errorf("boot data: %#v %v %v", b, d["boot_reader"], d["reverts_at_boot"])
	}

	again, err := m.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if again.Action != plan.None || again.Files[0].Diff != "" {
		t.Errorf("second Check: %+v", again)
	}
}

// A value the kernel refuses (or stores differently) fails the task: the
// file stays byte-identical, no backup appears, live values written before
// it are restored.
func TestSysctlRefusedValueLeavesFile(t *testing.T) {
	t.Parallel()
	tests := []struct{ key, value, want string }{
		{"net.ipv4.tcp_keepalive_time", "abc", "refused"},
		{"net.ipv4.tcp_tw_reuse", "7", "refused"},
		{"net.ipv4.tcp_fin_timeout", "0755", `holds "493"`}, // octal to the kernel
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			c, ctx := sysctlTestConn(t), sysctlCtx(t)
			dir := t.TempDir()
			file := filepath.Join(dir, "sysctl.conf")
			before := "net.ipv4.tcp_syn_retries = 4\n# keep me\n"
			writeTestFile(t, file, before)
			retries := c.live("net.ipv4.tcp_syn_retries")
			m := newSysctlT(t, fmt.Sprintf("file: %s\nsettings:\n  net.ipv4.tcp_syn_retries: 3\n  %s: %s\n", file, tt.key, tt.value))
			planned, err := m.Check(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Apply(ctx, c, planned)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Failed || !strings.Contains(got.Msg, tt.key) || !strings.Contains(got.Msg, tt.want) ||
				!strings.Contains(got.Msg, "left unchanged") || !strings.Contains(got.Msg, "restored") {
				t.Errorf("result: failed=%v msg=%q", got.Failed, got.Msg)
			}
			if v := valueOf(got, tt.key); v.Status != plan.ValueFailed {
				t.Errorf("%s status %q", tt.key, v.Status)
			}
			if readTestFile(t, file) != before {
				t.Errorf("file changed:\n%s", readTestFile(t, file))
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("extra files beside the conf: %v", entries)
			}
			if got := c.live("net.ipv4.tcp_syn_retries"); got != retries {
				t.Errorf("tcp_syn_retries not restored: %s, was %s", got, retries)
			}
		})
	}
}

// Duplicates, comments, CRLF, odd spacing, a dead key and no final newline:
// the plan's diff is the golden one, only the effective lines change, and
// sysctl -p's complaint about the unrelated dead key is a warning while our
// keys are verified.
func TestSysctlMessyFileMinimalEdit(t *testing.T) {
	t.Parallel()
	c, ctx := sysctlTestConn(t), sysctlCtx(t)
	file := filepath.Join(t.TempDir(), "sysctl.conf")
	writeTestFile(t, file, sysctlMessyConf+"\nbogus line\nnet.core.netdev_max_backlog=3000")
	var settings strings.Builder
	for _, s := range sysctlMessyWant {
		fmt.Fprintf(&settings, "  %s: %q\n", s.Key, s.Value)
	}
	m := newSysctlT(t, "file: "+file+"\nsettings:\n"+settings.String())

	planned, err := m.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	warnings := strings.Join(planned.Warnings, "\n")
	for _, s := range []string{file + ":7: net.ipv4.tcp_tw_recycle", file + ":11: invalid syntax", file + ":12: net.core.netdev_max_backlog"} {
		if !strings.Contains(warnings, s) {
			t.Errorf("plan warnings lack %q:\n%s", s, warnings)
		}
	}
	got, err := m.Apply(ctx, c, planned)
	if err != nil {
		t.Fatal(err)
	}
	if got.Failed {
		t.Fatalf("apply failed: %s", got.Msg)
	}
	want := "# /etc/sysctl.conf - tuned by hand\n" +
		"net.ipv4.tcp_fin_timeout = 60\n" +
		"; old keepalive\n" +
		"net.ipv4.tcp_keepalive_time=1200\n" +
		"\n" +
		"  net.ipv4.tcp_syn_retries\t=\t2   \r\n" +
		"net.ipv4.tcp_tw_recycle = 1\n" +
		"net.ipv4.tcp_fin_timeout=30\n" +
		"net.ipv4.tcp_rmem = 4096\t87380\t6291456\n" +
		"net.ipv4.tcp_orphan_retries = 0\n" +
		"bogus line\n" +
		"net.core.netdev_max_backlog=3000\n" +
		"# added by tend\n" +
		"net.ipv4.tcp_keepalive_probes = 5\n"
	if content := readTestFile(t, file); content != want {
		t.Errorf("file:\n%q\nwant\n%q", content, want)
	}
	warnings = strings.Join(got.Warnings, "\n")
	for _, s := range []string{"/proc/sys/net/ipv4/tcp_tw_recycle", "invalid syntax", "/proc/sys/net/core/netdev_max_backlog"} {
		if !strings.Contains(warnings, s) {
			t.Errorf("apply warnings lack %q:\n%s", s, warnings)
		}
	}
	for _, s := range sysctlMessyWant {
		if got := c.live(s.Key); !sysctlconf.ValuesEqual(got, s.Value) {
			t.Errorf("%s = %q, want %q", s.Key, got, s.Value)
		}
	}
}

// The plan's diff of the messy file, headers aside, is the golden one.
func TestSysctlMessyFileGoldenFromCheck(t *testing.T) {
	t.Parallel()
	c, ctx := sysctlTestConn(t), sysctlCtx(t)
	file := filepath.Join(t.TempDir(), "sysctl.conf")
	writeTestFile(t, file, sysctlMessyConf)
	var settings strings.Builder
	for _, s := range sysctlMessyWant {
		fmt.Fprintf(&settings, "  %s: %q\n", s.Key, s.Value)
	}
	m := newSysctlT(t, "file: "+file+"\nsettings:\n"+settings.String())
	planned, err := m.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "sysctl_messy.diff.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ReplaceAll(planned.Files[0].Diff, file, "/etc/sysctl.conf"); got != string(golden) {
		t.Errorf("Check's diff:\n%s\ngolden:\n%s", got, golden)
	}
}
