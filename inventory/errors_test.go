package inventory

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tend/internal/diag"
)

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		yaml      string
		line, col int
		field     string
		msg       string
	}{
		{"malformed YAML", "all:\n  hosts:\n    web1: {a: 1\n    web2:\n", 3, 11, "", "malformed YAML: did not find expected ',' or '}' in the flow mapping opened here"},
		{"bad indentation", "all:\n  hosts:\n    web1:\n   web2:\n", 4, 4, "", "malformed YAML: did not find expected key"},
		{"tab indentation", "all:\n\thosts:\n", 2, 1, "", "malformed YAML: found character that cannot start any token (a tab: indent with spaces)"},
		{"empty file", "# nothing\n", 0, 0, "", "empty inventory"},
		{"two documents", "all:\n---\nall:\n", 2, 1, "", "more than one YAML document"},
		{"top level list", "- all\n", 1, 1, "", "must be a mapping of groups"},
		{"plugin config", "plugin: aws_ec2\n", 1, 1, "plugin", "inventory plugins are not supported"},

		{"duplicate host", "all:\n  hosts:\n    web1:\n    web2:\n    web1:\n", 5, 5, "all.hosts.web1", `duplicate key "web1" (first defined at line 3:5)`},
		{"duplicate group key", "all:\n  vars: {}\n  hosts: {}\n  vars: {}\n", 4, 3, "all.vars", "first defined at line 2:3"},
		{"duplicate var deep", "all:\n  vars:\n    m:\n      k: 1\n      k: 2\n", 5, 7, "all.vars.m.k", "first defined at line 4:7"},
		{"duplicate top-level group", "web: {}\nweb: {}\n", 2, 1, "web", "duplicate key"},

		{"unknown key hots", "all:\n  hots:\n    web1:\n", 2, 3, "all.hots", `unknown key "hots" in group "all": only hosts, children and vars are allowed (did you mean "hosts"?)`},
		{"unknown key chidlren", "all:\n  children:\n    web:\n      chidlren: {}\n", 4, 7, "all.children.web.chidlren", `(did you mean "children"?)`},
		{"unknown key Vars", "all:\n  Vars: {}\n", 2, 3, "all.Vars", `(did you mean "vars"?)`},
		{"unknown key no suggestion", "all:\n  ansible_user: x\n", 2, 3, "all.ansible_user", "are allowed"},

		{"self cycle", "all:\n  children:\n    a:\n      children:\n        a:\n", 5, 9, "all.children.a.children.a", `group "a" would be its own ancestor: a → a`},
		{"cycle", "all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n", 7, 13, "all.children.a.children.b.children.a", "a → b → a"},
		{"cycle across top-level groups", "a:\n  children:\n    b:\nb:\n  children:\n    c:\nc:\n  children:\n    a:\n", 9, 5, "c.children.a", "a → b → c → a"},
		{"all as a child", "web:\n  children:\n    all:\n", 3, 5, "web.children.all", `group "all" cannot be a child`},

		{"hosts as a list", "all:\n  hosts:\n    - web1\n    - web2\n", 3, 5, "all.hosts", "hosts must be a mapping (name: or name: {...}), not a list"},
		{"children as a list", "all:\n  children: [web]\n", 2, 13, "all.children", "children must be a mapping"},
		{"vars as a list", "all:\n  vars:\n    - a\n", 3, 5, "all.vars", "vars must be a mapping, not a list"},
		{"vars as a string", "all:\n  vars: x\n", 2, 9, "all.vars", "vars must be a mapping, not a scalar"},
		{"group as a scalar", "all: 5\n", 1, 6, "all", `group "all" must be a mapping of hosts, children and vars, not a scalar`},
		{"host vars as a scalar", "all:\n  hosts:\n    web1: 5\n", 3, 11, "all.hosts.web1", `host "web1" must map to its variables or to nothing`},
		{"mapping key", "all:\n  hosts:\n    ? [a]\n    : 1\n", 3, 7, "all.hosts", "a mapping key must be a plain string, not a list"},
		{"bad group name", "all:\n  children:\n    \"web servers\":\n", 3, 5, `all.children."web servers"`, `group name "web servers" may hold only`},

		{"vault", "all:\n  vars:\n    secret: !vault |\n      $ANSIBLE_VAULT;1.1;AES256\n      6162\n", 3, 13, "all.vars.secret", "inline vault-encrypted values (!vault) are not supported"},
		{"unsafe", "all:\n  hosts:\n    h:\n      cmd: !unsafe '{{ x }}'\n", 4, 12, "all.hosts.h.cmd", "!unsafe values are not supported"},
		{"unsafe in a list", "all:\n  vars:\n    l: [a, !unsafe b]\n", 3, 12, "all.vars.l[1]", "!unsafe values are not supported"},
		{"other tag", "all:\n  vars:\n    x: !!binary aGk=\n", 3, 8, "all.vars.x", "YAML tag !!binary is not supported"},
		{"ambiguous !!int", "all:\n  vars:\n    mode: !!int 0755\n", 3, 11, "all.vars.mode", `"0755" is not an unambiguous !!int`},
		{"ambiguous !!bool", "all:\n  vars:\n    flag: !!bool yes\n", 3, 11, "all.vars.flag", "not an unambiguous !!bool"},
		{"bad merge", "all:\n  vars:\n    <<: 5\n", 3, 9, "all.vars.<<", "merge key (<<) needs a mapping"},

		{"var name", "all:\n  hosts:\n    h:\n      ansible-port: 22\n", 4, 7, "all.hosts.h.ansible-port", `variable name "ansible-port" is not an identifier (letters, digits and "_") (did you mean "ansible_port"?)`},
		{"port zero", "all:\n  hosts:\n    h:\n      ansible_port: 0\n", 4, 21, "all.hosts.h.ansible_port", "port 0 must be a number from 1 to 65535"},
		{"port too big", "all:\n  vars:\n    ansible_port: 65536\n", 3, 19, "all.vars.ansible_port", "port 65536 must be"},
		{"port octal-looking", "all:\n  vars:\n    ansible_ssh_port: 022\n", 3, 23, "all.vars.ansible_ssh_port", "leading zero reads as octal"},
		{"port a word", "all:\n  vars:\n    ansible_port: ssh\n", 3, 19, "all.vars.ansible_port", `port "ssh" must be`},
		{"port in key", "all:\n  hosts:\n    h:99999:\n", 3, 5, "all.hosts.h:99999", `host "h:99999": port 99999 must be`},
		{"connection", "all:\n  children:\n    g:\n      vars:\n        ansible_connection: ssh -J b\n", 5, 29, "all.children.g.vars.ansible_connection", `ansible_connection "ssh -J b" must be a connection name (letters, digits, "_", "-" and ".")`},
		{"user not a string", "all:\n  vars:\n    ansible_user: 1000\n", 3, 19, "all.vars.ansible_user", "ansible_user must be a string, not a number"},
		{"templated host", "all:\n  hosts:\n    h:\n      ansible_host: \"{{ inventory_hostname }}.lan\"\n", 4, 21, "all.hosts.h.ansible_host", "is a template"},
		{"key file", "all:\n  vars:\n    ansible_ssh_private_key_file: \"/k\\n\"\n", 3, 35, "all.vars.ansible_ssh_private_key_file", "without control characters"},
		{"priority", "all:\n  children:\n    g:\n      vars: {ansible_group_priority: high}\n", 4, 38, "all.children.g.vars.ansible_group_priority", "must be an integer"},
		{"bad host range", "all:\n  hosts:\n    web[01:1].example.com:\n", 3, 5, "all.hosts.\"web[01:1].example.com\"", "equal-length begin and end"},
		{"empty host range", "all:\n  hosts:\n    web[5:1]:\n", 3, 5, "all.hosts.web[5:1]", "is empty (begin > end)"},
		{"bad IPv6", "all:\n  hosts:\n    a:b:c:\n", 3, 5, "all.hosts.a:b:c", "neither a host name nor an IPv6 address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := write(t, "hosts.yml", tc.yaml)
			_, err := Load(path)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Load() error = %v, want *Error", err)
			}
			if e.File != path || e.Line != tc.line || e.Col != tc.col || e.Field != tc.field {
				t.Errorf("at %s:%d:%d field %q, want %d:%d field %q (%v)", e.File, e.Line, e.Col, e.Field, tc.line, tc.col, tc.field, err)
			}
			if !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("message %q does not contain %q", e.Msg, tc.msg)
			}
		})
	}
}

