package modules

import (
	"reflect"
	"strings"
	"testing"
)

// TestPipArgErrors: bad arguments are refused before any host, positioned
// at the field (Ansible fails these tasks on the host; tend before any).
func TestPipArgErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"unknown key", "name: foo\nbogus: 1", "play.yml:2:1: bogus: unknown key"},
		{"bad state", "name: foo\nstate: installed", `play.yml:2:8: pip: state must be one of absent, forcereinstall, latest, present, not "installed"`},
		{"no name", "state: present", "play.yml:1:1: pip: one of the following is required: name, requirements"},
		{"name and requirements", "name: foo\nrequirements: r.txt", "play.yml:2:15: pip: parameters are mutually exclusive: name|requirements"},
		{"executable and virtualenv", "name: foo\nvirtualenv: /v\nexecutable: pip3", "play.yml:3:13: pip: parameters are mutually exclusive: executable|virtualenv"},
		{"version with latest", "name: foo\nversion: '1.0'\nstate: latest", "play.yml:2:10: pip: version is incompatible with state=latest"},
		{"version with two names", "name: [foo, bar]\nversion: '1.0'", "play.yml:2:10: pip: 'version' argument is ambiguous"},
		{"version with a specifier", "name: foo>=1\nversion: '1.0'", "play.yml:2:10: pip: The 'version' argument conflicts"},
		{"bad umask", "name: foo\numask: u=rwx", `play.yml:2:8: pip: umask must be an octal integer, not "u=rwx"`},
		{"umask 9", "name: foo\numask: '0029'", `play.yml:2:8: pip: umask must be an octal integer`},
		{"venv python with venv", "name: foo\nvirtualenv: /v\nvirtualenv_command: python3 -m venv\nvirtualenv_python: python3.11", "play.yml:4:20: pip: virtualenv_python should not be used"},
		{"relative venv", "name: foo\nvirtualenv: venv", `play.yml:2:13: pip: virtualenv must be an absolute path`},
		{"relative chdir", "name: foo\nchdir: src", `play.yml:2:8: pip: chdir must be an absolute path`},
		{"unsplittable extra_args", "name: foo\nextra_args: \"--index-url 'x\"", "play.yml:2:13: pip: extra_args cannot be split"},
		{"editable not a bool", "name: foo\neditable: maybe", "play.yml:2:11: "},
	} {
		_, err := newPip(Args{Node: argsNode(t, tc.src), File: "play.yml"})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want prefix %q", tc.name, err, tc.want)
		}
	}
}

// TestPipArgs: what a valid task runs: pip's words, the virtualenv, and
// whether a dry run can tell from pip list.
func TestPipArgs(t *testing.T) {
	for _, tc := range []struct {
		name, src  string
		argv       []string
		env        string
		decides    bool
		verifiable bool
	}{
		{"one name", "name: toypkg\nvirtualenv: /v", []string{"install", "toypkg"}, "/v", false, true},
		{"comma list recovered", "name: 'a>1,<2,b'", []string{"install", "a>1,<2", "b"}, "", false, true},
		{"version pins", "name: toypkg\nversion: '1.0'", []string{"install", "toypkg==1.0"}, "", false, true},
		{"version as a YAML number", "name: toypkg\nversion: 1.10", []string{"install", "toypkg==1.10"}, "", false, true},
		{"version with operator", "name: toypkg\nversion: '>=1.0'", []string{"install", "toypkg >=1.0"}, "", false, true},
		{"absent", "name: [a, b]\nstate: absent", []string{"uninstall", "-y", "a", "b"}, "", false, true},
		{"latest", "name: a\nstate: latest", []string{"install", "-U", "a"}, "", true, false},
		{"forcereinstall", "name: a\nstate: forcereinstall", []string{"install", "-U", "--force-reinstall", "a"}, "", false, false},
		{"extra args split like a shell", "name: a\nextra_args: \"--no-index --find-links '/w x'\"", []string{"install", "--no-index", "--find-links", "/w x", "a"}, "", true, false},
		{"editable adds -e", "name: /src/app\neditable: true", []string{"install", "-e", "/src/app"}, "", true, false},
		{"editable keeps one -e", "name: /src/app\neditable: true\nextra_args: -e", []string{"install", "-e", "/src/app"}, "", true, false},
		{"requirements", "requirements: req.txt\nchdir: /srv", []string{"install", "-r", "req.txt"}, "", true, false},
		{"venv relative to chdir", "name: a\nvirtualenv: venv\nchdir: /srv", []string{"install", "a"}, "/srv/venv", false, true},
		{"venv under home", "name: a\nvirtualenv: ~/venv", []string{"install", "a"}, "~/venv", false, true},
		{"vcs name", "name: git+https://h/r.git#egg=r", []string{"install", "git+https://h/r.git#egg=r"}, "", false, false},
		{"templated", "name: '{{ pkgs }}'\nversion: '{{ v }}'", []string{"install", "{{ pkgs }}"}, "", false, false},
	} {
		mod, err := newPip(Args{Node: argsNode(t, tc.src), File: "play.yml"})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		m := mod.(*pipModule)
		if got := m.pipArgv(); !reflect.DeepEqual(got, tc.argv) {
			t.Errorf("%s: argv %q, want %q", tc.name, got, tc.argv)
		}
		if m.env != tc.env || m.pipDecides() != tc.decides || m.Verifiable() != tc.verifiable {
			t.Errorf("%s: env %q decides %v verifiable %v", tc.name, m.env, m.pipDecides(), m.Verifiable())
		}
	}
}

