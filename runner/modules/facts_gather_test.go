package modules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// factsLine returns the line of FactsScript that starts with prefix.
func factsLine(t *testing.T, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(FactsScript, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("FactsScript has no line starting with %q", prefix)
	return ""
}

// sh runs script with /bin/sh and returns its stdout.
func sh(t *testing.T, script string) string {
	t.Helper()
	out, err := exec.Command("/bin/sh", "-c", script).Output()
	if err != nil {
		t.Fatalf("sh -c %q: %v", script, err)
	}
	return string(out)
}

// TestFactsReadBuiltin holds FactsScript's r (a file read with the shell's
// own read) to cat's output, on the contents that trip shell reads up.
func TestFactsReadBuiltin(t *testing.T) {
	r := factsLine(t, "r() ")
	dir := t.TempDir()
	for _, tc := range []struct{ name, content string }{
		{"lines", "ID=debian\nVERSION_ID=\"12\"\n"},
		{"no final newline", "12.8"},
		{"empty", ""},
		{"blank lines and spaces", "\n  leading\ttab \n\ntrailing  \n"},
		{"backslashes", `a\nb \\ c\` + "\n"},
		{"glob characters", "* ? [a] $HOME `x`\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if err := os.WriteFile(f, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got := sh(t, r+"\nr '"+f+"'")
			want := sh(t, "cat '"+f+"'")
			if want != "" && !strings.HasSuffix(want, "\n") {
				want += "\n" // a section's trailing newlines are trimmed when parsed
			}
			if got != want {
				t.Errorf("r printed %q, cat %q", got, want)
			}
		})
	}
	if out, err := exec.Command("/bin/sh", "-c", r+"\nr /nonexistent/tend-facts && echo ok").CombinedOutput(); err == nil || len(out) != 0 {
		t.Errorf("r of a missing file: %q, %v; want a failure and no output (the fallback runs)", out, err)
	}
}

// TestFactsContainerMatch holds FactsScript's read loop over /proc/1/cgroup
// to the `grep -oE 'docker|lxc' | head -n 1` it replaced.
func TestFactsContainerMatch(t *testing.T) {
	line := factsLine(t, "s dockerenv;")
	loop := line[strings.Index(line, "while "):]
	dir := t.TempDir()
	for _, tc := range []struct{ name, content, want string }{
		{"docker", "12:pids:/docker/0123abcd\n0::/docker/0123abcd\n", "docker\n"},
		{"lxc", "0::/lxc/web\n", "lxc\n"},
		{"lxc before docker on one line", "0::/lxc/docker-in-lxc\n", "lxc\n"},
		{"docker before lxc on one line", "0::/docker/lxc-in-docker\n", "docker\n"},
		{"first matching line wins", "1:name=systemd:/\n2:cpu:/lxc/a\n3:cpu:/docker/b\n", "lxc\n"},
		{"none", "0::/init.scope\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(dir, "cgroup")
			if err := os.WriteFile(f, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got := sh(t, strings.ReplaceAll(loop, "/proc/1/cgroup", f))
			ref := sh(t, "grep -oE 'docker|lxc' '"+f+"' | head -n 1")
			if got != tc.want || ref != tc.want {
				t.Errorf("loop printed %q, grep %q, want %q", got, ref, tc.want)
			}
		})
	}
}

// TestFactsVirtDetect runs FactsScript's container and virtualization lines
// with a systemd-detect-virt stand-in that logs its calls: it runs once,
// and only when no container marker was found; virtFacts reads the result
// as Ansible names it (recorded outputs of the earlier script, with
// virt_container and virt_vm, too).
func TestFactsVirtDetect(t *testing.T) {
	lines := factsLine(t, "s dockerenv;") + "\n" + factsLine(t, "s virt;")
	for _, tc := range []struct {
		name            string
		dockerenv       bool
		cgroup, detect  string
		wantCalls       int
		wantType, wantR string
	}{
		{"dockerenv file", true, "0::/\n", "kvm", 0, "docker", "guest"},
		{"lxc cgroup", false, "0::/lxc/c1\n", "kvm", 0, "lxc", "guest"},
		{"vm", false, "0::/init.scope\n", "kvm", 1, "kvm", "guest"},
		{"virtualbox", false, "0::/init.scope\n", "oracle", 1, "virtualbox", "guest"},
		{"bare metal", false, "0::/init.scope\n", "none", 1, "NA", "NA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			must := func(name, content string, mode os.FileMode) string {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(content), mode); err != nil {
					t.Fatal(err)
				}
				return p
			}
			cg := must("cgroup", tc.cgroup, 0o644)
			env := filepath.Join(dir, "dockerenv")
			if tc.dockerenv {
				must("dockerenv", "", 0o644)
			}
			calls := filepath.Join(dir, "calls")
			must("systemd-detect-virt", "#!/bin/sh\necho \"$*\" >> '"+calls+"'\necho "+tc.detect+"\n[ "+tc.detect+" != none ]\n", 0o755)
			script := strings.NewReplacer("/proc/1/cgroup", cg, "/.dockerenv", env).Replace(lines)
			out := sh(t, "PATH='"+dir+"':$PATH; s() { printf '\\n@@tend:%s\\n' \"$1\"; }\n"+script+"\ntrue")
			logged, _ := os.ReadFile(calls)
			if n := strings.Count(string(logged), "\n"); n != tc.wantCalls || string(logged) != strings.Repeat("\n", n) {
				t.Errorf("systemd-detect-virt called %d times with %q, want %d times without arguments", n, logged, tc.wantCalls)
			}
			f := map[string]any{}
			virtFacts(f, splitSections(out))
			if f["virtualization_type"] != tc.wantType || f["virtualization_role"] != tc.wantR {
				t.Errorf("virtualization %v/%v, want %s/%s (output %q)", f["virtualization_type"], f["virtualization_role"], tc.wantType, tc.wantR, out)
			}
		})
	}
	f := map[string]any{}
	virtFacts(f, map[string]string{"virt_container": "none", "virt_vm": "kvm"})
	if f["virtualization_type"] != "kvm" {
		t.Errorf("earlier script's sections: %v, want kvm", f["virtualization_type"])
	}
}

// TestFactsUserFromOneID: the user section (name, uid, gid, one a line, as
// id -un, id -u and id -g print them) comes from one id's output; a user
// without a name gives no name line's value, and no id no section body.
func TestFactsUserFromOneID(t *testing.T) {
	line := factsLine(t, "s user;")
	for _, tc := range []struct{ name, id, want string }{
		{"root", "uid=0(root) gid=0(root) groups=0(root)", "root\n0\n0\n"},
		{"deploy", "uid=1000(deploy) gid=1001(staff) groups=1001(staff),27(sudo)", "deploy\n1000\n1001\n"},
		{"no name", "uid=4242 gid=4343 groups=4343", "\n4242\n4343\n"},
		{"no group name", "uid=7(lp) gid=999 groups=999", "lp\n7\n999\n"},
		{"id fails", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			fake := "#!/bin/sh\nexit 1\n"
			if tc.id != "" {
				fake = "#!/bin/sh\n[ $# = 0 ] || exit 2\necho '" + tc.id + "'\n"
			}
			if err := os.WriteFile(filepath.Join(dir, "id"), []byte(fake), 0o755); err != nil {
				t.Fatal(err)
			}
			out := sh(t, "PATH='"+dir+"':$PATH; s() { :; }\n"+line+"\ntrue")
			if out != tc.want {
				t.Errorf("user section %q, want %q", out, tc.want)
			}
		})
	}
}