// TestUnsafeNames covers faults row 22: anything that could become an ssh
// option or shell syntax is refused when the inventory is read.
func TestUnsafeNames(t *testing.T) {
	bad := []string{
		"-oProxyCommand=touch /tmp/pwned", "-p2222", "h;id", "h|id", "h&id", "h$(id)", "h${x}",
		"h`id`", "h'x", `h"x`, "h<x", "h>x", "h(x)", "h x", "h\tx", "h\nx", "h\x00x", "h\rx",
		"h\\x", "h,x", "h*", "h?", "!h", "h~", "h{x}", "h\u00a0x", "",
	}
	for _, name := range bad {
		q := quoteYAML(name)
		for field, doc := range map[string]string{
			"host name":    "all:\n  hosts:\n    " + q + ":\n",
			"ansible_host": "all:\n  hosts:\n    h:\n      ansible_host: " + q + "\n",
			"ansible_user": "all:\n  vars:\n    ansible_user: " + q + "\n",
		} {
			_, err := Load(write(t, "inv.yml", doc))
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("%s %q: error = %v, want *Error", field, name, err)
				continue
			}
			if name != "" && !strings.Contains(e.Msg, field) {
				t.Errorf("%s %q: message %q does not name the field", field, name, e.Msg)
			}
		}
	}
	// Ordinary names stay accepted.
	inv := mustLoad(t, "all:\n  hosts:\n    web-1.example.com:\n      ansible_host: 2001:db8::5\n      ansible_user: deploy.bot@corp\n    10.1.2.3:\n    \"fe80::1%eth0\":\n")
	if got := len(inv.Hosts()); got != 3 {
		t.Errorf("ordinary names: %d hosts, want 3", got)
	}
}

