package modules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"tend/runner/transport"
)

// These tests run the module's scripts on local files (not /proc/sys), under
// every POSIX shell installed: dash (Debian's /bin/sh) and bash --posix.

// sysctlShellConn runs the module's /bin/sh scripts with another shell.
type sysctlShellConn struct {
	shell []string
	runs  int
}

func (c *sysctlShellConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	c.runs++
	if len(cmd.Argv) > 0 && cmd.Argv[0] == "/bin/sh" {
		cmd.Argv = append(append([]string(nil), c.shell...), cmd.Argv[1:]...)
	}
	return transport.Local().Run(ctx, cmd)
}

func (c *sysctlShellConn) Close() error { return nil }

// sysctlShells calls f with a Conn per installed shell.
func sysctlShells(t *testing.T, f func(t *testing.T, c *sysctlShellConn)) {
	shells := map[string][]string{"sh": {"/bin/sh"}, "dash": {"dash"}, "bash": {"bash", "--posix"}, "busybox": {"busybox", "sh"}}
	for _, name := range []string{"sh", "dash", "bash", "busybox"} {
		argv := shells[name]
		if _, err := exec.LookPath(argv[0]); err != nil {
			continue
		}
		t.Run(name, func(t *testing.T) { f(t, &sysctlShellConn{shell: argv}) })
	}
}

// The probe reads every value as $(cat) did (internal newlines kept,
// trailing ones dropped, white space and backslashes as they are), frames
// each, and says which paths are missing, directories or unreadable.
func TestSysctlProbeValues(t *testing.T) {
	dir := t.TempDir()
	files := []struct{ name, content, want string }{
		{"int", "60\n", "60"},
		{"vector", "4096\t87380\t6291456\n", "4096\t87380\t6291456"},
		{"lines", "a\n\nb\n\n\n", "a\n\nb"},
		{"nonl", "no newline", "no newline"},
		{"empty", "", ""},
		{"spaces", "  lead and trail  \n", "  lead and trail  "},
		{"shell", "\\back\\slash -n -e %s $HOME `id` '\"\n", "\\back\\slash -n -e %s $HOME `id` '\""},
		{"a", "plain\n", "plain"},
		{"a:b", "x:y\n\n", "x:y"}, // grep's "PATH:" cannot frame it: read alone
		{"eth0.100", "1\n", "1"},
	}
	var paths []string
	want := map[string]string{}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		writeTestFile(t, p, f.content)
		paths, want[p] = append(paths, p), f.want
	}
	readOnly := filepath.Join(dir, "ro")
	writeTestFile(t, readOnly, "7\n")
	if err := os.Chmod(readOnly, 0o444); err != nil {
		t.Fatal(err)
	}
	unreadable := filepath.Join(dir, "unreadable")
	writeTestFile(t, unreadable, "secret\n")
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		unreadable = "/proc/sys/vm/drop_caches" // 0200: even root cannot open it to read
		if _, err := os.Stat(unreadable); err != nil {
			unreadable = ""
		}
	}
	// /proc/self/mem opens, then its first read fails (EIO), as the
	// kernel's stable_secret does while unset.
	special := []struct{ path, state string }{
		{"/proc/self/mem", "unreadable"},
		{filepath.Join(dir, "missing"), "missing"},
		{dir, "dir"},
		{paths[0], ""}, // twice: both read
	}
	if unreadable != "" {
		special = append(special, struct{ path, state string }{unreadable, "unreadable"})
	}
	all := append([]string(nil), paths...)
	for _, s := range special {
		all = append(all, s.path)
	}
	all = append(all, readOnly)

	sysctlShells(t, func(t *testing.T, c *sysctlShellConn) {
		for _, full := range []bool{false, true} {
			p, err := sysctlProbeLive(sysctlCtx(t), c, all, []string{dir, filepath.Join(dir, "nope")}, full)
			if err != nil {
				t.Fatal(err)
			}
			readState := "read"
			if full {
				readState = "rw"
			}
			for i, path := range paths {
				if got := p.keys[i]; got.value != want[path] || got.state != readState {
					t.Errorf("full=%v %s: %+v, want %s %q", full, filepath.Base(path), got, readState, want[path])
				}
			}
			for i, s := range special {
				got, wantState := p.keys[len(paths)+i], s.state
				if wantState == "" {
					wantState = readState
				}
				if got.state != wantState || (s.state == "" && got.value != "60") {
					t.Errorf("full=%v %s: %+v, want %s", full, s.path, got, wantState)
				}
			}
			ro := p.keys[len(all)-1]
			if ro.value != "7" || (full && ro.state != "ro") {
				t.Errorf("full=%v read-only file: %+v", full, ro)
			}
			if strings.Join(p.others, " ") != "exists missing" {
				t.Errorf("others: %q", p.others)
			}
			if full != (p.netns != "") {
				t.Errorf("full=%v: netns %q", full, p.netns)
			}
		}
		if c.runs != 2 {
			t.Errorf("%d commands for 2 probes", c.runs)
		}
	})
}