// TestPipRequirements: names as setuptools' Requirement reads them, and
// whether an installed version satisfies them (PEP 440, prereleases
// allowed, as Ansible's _is_present).
func TestPipRequirements(t *testing.T) {
	for _, tc := range []struct {
		req, installed string
		name           string
		want           bool
	}{
		{"toypkg", "1.0", "toypkg", true},
		{"Toy_Pkg", "1.0", "toy-pkg", true},
		{"toypkg==1.0", "1.0", "toypkg", true},
		{"toypkg==1.0", "1.0.0", "toypkg", true},
		{"toypkg==1.0", "2.0", "toypkg", false},
		{"toypkg>=1.0", "2.0", "toypkg", true},
		{"toypkg>=1.0,<2.0", "2.0", "toypkg", false},
		{"toypkg >1.0, <2.0", "1.5", "toypkg", true},
		{"toypkg~=1.4", "1.9", "toypkg", true},
		{"toypkg~=1.4.2", "1.5.0", "toypkg", false},
		{"toypkg==1.*", "1.7.3", "toypkg", true},
		{"toypkg==1.*", "10.0", "toypkg", false},
		{"toypkg!=1.0", "1.0", "toypkg", false},
		{"toypkg<2.0", "2.0rc1", "toypkg", false},
		{"toypkg<2.0", "1.9", "toypkg", true},
		{"toypkg>1.0", "1.0.post1", "toypkg", false},
		{"toypkg>=1.0", "1.0rc1", "toypkg", false},
		{"toypkg>=1.0rc1", "1.0", "toypkg", true},
		{"toypkg>=1.0.dev0", "1.0a1", "toypkg", true},
		{"toypkg==1.0", "1.0+local", "toypkg", true},
		{"toypkg===1.0", "1.0", "toypkg", true},
		{"toypkg[extra]>=1", "1.1", "toypkg", true},
		{"toypkg; python_version > '3'", "1.1", "toypkg", true},
		{"toypkg @ file:///w/toypkg-1.0.whl", "1.0", "toypkg", true},
		{"/w/toypkg-1.0-py3-none-any.whl", "1.0", "", false},
		{"git+https://h/r.git", "1.0", "", false},
	} {
		r := parsePipReq(tc.req)
		if r.name != tc.name || r.satisfiedBy(tc.installed) != tc.want {
			t.Errorf("%q by %s: name %q satisfied %v, want %q %v", tc.req, tc.installed, r.name, r.satisfiedBy(tc.installed), tc.name, tc.want)
		}
	}
	if got := pipRecoverNames([]string{"django>1.11.1", "<1.11.3", "ipaddress", "simpleproject>1.1.0", "<2.0.0"}); !reflect.DeepEqual(got,
		[]string{"django>1.11.1,<1.11.3", "ipaddress", "simpleproject>1.1.0,<2.0.0"}) {
		t.Errorf("recover: %q", got)
	}
	if got := pipRecoverNames([]string{"a[x,y]>=1", "b"}); !reflect.DeepEqual(got, []string{"a[x,y]>=1", "b"}) {
		t.Errorf("recover with extras: %q", got)
	}
}
