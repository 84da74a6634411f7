package modules

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestRPMArgErrors: dnf's and yum's bad arguments are refused, positioned.
func TestRPMArgErrors(t *testing.T) {
	for src, want := range map[string]string{
		"name: x\nstate: gone":       "play.yml:2:8: dnf: state must be present, installed, latest, absent or removed",
		"name: '@web'":               "play.yml:1:7: dnf: not a package name",
		"name: /tmp/x.rpm":           "play.yml:1:7: dnf: not a package name",
		"name: x\nenablerepo: 'a b'": "play.yml:2:13: dnf: not a repository id",
		"state: present":             "play.yml:1:1: dnf: one of the following is required: name, update_cache",
		"name: x\nbugfix: true":      "play.yml:2:1: ",
		"name: x\npkg: y":            "play.yml:2:6: dnf: name and pkg are the same argument",
	} {
		_, err := newRPM(Args{Node: argsNode(t, src), File: "play.yml"}, "dnf")
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: got %v, want prefix %q", src, err, want)
		}
	}
}

// fakeRPMHost puts fake rpm and dnf programs first in PATH: rpm knows
// bash 5.1 installed; dnf offers nginx and a bash update, and logs its
// arguments.
func fakeRPMHost(t *testing.T) (env []string, log string) {
	dir := t.TempDir()
	log = filepath.Join(dir, "log")
	mustWrite(t, filepath.Join(dir, "rpm"), `#!/bin/sh
eval "n=\${$#}"
case $n in
bash) printf 'bash\t(none):5.1-2.el9\tx86_64\n' ;;
tzdata) printf 'tzdata\t1:2024a-1.el9\tnoarch\n' ;;
*) echo "package $n is not installed"; exit 1 ;;
esac
`, 0o755)
	mustWrite(t, filepath.Join(dir, "dnf"), `#!/bin/sh
echo "$*" >> `+log+`
case "$*" in
*"list available"*) printf 'Available Packages\nnginx.x86_64     1:1.20.1-14.el9   appstream\n' ;;
*check-update*) printf '\nbash.x86_64     5.2-1.el9    baseos\n'; exit 100 ;;
esac
`, 0o755)
	return append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH")), log
}

// TestRPMQueryPlan runs the real query script against fake rpm and dnf
// programs and checks the plan and the commands Apply would run.
func TestRPMQueryPlan(t *testing.T) {
	env, log := fakeRPMHost(t)
	for _, tc := range []struct {
		src, summary, fail string
		cmds               []string
	}{
		{"name: bash", "bash 5.1-2.el9", "", nil},
		{"name: [bash, nginx]\nstate: installed\ndisablerepo: '*'\nenablerepo: [appstream]\ndisable_gpg_check: true",
			"would install nginx (available 1:1.20.1-14.el9); already as asked: bash 5.1-2.el9", "",
			[]string{"env LC_ALL=C dnf -y --disablerepo=* --enablerepo=appstream --nogpgcheck install -- nginx"}},
		{"name: bash,nginx\nstate: latest\nupdate_cache: true", "would refresh the dnf metadata; would upgrade bash 5.1-2.el9 -> 5.2-1.el9; would install nginx (available 1:1.20.1-14.el9)", "",
			[]string{"env LC_ALL=C dnf -y --refresh install -- nginx", "env LC_ALL=C dnf -y upgrade -- bash"}},
		{"name: [bash, tzdata, nope]\nstate: removed", "would remove bash 5.1-2.el9; would remove tzdata 1:2024a-1.el9; already as asked: nope absent", "",
			[]string{"env LC_ALL=C dnf -y remove -- bash tzdata"}},
		{"name: nope", "", "Failed to install some of the specified packages", nil},
		{"update_cache: true", "would refresh the dnf metadata", "", []string{"env LC_ALL=C dnf -y makecache"}},
	} {
		m, err := newRPM(Args{Node: argsNode(t, tc.src), File: "play.yml"}, "dnf")
		if err != nil {
			t.Fatal(err)
		}
		rm := m.(*rpmModule)
		cmd := rm.queryCommand()
		c := exec.Command(cmd.Argv[0], cmd.Argv[1:]...)
		c.Env = env
		out, err := c.Output()
		if err != nil {
			t.Fatalf("%q: query: %v", tc.src, err)
		}
		p := rm.plan(parseRPMQuery(string(out)))
		ch := rm.change(p)
		if ch.Msg != tc.fail || (tc.fail == "" && ch.Summary != tc.summary) {
			t.Errorf("%q:\n got %q %q\nwant %q %q\n(query said %q)", tc.src, ch.Summary, ch.Msg, tc.summary, tc.fail, out)
		}
		var cmds []string
		for _, a := range rm.commands(p) {
			cmds = append(cmds, strings.Join(a, " "))
		}
		if tc.fail == "" && !reflect.DeepEqual(cmds, tc.cmds) {
			t.Errorf("%q: commands\n got %q\nwant %q", tc.src, cmds, tc.cmds)
		}
	}
	b, _ := os.ReadFile(log)
	if !strings.Contains(string(b), "-q list available --disablerepo=* --enablerepo=appstream --nogpgcheck bash nginx") {
		t.Errorf("dnf was asked:\n%s", b)
	}
	y, _ := newRPM(Args{Node: argsNode(t, "name: nope"), File: "play.yml"}, "yum")
	if c := y.(*rpmModule).change(y.(*rpmModule).plan(parseRPMQuery(""))); c.Msg != "No package matching 'nope' found available, installed or updated" {
		t.Errorf("yum: %q", c.Msg)
	}
	y, _ = newRPM(Args{Node: argsNode(t, "name: x\nupdate_cache: true"), File: "play.yml"}, "yum")
	if got := y.(*rpmModule).commands(&rpmPlan{install: []string{"x"}}); len(got) != 2 || strings.Join(got[0], " ") != "env LC_ALL=C yum -y makecache" {
		t.Errorf("yum update_cache: %q", got)
	}
}