// Check's one command returns the file byte for byte (NUL bytes, trailing
// newlines, text that looks like the probe's framing) with the probe, and
// fails as transport.ReadFile does.
func TestSysctlReadProbeFile(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	writeTestFile(t, key, "30\n")
	file := filepath.Join(dir, "sysctl.conf")
	content := "a = 1\x00netns\x00x y\x00file\x00\n\n\xff\n\n"
	writeTestFile(t, file, content)

	sysctlShells(t, func(t *testing.T, c *sysctlShellConn) {
		ctx := sysctlCtx(t)
		r, err := sysctlReadProbe(ctx, c, file, []string{key, filepath.Join(dir, "nokey")}, noBoot)
		if err != nil || !r.exists || string(r.content) != content {
			t.Fatalf("got %+v %v, want %q", r, err, content)
		}
		if p := r.probe; p.keys[0] != (sysctlLive{"rw", "30"}) || p.keys[1].state != "missing" {
			t.Errorf("probe: %+v", p.keys)
		}

		r, err = sysctlReadProbe(ctx, c, filepath.Join(dir, "none.conf"), []string{key}, noBoot)
		if err != nil || r.exists || r.content != nil || r.probe.keys[0].value != "30" {
			t.Errorf("missing file: %+v %v", r, err)
		}

		empty := filepath.Join(dir, "empty.conf")
		writeTestFile(t, empty, "")
		if r, err = sysctlReadProbe(ctx, c, empty, nil, noBoot); err != nil || !r.exists || len(r.content) != 0 {
			t.Errorf("empty file: %+v %v", r, err)
		}

		bad := []string{dir}
		if os.Geteuid() == 0 {
			if _, err := os.Stat("/proc/sys/vm/drop_caches"); err == nil {
				bad = append(bad, "/proc/sys/vm/drop_caches")
			}
		}
		for _, path := range bad {
			_, err := sysctlReadProbe(ctx, c, path, []string{key}, noBoot)
			_, want := transport.ReadFile(ctx, c, path)
			var fe *transport.FileError
			if err == nil || want == nil || err.Error() != "sysctl: "+want.Error() || !errors.As(err, &fe) {
				t.Errorf("%s: error %v, want sysctl: %v", path, err, want)
			}
		}
	})
}

