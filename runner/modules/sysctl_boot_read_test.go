package modules

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// bootTree builds a boot layout under a temporary directory: root/etc/
// sysctl.d and root/usr/lib/sysctl.d, root/etc/sysctl.conf as procps's
// last file, root/run/systemd/system as the systemd mark.
func bootTree(t *testing.T) (root string, layout sysctlBootLayout) {
	root = t.TempDir()
	return root, sysctlBootLayout{
		dirs:    []string{root + "/etc/sysctl.d", root + "/run/sysctl.d", root + "/usr/lib/sysctl.d"},
		conf:    root + "/etc/sysctl.conf",
		systemd: []string{root + "/run/systemd/system", root + "/usr/lib/systemd/systemd-sysctl"},
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// Check's one command lists the boot-time files: every *.conf of each
// directory with what it is (regular, empty, the module's file through a
// link), their lines through one grep (a ':' in a name is read alone), the
// reader (systemd when a mark exists); the module's file is not read twice.
func TestSysctlBootListing(t *testing.T) {
	root, layout := bootTree(t)
	etc, lib := root+"/etc/sysctl.d", root+"/usr/lib/sysctl.d"
	conf := "# ours\nnet.ipv4.tcp_keepalive_time = 1200\n"
	writeTestFile(t, layout.conf, conf)
	symlink(t, "../sysctl.conf", etc+"/99-sysctl.conf")
	writeTestFile(t, etc+"/zz-local.conf", "# local\n\nnet.ipv4.tcp_keepalive_time=7200") // no final newline
	writeTestFile(t, etc+"/empty.conf", "")
	writeTestFile(t, etc+"/README", "net.ipv4.tcp_keepalive_time = 1\n")
	writeTestFile(t, etc+"/.hidden.conf", "net.ipv4.tcp_keepalive_time = 2\n")
	writeTestFile(t, etc+"/we:ird.conf", "net.ipv4.tcp_fin_timeout = 40\n\n")
	writeTestFile(t, etc+"/ab.conf", "net.ipv4.tcp_syn_retries = 4\n")
	writeTestFile(t, etc+"/ab.conf:cd.conf", "net.ipv4.tcp_syn_retries = 5\n") // its grep lines would start "…/ab.conf:"
	writeTestFile(t, etc+"/new\nline.conf", "x = 1\nnet.ipv4.tcp_syn_retries = 3\n")
	symlink(t, "/dev/null", etc+"/mask.conf")
	if err := os.MkdirAll(etc+"/dir.conf", 0o755); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, lib+"/zz-local.conf", "net.ipv4.tcp_keepalive_time = 9\n")
	writeTestFile(t, lib+"/50-pid.conf", "kernel.pid_max = 4194304\r\n")

	type entry struct{ path, flags, content string }
	want := []entry{
		{etc + "/99-sysctl.conf", "ro", ""},
		{etc + "/ab.conf", "r", "net.ipv4.tcp_syn_retries = 4\n"},
		{etc + "/ab.conf:cd.conf", "r", "net.ipv4.tcp_syn_retries = 5\n"},
		{etc + "/dir.conf", "", ""},
		{etc + "/empty.conf", "r", ""},
		{etc + "/mask.conf", "", ""},
		{etc + "/new\nline.conf", "r", "x = 1\nnet.ipv4.tcp_syn_retries = 3\n"},
		{etc + "/we:ird.conf", "r", "net.ipv4.tcp_fin_timeout = 40\n"},
		{etc + "/zz-local.conf", "r", "# local\n\nnet.ipv4.tcp_keepalive_time=7200\n"},
		{lib + "/50-pid.conf", "r", "kernel.pid_max = 4194304\r\n"},
		{lib + "/zz-local.conf", "r", "net.ipv4.tcp_keepalive_time = 9\n"},
		{layout.conf, "cro", ""},
	}
	flags := func(f sysctlBootFile) string {
		s := ""
		for _, x := range []struct {
			on bool
			c  string
		}{{f.conf, "c"}, {f.regular, "r"}, {f.ours, "o"}, {f.unreadable, "u"}} {
			if x.on {
				s += x.c
			}
		}
		return s
	}
	sysctlShells(t, func(t *testing.T, c *sysctlShellConn) {
		for _, systemd := range []bool{false, true} {
			if systemd {
				if err := os.MkdirAll(root+"/run/systemd/system", 0o755); err != nil {
					t.Fatal(err)
				}
			}
			r, err := sysctlReadProbe(sysctlCtx(t), c, layout.conf, nil, layout)
			if err != nil {
				t.Fatal(err)
			}
			if string(r.content) != conf || r.boot.systemd != systemd {
				t.Errorf("content %q, systemd %v", r.content, r.boot.systemd)
			}
			var got []entry
			for _, f := range r.boot.files {
				got = append(got, entry{f.path, flags(f), string(f.content)})
			}
			if len(got) != len(want) {
				t.Fatalf("listing:\n%q\nwant\n%q", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("entry %d: %q, want %q", i, got[i], want[i])
				}
			}
			if c.runs != 1 && !systemd {
				t.Errorf("%d commands", c.runs)
			}
		}
		os.RemoveAll(root + "/run")
	})
}

// While the module's file does not exist, a dangling link naming it is
// still its place at boot (Apply creates the file behind it).
func TestSysctlBootListingDanglingLink(t *testing.T) {
	root, layout := bootTree(t)
	symlink(t, "../sysctl.conf", root+"/etc/sysctl.d/99-sysctl.conf")
	symlink(t, "../nothing.conf", root+"/etc/sysctl.d/50-other.conf")
	sysctlShells(t, func(t *testing.T, c *sysctlShellConn) {
		r, err := sysctlReadProbe(sysctlCtx(t), c, layout.conf, nil, layout)
		if err != nil || r.exists {
			t.Fatalf("%v %+v", err, r)
		}
		var got []string
		for _, f := range r.boot.files {
			got = append(got, strings.TrimPrefix(f.path, root)+map[bool]string{true: " ours"}[f.ours])
		}
		if want := "/etc/sysctl.d/50-other.conf|/etc/sysctl.d/99-sysctl.conf ours"; strings.Join(got, "|") != want {
			t.Errorf("listing %q, want %q", got, want)
		}
	})
}

// Check and Apply report a key a later boot-time file sets to another value,
// with that file and line, in the summary, the warnings, the value's note
// and the registered data; Check stays one command. By default the recheck
// only warns; with persist: strict it fails, and the dry run says it will.
func TestSysctlBootRevertsReported(t *testing.T) {
	t.Parallel()
	root, layout := bootTree(t)
	layout.systemd = nil // procps would apply /etc/sysctl.conf last: nothing reverts
	writeTestFile(t, layout.conf, "# ours\nnet.ipv4.tcp_keepalive_time = 7200\n")
	symlink(t, "../sysctl.conf", root+"/etc/sysctl.d/99-sysctl.conf")
	writeTestFile(t, root+"/etc/sysctl.d/99-local.conf", "net.ipv4.tcp_fin_timeout = 45\n")
	writeTestFile(t, root+"/etc/sysctl.d/zz-local.conf", "# site\n\nnet.ipv4.tcp_keepalive_time = 7200\n")
	const args = "\nsettings:\n  net.ipv4.tcp_keepalive_time: 1200\n  net.ipv4.tcp_fin_timeout: 30\n"
	const reason = "zz-local.conf:3 sets net.ipv4.tcp_keepalive_time=7200 after "

	for _, strict := range []bool{false, true} {
		writeTestFile(t, layout.conf, "# ours\nnet.ipv4.tcp_keepalive_time = 7200\n")
		c, ctx := &sysctlCountConn{sysctlNSConn: sysctlTestConn(t)}, sysctlCtx(t)
		src := "file: " + layout.conf + args
		if strict {
			src += "persist: strict\n"
		}
		m := newSysctlT(t, src)
		m.boot = layout
		if planned, err := m.Check(ctx, c); err != nil || planned.Failed || len(planned.Data["reverts_at_boot"].([]string)) != 0 || planned.Data["boot_reader"] != "procps" {
			t.Fatalf("procps order: %v %+v", err, planned)
		}
		m.boot.systemd = []string{root + "/etc"} // exists: systemd-sysctl's order
		c.n = 0
		planned, err := m.Check(ctx, c)
		if err != nil || c.n != 1 || planned.Failed {
			t.Fatalf("Check: %d commands, %v %+v", c.n, err, planned)
		}
		w := strings.Join(planned.Warnings, "\n")
		if !strings.Contains(w, root+"/etc/sysctl.d/"+reason+layout.conf+": it reverts at boot (systemd-sysctl's order)") ||
			strings.Contains(w, "tcp_fin_timeout") || strings.Contains(w, "persist: strict") != strict {
			t.Errorf("strict=%v warnings:\n%s", strict, w)
		}
		if !strings.Contains(planned.Summary, " ok, 1 reverts at boot (net.ipv4.tcp_keepalive_time); ") {
			t.Errorf("summary %q", planned.Summary)
		}
		if v := valueOf(planned, keepalive); !strings.Contains(v.Note, "at boot: 7200 from "+root+"/etc/sysctl.d/zz-local.conf:3") {
			t.Errorf("note %q", v.Note)
		}
		d := planned.Data
		boot := d["boot"].(map[string]any)
		if !reflect.DeepEqual(d["reverts_at_boot"], []string{keepalive}) || d["boot_reader"] != "systemd-sysctl" ||
			!reflect.DeepEqual(boot[keepalive], map[string]any{"value": "7200", "file": root + "/etc/sysctl.d/zz-local.conf", "line": 3}) ||
			!reflect.DeepEqual(boot["net.ipv4.tcp_fin_timeout"], map[string]any{"value": "30", "file": layout.conf, "line": 4}) {
			t.Errorf("data: %v %v %#v", d["reverts_at_boot"], d["boot_reader"], boot)
		}

		got, err := m.Apply(ctx, c, planned)
		if err != nil || got.Failed || !strings.Contains(strings.Join(got.Warnings, "\n"), reason) ||
			!reflect.DeepEqual(got.Data["reverts_at_boot"], []string{keepalive}) {
			t.Fatalf("Apply: %v %+v", err, got)
		}
		again, err := m.Check(ctx, c)
		if err != nil || again.Action.Changes() || again.Failed != strict {
			t.Fatalf("strict=%v recheck: %v %+v", strict, err, again)
		}
		if strict && !strings.Contains(again.Msg, "persist: strict: the values do not persist: "+root+"/etc/sysctl.d/"+reason) {
			t.Errorf("recheck message %q", again.Msg)
		}
	}
}
