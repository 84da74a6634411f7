package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"tend/internal/omap"
)

func TestPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		host  string
		want  map[string]any
	}{
		{
			name: "host over child over parent over all",
			files: []string{`
all:
  vars: {a: all, b: all, c: all, d: all}
  children:
    parent:
      vars: {b: parent, c: parent, d: parent}
      children:
        child:
          vars: {c: child, d: child}
          hosts:
            h: {d: host}
`},
			host: "h",
			want: map[string]any{"a": "all", "b": "parent", "c": "child", "d": "host"},
		},
		{
			name: "siblings at the same depth: later name wins",
			files: []string{`
all:
  children:
    zeta:
      vars: {v: zeta}
      hosts: {h: }
    alpha:
      vars: {v: alpha, only_alpha: 1}
      hosts: {h: }
`},
			host: "h",
			want: map[string]any{"v": "zeta", "only_alpha": 1},
		},
		{
			name: "ansible_group_priority beats name, and is not a variable",
			files: []string{`
all:
  children:
    zeta:
      vars: {v: zeta}
      hosts: {h: }
    alpha:
      vars: {v: alpha, ansible_group_priority: 5}
      hosts: {h: }
`},
			host: "h",
			want: map[string]any{"v": "alpha"},
		},
		{
			name: "depth beats name and priority",
			files: []string{`
all:
  children:
    zz_top:
      vars: {v: top, ansible_group_priority: 99}
      children:
        aa_deep:
          vars: {v: deep}
          hosts: {h: }
`},
			host: "h",
			want: map[string]any{"v": "deep"},
		},
		{
			name: "depth is the longest path from all",
			files: []string{`
all:
  children:
    b_shallow:
      vars: {v: shallow}
      hosts: {h: }
    outer:
      children:
        a_nested:
          vars: {v: nested}
          children:
            b_shallow:
`},
			host: "h",
			// b_shallow sits at depth 1 under all and depth 3 under
			// outer/a_nested: it takes 3 and so beats a_nested (2).
			want: map[string]any{"v": "shallow"},
		},
		{
			name: "the same host under two groups: host vars merge, later wins",
			files: []string{`
all:
  children:
    g1:
      hosts:
        h: {x: 1, y: 1}
    g2:
      hosts:
        h: {y: 2}
`},
			host: "h",
			want: map[string]any{"x": 1, "y": 2},
		},
		{
			name: "shallow merge of mappings (hash_behaviour=replace)",
			files: []string{`
all:
  vars:
    m: {a: 1, b: 2}
  hosts:
    h:
      m: {b: 3}
`},
			host: "h",
			want: map[string]any{"m": map[string]any{"b": 3}},
		},
		{
			name: "a later file wins at the same level, not across levels",
			files: []string{`
all:
  vars: {v: all1, w: all1}
  children:
    g:
      vars: {g: g1}
      hosts:
        h: {hv: file1}
`, `
all:
  vars: {v: all2}
  children:
    g:
      vars: {g: g2}
      hosts:
        h:
`, `
all:
  vars: {hv: all3}
`},
			host: "h",
			want: map[string]any{"v": "all2", "w": "all1", "g": "g2", "hv": "file1"},
		},
		{
			name: "ansible_group_priority set in a later file",
			files: []string{`
all:
  children:
    a: {vars: {v: a}, hosts: {h: }}
    b: {vars: {v: b}, hosts: {h: }}
`, `
all:
  children:
    a: {vars: {ansible_group_priority: 2}}
`},
			host: "h",
			want: map[string]any{"v": "a"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := mustLoad(t, tc.files...)
			h, ok := inv.Host(tc.host)
			if !ok {
				t.Fatalf("no host %q", tc.host)
			}
			if !reflect.DeepEqual(omap.Plain(h.Vars), tc.want) { // order: TestVarsKeepOrder
				t.Errorf("vars = %#v\nwant   %#v", h.Vars, tc.want)
			}
		})
	}
}