// The live write script writes in order, stops at the first failure with
// dd's message, reads the written values back, and writes nothing when the
// guarded file changed.
func TestSysctlWriteScript(t *testing.T) {
	sysctlShells(t, func(t *testing.T, c *sysctlShellConn) {
		ctx := sysctlCtx(t)
		dir := t.TempDir()
		a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		writeTestFile(t, a, "1\n")
		writeTestFile(t, b, "2\n")
		conf := filepath.Join(dir, "sysctl.conf")
		writeTestFile(t, conf, "x = 1\n")
		sum := sha256.Sum256([]byte("x = 1\n"))
		sha := hex.EncodeToString(sum[:])
		ws := []sysctlWrite{{key: "a", path: a, value: "10\t20 -n", before: "1"}, {key: "b", path: b, value: "$(id)", before: "2"}}

		w, err := sysctlWriteLive(ctx, c, ws, false, true, &sysctlFileGuard{path: conf, sha: sha})
		if err != nil || w.done != 2 || w.refused != "" || w.readErr != nil {
			t.Fatalf("write: %+v %v", w, err)
		}
		if len(w.back) != 2 || w.back[0].value != "10\t20 -n" || w.back[1].value != "$(id)" {
			t.Errorf("read back: %+v", w.back)
		}
		if readTestFile(t, a) != "10\t20 -n\n" {
			t.Errorf("a: %q", readTestFile(t, a))
		}

		w, err = sysctlWriteLive(ctx, c, ws, true, false, nil)
		if err != nil || w.done != 2 || w.back != nil || readTestFile(t, b) != "2\n" {
			t.Errorf("restore: %+v %v %q", w, err, readTestFile(t, b))
		}

		for _, g := range []sysctlFileGuard{{conf, strings.Repeat("0", 64)}, {conf, transport.ExpectAbsent}, {filepath.Join(dir, "new.conf"), sha}} {
			_, err = sysctlWriteLive(ctx, c, ws, false, true, &g)
			var stale *transport.StaleError
			if !errors.As(err, &stale) || stale.Path != g.path || stale.Want != g.sha {
				t.Errorf("guard %+v: %v", g, err)
			}
			if readTestFile(t, a) != "1\n" {
				t.Fatalf("a stale guard wrote %q", readTestFile(t, a))
			}
		}
		if _, err = sysctlWriteLive(ctx, c, ws, false, true, &sysctlFileGuard{filepath.Join(dir, "new.conf"), transport.ExpectAbsent}); err != nil {
			t.Errorf("absent file as planned: %v", err)
		}

		ws = append([]sysctlWrite{{key: "c", path: filepath.Join(dir, "no", "c"), value: "3"}}, ws...)
		w, err = sysctlWriteLive(ctx, c, ws[:2], false, true, nil)
		if err != nil || w.done != 0 || !strings.Contains(w.refused, "No such file or directory") || strings.Contains(w.refused, "\n") {
			t.Errorf("failed write: %+v %v", w, err)
		}
	})
}

// The note of an unsupported key says why in a few words: it is printed
// on the task line of every host that lacks the key.
func TestSysctlUnsupportedReason(t *testing.T) {
	other := &sysctlProbe{netns: "net:[2]", initNetns: "net:[1]", otherNetns: true}
	same := &sysctlProbe{netns: "net:[1]", initNetns: "net:[1]"}
	sandbox := &sysctlProbe{netns: "net:[2]"}
	const backlog, path = "net.core.netdev_max_backlog", "/proc/sys/net/core/netdev_max_backlog"
	for _, tc := range []struct {
		name, id, state string
		probe           *sysctlProbe
		want            string
	}{
		{"writable", backlog, "rw", other, ""},
		{"global key in a namespace", backlog, "missing", other, "a global key: only PID 1's network namespace has it"},
		{"missing on the kernel", backlog, "missing", same, "no " + path + " on this kernel"},
		{"PID 1 unreadable", backlog, "missing", sandbox, "no " + path + " on this kernel, or a global key of PID 1's network namespace"},
		{"not a net key", "vm.swappiness", "missing", other, "no /proc/sys/vm/swappiness on this kernel"},
		{"read-only in a namespace", backlog, "ro", other, "read-only in this network namespace (mode, or /proc/sys mounted read-only)"},
		{"removed key", "net.ipv4.tcp_tw_recycle", "missing", other, "removed in Linux 4.12 (commit 4396e46187ca); before that it broke clients behind NAT. Leave it out"},
	} {
		p := "/proc/sys/" + strings.ReplaceAll(tc.id, ".", "/")
		if got := sysctlUnsupportedReason(tc.id, p, sysctlLive{state: tc.state}, tc.probe); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
		if len(tc.want) > 110 {
			t.Errorf("%s: note of %d characters: keep it short", tc.name, len(tc.want))
		}
	}
}

// noBoot is a boot layout with nothing in it.
var noBoot = sysctlBootLayout{dirs: []string{"/nonexistent/sysctl.d"}, conf: "/nonexistent/sysctl.conf"}
