package modules

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"tend/runner/plan"
	"tend/runner/transport"
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

// pipCannedConn answers the pip script with canned key/value pairs and
// keeps the argv it was given.
type pipCannedConn struct {
	kv   []string
	argv []string
}

func (c *pipCannedConn) Run(_ context.Context, cmd transport.Command) (transport.Result, error) {
	c.argv = cmd.Argv
	return transport.Result{Stdout: []byte(strings.Join(c.kv, "\x00") + "\x00")}, nil
}

func (c *pipCannedConn) Close() error { return nil }

// TestPipDecisions: what Check and Apply make of the script's answers
// (the host's part is covered by the lab test).
func TestPipDecisions(t *testing.T) {
	pip := []string{"env", "/v", "pip", "/v/bin/pip3"}
	list := func(out string) []string {
		return append(pip, "list_rc", "0", "list_out", out, "list_err", "", "list_cmd", "list --format=freeze")
	}
	for _, tc := range []struct {
		name, src string
		apply     bool
		kv        []string
		action    plan.Action
		failed    bool
		summary   string
	}{
		{"venv missing", "name: toypkg\nvirtualenv: /v", false, []string{"env", "/v", "venv", "missing"}, plan.Update, false, "would create the virtualenv /v (virtualenv), then install toypkg"},
		{"older installed", "name: toypkg>=2\nvirtualenv: /v", false, list("pip==23.0\ntoypkg==1.0\n"), plan.Update, false, "would install toypkg>=2 (now 1.0)"},
		{"missing", "name: [Toy_Pkg, pip]\nvirtualenv: /v", false, list("pip==23.0\n"), plan.Update, false, "would install Toy_Pkg; already as asked: pip 23.0"},
		{"absent already", "name: toypkg\nstate: absent\nvirtualenv: /v", false, list("pip==23.0\n"), plan.None, false, "toypkg absent"},
		{"absent, installed", "name: toypkg\nstate: absent\nvirtualenv: /v", false, list("toypkg==2.0\n"), plan.Update, false, "would uninstall toypkg 2.0"},
		{"extra_args: pip decides", "name: toypkg\nvirtualenv: /v\nextra_args: --no-index", false, pip, plan.Update, false, "would run pip to install toypkg (with extra_args, requirements or state latest only pip can tell whether anything changes)"},
		{"list fails", "name: toypkg", false, append(pip, "list_rc", "2", "list_out", "", "list_err", "boom"), plan.None, true, ""},
		{"no pip in venv", "name: toypkg\nvirtualenv: /v", false, []string{"fail", "Unable to find pip in the virtualenv"}, plan.None, true, ""},
		{"installed", "name: toypkg\nvirtualenv: /v", true, append(pip, "created", "1", "venv_rc", "0", "pip_rc", "0", "pip_out", "Successfully installed toypkg-2.0\n"), plan.Update, false, "created the virtualenv /v; Successfully installed toypkg-2.0"},
		{"already satisfied", "name: toypkg\nextra_args: -q", true, append(pip, "pip_rc", "0", "pip_out", "Requirement already satisfied: toypkg\n"), plan.None, false, "pip changed nothing"},
		{"venv created, nothing installed", "name: toypkg\nvirtualenv: /v", true, append(pip, "created", "1", "venv_rc", "0", "pip_rc", "0", "pip_out", ""), plan.Update, false, "created the virtualenv /v"},
		{"uninstall not installed", "name: toypkg\nstate: absent", true, append(pip, "pip_rc", "1", "pip_out", "", "pip_err", "toypkg is not installed"), plan.None, false, "pip changed nothing"},
		{"pip fails", "name: toypkg", true, append(pip, "pip_rc", "1", "pip_out", "x", "pip_err", "no such"), plan.None, true, ""},
		{"venv fails", "name: toypkg\nvirtualenv: /v", true, []string{"env", "/v", "venv_arg", "virtualenv", "venv_rc", "1", "venv_out", "", "venv_err", "bad"}, plan.None, true, ""},
		{"requirements: same freeze", "requirements: r.txt", true, append(pip, "before_rc", "0", "before_out", "a==1\n", "pip_rc", "0", "pip_out", "Successfully installed b-1\n", "after_out", "a==1\n"), plan.None, false, "Successfully installed b-1"},
		{"requirements: freeze changed", "requirements: r.txt", true, append(pip, "before_rc", "0", "before_out", "a==1\n", "pip_rc", "0", "pip_out", "", "after_out", "a==2\n"), plan.Update, false, "pip changed nothing"},
	} {
		mod, err := newPip(Args{Node: argsNode(t, tc.src), File: "play.yml"})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		conn := &pipCannedConn{kv: tc.kv}
		var c plan.Change
		if tc.apply {
			c, err = mod.Apply(context.Background(), conn, plan.Change{})
		} else {
			c, err = mod.Check(context.Background(), conn)
		}
		if err != nil || c.Action != tc.action || c.Failed != tc.failed || (tc.summary != "" && c.Summary != tc.summary) {
			t.Errorf("%s: %v %s failed=%v %q %q", tc.name, err, c.Action, c.Failed, c.Summary, c.Msg)
		}
	}
	// Every value is a positional parameter; pip's words are quoted text.
	mod, _ := newPip(Args{Node: argsNode(t, "name: \"it's\"\nvirtualenv: /v x\nextra_args: \"--find-links '/w $(x)'\""), File: "play.yml"})
	conn := &pipCannedConn{kv: list("")}
	mod.Check(context.Background(), conn)
	if got := conn.argv[4:]; got[0] != "probe" || got[3] != "/v x" || got[8] != `'install' '--find-links' '/w $(x)' 'it'\''s'` {
		t.Errorf("argv %q", got)
	}
}
