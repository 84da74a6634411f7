package modules

import (
	"reflect"
	"strings"
	"testing"
)

// TestAptArgErrors: bad or unsupported arguments are refused before any
// host, positioned at the field.
func TestAptArgErrors(t *testing.T) {
	for src, want := range map[string]string{
		"name: foo\nstate: installed":        "play.yml:2:8: apt: state must be present, latest or absent, not \"installed\"",
		"name: foo\nstate: build-dep":        "play.yml:2:8: apt: state build-dep is not supported",
		"name: foo\nupgrade: dist":           "play.yml:2:1: apt: upgrade is not supported",
		"name: foo\nbogus: 1":                "play.yml:2:1: ",
		"name: Foo_bar":                      "play.yml:1:7: apt: not a Debian package name: \"Foo_bar\"",
		"name: [ok, '-o=x']":                 "play.yml:1:7: apt: not a Debian package name: \"-o\"",
		"name: 'foo=1=2'":                    "play.yml:1:7: apt: invalid package spec: foo=1=2",
		"name: 'apt*'":                       "play.yml:1:7: apt: \"apt*\": name wildcards are not supported",
		"name: 'foo>=1'":                     "play.yml:1:7: apt: \"foo>=1\": version comparisons",
		"name: 'foo=1 x'":                    "play.yml:1:7: apt: not a Debian version",
		"name: foo\npkg: bar":                "play.yml:2:6: apt: name and pkg are the same argument",
		"deb: /tmp/x.deb\nname: foo":         "play.yml:1:6: apt: deb and name are mutually exclusive",
		"deb: x.deb":                         "play.yml:1:6: apt: deb must be an absolute path",
		"deb: https://h/x.deb":               "play.yml:1:6: apt: tend's apt installs a .deb already on the host",
		"deb: /x.deb\nstate: absent":         "play.yml:2:8: apt: deb only supports state=present",
		"state: present":                     "play.yml:1:1: apt: one of the following is required",
		"name: foo\nlock_timeout: -1":        "play.yml:2:15: apt: lock_timeout must be 0 or more",
		"name: foo\ndpkg_options: 'a;b'":     "play.yml:2:15: apt: not a dpkg option: \"a;b\"",
		"name: foo\nforce: maybe":            "play.yml:2:8: ",
		"name: foo\nallow-downgrades: maybe": "play.yml:2:19: apt: allow-downgrades must be true or false",
	} {
		_, err := newApt(Args{Node: argsNode(t, src), File: "play.yml"})
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: got %v, want prefix %q", src, err, want)
		}
	}
	for _, ok := range []string{"name: foo", "pkg: [a, b]", "update_cache: true", "autoremove: true", "autoclean: true", "autoclean: '{{ clean }}'", "name: '{{ x }}'", "name: \"{{ p }}-{{ h | replace('.', '-') }}\"",
		"name: foo=1.2-3\nallow_downgrades: true", "deb: /tmp/a.deb,/tmp/b.deb", "name: libc6:amd64\nstate: latest"} {
		if _, err := newApt(Args{Node: argsNode(t, ok), File: "play.yml"}); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

// aptState is a query answer for tests.
const aptTestAnswer = "@@tend:dpkg\n" +
	"coreutils\tamd64\tii \t9.1-1\n" +
	"oldpkg\tamd64\tii \t1.0\n" +
	"gone\tamd64\trc \t2.0\n" +
	"multi\tamd64\tii \t1.0\n" +
	"multi\ti386\trc \t0.9\n" +
	"@@tend:policy\n" +
	"coreutils:\n  Installed: 9.1-1\n  Candidate: 9.1-1\n  Version table:\n *** 9.1-1 500\n" +
	"oldpkg:\n  Installed: 1.0\n  Candidate: 1.2\n" +
	"newpkg:\n  Installed: (none)\n  Candidate: 3.0-2\n" +
	"virt:\n  Installed: (none)\n  Candidate: (none)\n" +
	"@@tend:cache\n1000\n5000\n"

// TestAptPlan: what Check plans from a host's answer, by state.
func TestAptPlan(t *testing.T) {
	st, err := parseAptQuery(aptTestAnswer, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		src     string
		summary string
		fail    string
		args    []string
	}{
		{"name: coreutils", "coreutils 9.1-1", "", nil},
		{"name: [coreutils, newpkg]", "would install newpkg (candidate 3.0-2); already as asked: coreutils 9.1-1", "", []string{"newpkg=3.0-2"}},
		{"name: oldpkg", "oldpkg 1.0", "", nil},
		{"name: multi", "multi 1.0", "", nil},
		{"name: multi:i386\nstate: absent\npurge: true", "would purge multi:i386 (configuration files left)", "", []string{"multi:i386"}},
		{"name: oldpkg\nstate: latest", "would upgrade oldpkg 1.0 -> 1.2", "", []string{"oldpkg=1.2"}},
		{"name: oldpkg=1.2", "would install oldpkg 1.2 (now 1.0)", "", []string{"oldpkg=1.2"}},
		{"name: nothere", "", "No package matching 'nothere' is available", nil},
		{"name: virt", "", "no available installation candidate for virt", nil},
		{"name: [coreutils, nothere]\nstate: absent", "would remove coreutils 9.1-1; already as asked: nothere absent", "", []string{"coreutils"}},
		{"name: gone\nstate: absent", "gone absent", "", nil},
		{"name: gone\nstate: absent\npurge: true", "would purge gone (configuration files left)", "", []string{"gone"}},
		{"name: newpkg\nonly_upgrade: true", "newpkg not installed (only_upgrade)", "", nil},
		{"name: coreutils\nupdate_cache: true", "would update the apt cache (updated 4000s ago; update_cache without cache_valid_time always updates); already as asked: coreutils 9.1-1", "", nil},
		{"name: coreutils\ncache_valid_time: 3600", "would update the apt cache (updated 4000s ago, cache_valid_time 3600); already as asked: coreutils 9.1-1", "", nil},
		{"name: coreutils\ncache_valid_time: 5000", "coreutils 9.1-1", "", nil},
	} {
		m, err := newApt(Args{Node: argsNode(t, tc.src), File: "play.yml"})
		if err != nil {
			t.Fatal(err)
		}
		am := m.(*aptModule)
		p := am.plan(st)
		c := am.change(p)
		if c.Failed != (tc.fail != "") || c.Msg != tc.fail || (tc.fail == "" && c.Summary != tc.summary) {
			t.Errorf("%q: failed=%v msg=%q summary=%q; want fail %q summary %q", tc.src, c.Failed, c.Msg, c.Summary, tc.fail, tc.summary)
		}
		if c.Changed() != (len(tc.args) > 0 || p.cacheDue) {
			t.Errorf("%q: action %s", tc.src, c.Action)
		}
		var args []string
		for _, s := range p.steps {
			args = append(args, s.arg)
		}
		if !reflect.DeepEqual(args, tc.args) {
			t.Errorf("%q: apt-get args %q, want %q", tc.src, args, tc.args)
		}
	}
}

// TestAptCommand: the apt-get command line carries each option as its own
// argument, after DEBIAN_FRONTEND=noninteractive, and the packages after --.
func TestAptCommand(t *testing.T) {
	for _, tc := range []struct {
		src, verb string
		want      string
	}{
		{"name: x", "install", "env DEBIAN_FRONTEND=noninteractive DEBIAN_PRIORITY=critical LC_ALL=C LANG=C LC_MESSAGES=C apt-get -y -q -o DPkg::Lock::Timeout=60 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install -- x"},
		{"name: x\nlock_timeout: 5\ndpkg_options: force-confnew\nforce: true\nautoremove: true\ninstall_recommends: false\ndefault_release: bookworm-backports\nallow_downgrade: true\nallow_unauthenticated: true\nallow_change_held_packages: true\nfail_on_autoremove: true\nonly_upgrade: true",
			"install", "apt-get -y -q -o DPkg::Lock::Timeout=5 -o Dpkg::Options::=--force-confnew --force-yes --auto-remove --no-remove --only-upgrade -t bookworm-backports -o APT::Install-Recommends=no --allow-unauthenticated --allow-downgrades --allow-change-held-packages install -- x"},
		{"name: x\nstate: absent\npurge: true\nautoremove: true", "remove", "apt-get -y -q -o DPkg::Lock::Timeout=60 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold --purge --auto-remove remove -- x"},
		{"name: x\ndpkg_options: ''", "install", "apt-get -y -q -o DPkg::Lock::Timeout=60 install -- x"},
	} {
		m, err := newApt(Args{Node: argsNode(t, tc.src), File: "play.yml"})
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(m.(*aptModule).aptGet(tc.verb, []string{"x"}), " ")
		if !strings.HasSuffix(got, tc.want) || !strings.HasPrefix(got, "env DEBIAN_FRONTEND=noninteractive ") {
			t.Errorf("%q:\n got %s\nwant …%s", tc.src, got, tc.want)
		}
	}
}

// TestAptParseDeb: the deb script's answer, a readable file and one
// dpkg-deb refused.
func TestAptParseDeb(t *testing.T) {
	out := "@@tend:deb\nPackage: fx\nVersion: 1.0\nArchitecture: all\n@@tend:status\nfx\tall\tii \t0.9\n" +
		"@@tend:deb\n@@tend:error dpkg-deb: error: 'b.deb' is not a Debian format archive \n@@tend:cache\n0\n10\n"
	st, err := parseAptQuery(out, []string{"/a.deb", "/b.deb"})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.debs) != 2 || st.debs[0] != (aptDeb{path: "/a.deb", pkg: "fx", version: "1.0", arch: "all"}) ||
		!strings.Contains(st.debs[1].err, "not a Debian format archive") {
		t.Fatalf("debs %+v", st.debs)
	}
	m, _ := newApt(Args{Node: argsNode(t, "deb: /a.deb"), File: "play.yml"})
	p := m.(*aptModule).plan(&aptHostState{dpkg: st.dpkg, debs: st.debs[:1]})
	if len(p.steps) != 1 || p.steps[0].describe() != "install fx 1.0 (now 0.9)" {
		t.Errorf("steps %+v", p.steps)
	}
	if p := m.(*aptModule).plan(st); !strings.HasPrefix(p.fail, "Unable to install package: dpkg-deb: error") {
		t.Errorf("fail %q", p.fail)
	}
	if _, err := parseAptQuery("garbage", nil); err == nil {
		t.Errorf("garbage parsed")
	}
}