// TestPrecedenceINIVarDirs is the INI + group_vars/ + host_vars/
// precedence table, for host web3.example.com of testdata/ini (groups:
// all < eu < prod < web by depth). TestOracleInventory checks the same
// files against ansible-inventory.
func TestPrecedenceINIVarDirs(t *testing.T) {
	inv, err := Load("testdata/ini/hosts")
	if err != nil {
		t.Fatal(err)
	}
	web3, _ := inv.Host("web3.example.com")
	dba, _ := inv.Host("dba.example.com")
	for _, tc := range []struct {
		h          *Host
		name, want string
		why        string
	}{
		{web3, "p_all_inv", "all-inventory", "[all:vars] alone"},
		{web3, "p_prod_inv", "prod-inventory", "[prod:vars] alone"},
		{web3, "p_web_inv", "web-inventory", "[web:vars] > [prod:vars] > [all:vars]: the deeper group wins"},
		{dba, "p_web_inv", "prod-inventory", "db is not in web: prod's beats all's"},
		{web3, "p_gv_all", "group_vars-all", "group_vars/all.yml > [all:vars]"},
		{web3, "p_gv_all_vs_inv", "group_vars-all", "group_vars/all.yml > [web:vars]: every inventory group var loses to group_vars/all"},
		{web3, "p_gv_all_vs_child", "group_vars-web", "group_vars/web.yaml > group_vars/all.yml"},
		{web3, "p_gv_prod", "group_vars-prod", "group_vars/prod (no extension; prod.yml then ignored) > group_vars/all.yml"},
		{web3, "p_gv_web", "group_vars-web", "group_vars/web.yaml > group_vars/prod > [web:vars]"},
		{dba, "p_gv_web", "group_vars-prod", "db hosts get prod's group_vars only"},
		{dba, "p_dbdir", "second", "group_vars/db/ files merge in lexical order: 02-second.json > 01-first.yml; .txt and hidden files skipped"},
		{dba, "p_dbdir_first", "only-first", "an earlier file's other keys survive"},
		{web3, "p_host_inv", "web3-inventory", "host line var > group_vars/all.yml > [all:vars]"},
		{web3, "p_host_file", "host_vars", "host_vars/web3.example.com.yml alone"},
	} {
		if got := tc.h.Vars[tc.name]; got != tc.want {
			t.Errorf("%s %s = %v, want %q (%s)", tc.h.Name, tc.name, got, tc.want, tc.why)
		}
	}
	if web3.Vars["num"] != 6 {
		t.Errorf("num = %v, want 6: host_vars/ > host line var (num=5)", web3.Vars["num"])
	}
	if web3.Vars["ansible_group_priority"] != 7 {
		t.Errorf("ansible_group_priority from group_vars/prod is an ordinary variable in Ansible: %v", web3.Vars["ansible_group_priority"])
	}
	w2, _ := inv.Host("web2.example.com")
	if w2.Vars["http_port"] != 9090 {
		t.Errorf("web2 http_port = %v, want 9090 from host_vars/web2.example.com/main.yml", w2.Vars["http_port"])
	}
	prod, _ := inv.Group("prod")
	if prod.Priority != 1 || prod.Vars["p_gv_prod"] != "group_vars-prod" || prod.Vars["p_prod_inv"] != "prod-inventory" {
		t.Errorf("group prod = %+v", prod)
	}
	if own := web3.OwnVars(); own["num"] != 6 || own["p_host_inv"] != "web3-inventory" || own["p_all_inv"] != nil {
		t.Errorf("web3 OwnVars = %v", own)
	}
}

// TestVarDirErrors: vars files are held to the inventory's rules, with
// positions.
func TestVarDirErrors(t *testing.T) {
	for _, tc := range []struct {
		file, content, msg string
		line               int
	}{
		{"group_vars/all.yml", "a: 1\na: 2\n", `duplicate key "a"`, 2},
		{"group_vars/web/x.yml", "ok: 1\nansible_port: 0\n", "port 0 must be", 2},
		{"host_vars/w1.yml", "- a\n", "a vars file must be a mapping of variables, not a list", 1},
		{"host_vars/w1", "$ANSIBLE_VAULT;1.1;AES256\n6162\n", "vault-encrypted files are not supported", 1},
		{"group_vars/web.json", "{\"a\": [1,\n}", "malformed YAML", 1},
		{"host_vars/w1.yml", "ansible_host: \"h;id\"\n", `contains ';'`, 1},
	} {
		dir := t.TempDir()
		inv := filepath.Join(dir, "hosts")
		os.WriteFile(inv, []byte("[web]\nw1\n"), 0o600)
		path := filepath.Join(dir, tc.file)
		os.MkdirAll(filepath.Dir(path), 0o700)
		os.WriteFile(path, []byte(tc.content), 0o600)
		_, err := Load(inv)
		var e *Error
		if !errors.As(err, &e) || e.File != path || e.Line != tc.line || !strings.Contains(e.Msg, tc.msg) {
			t.Errorf("%s: error = %v, want %s:%d: ...%s", tc.file, err, path, tc.line, tc.msg)
		}
	}
}