// quoteYAML double-quotes s with YAML escapes for control characters.
func quoteYAML(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString("\\x")
			b.WriteString(strings.ToUpper(string("0123456789abcdef"[r>>4])) + string("0123456789ABCDEF"[r&15]))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func TestErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{Pos: diag.Pos{File: "hosts.yml", Line: 12, Col: 3}, Field: "all.hosts.h", Msg: "bad"}, "hosts.yml:12:3: all.hosts.h: bad"},
		{Error{Pos: diag.Pos{File: "hosts.yml", Line: 4}, Msg: "malformed YAML: x"}, "hosts.yml:4: malformed YAML: x"},
		{Error{Pos: diag.Pos{File: "hosts.yml"}, Msg: "empty inventory"}, "hosts.yml: empty inventory"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	_, err := Load("testdata/does-not-exist.yml")
	if want := "testdata/does-not-exist.yml: cannot read the inventory: no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("missing file: %v, want %q", err, want)
	}
}

// TestLoadReportsAllErrors: the parse goes on after a bad host, group or
// variable, so every problem of the sources is reported at once, as a
// diag.List sorted by position (YAML, INI, and across sources).
func TestLoadReportsAllErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sources map[string]string // file name → content, loaded in name order
		want    []string          // each error, "LINE:COL: FIELD: message" after the file name
	}{
		{"yaml", map[string]string{"a.yml": `all:
  hosts:
    web1:
      ansible_port: 0
    web2:
      ansible-user: x
  children:
    db:
      hots: {}
    app:
      hosts:
        app1: {ansible_host: "a;b"}
`}, []string{
			`a.yml:4:21: all.hosts.web1.ansible_port: port 0 must be a number from 1 to 65535`,
			`a.yml:6:7: all.hosts.web2.ansible-user: variable name "ansible-user" is not an identifier`,
			`a.yml:9:7: all.children.db.hots: unknown key "hots" in group "db"`,
			`a.yml:12:30: all.children.app.hosts.app1.ansible_host: ansible_host "a;b" contains ';'`,
		}},
		{"ini", map[string]string{"a.ini.inv": `web1 ansible_port=0
[web
web2 a=1 a=2
[db:vars]
x=1
`}, []string{
			`a.ini.inv:1:19: ansible_port: port 0 must be a number from 1 to 65535`,
			`a.ini.inv:2:1: `,
			`a.ini.inv:3:10: a: variable "a" is set twice on this line`,
			`a.ini.inv:4:1: section [db:vars] is for a group that is never defined`,
		}},
		{"two sources", map[string]string{"1.yml": "all:\n  hosts:\n    h1: {ansible_port: 70000}\n", "2.yml": "all:\n  vars: [x]\n"}, []string{
			`1.yml:3:24: all.hosts.h1.ansible_port: port 70000`,
			`2.yml:2:9: all.vars: vars must be a mapping, not a list`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var paths []string
			for _, name := range slices.Sorted(maps.Keys(tc.sources)) {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(tc.sources[name]), 0o600); err != nil {
					t.Fatal(err)
				}
				paths = append(paths, p)
			}
			_, err := Load(paths...)
			var list diag.List
			if !errors.As(err, &list) {
				t.Fatalf("Load() error = %v, want a diag.List", err)
			}
			if len(list) != len(tc.want) {
				t.Fatalf("%d errors, want %d:\n%v", len(list), len(tc.want), err)
			}
			for i, e := range list {
				if got := strings.TrimPrefix(e.Error(), dir+"/"); !strings.HasPrefix(got, tc.want[i]) {
					t.Errorf("error %d = %q, want it to start with %q", i, got, tc.want[i])
				}
			}
		})
	}
}
