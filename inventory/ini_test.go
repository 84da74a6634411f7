package inventory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// pyValueCases are INI values and what Ansible reads them as (Python's
// ast.literal_eval, else the text). TestOracleINIValues checks the same
// table against ansible-inventory.
var pyValueCases = []struct {
	text string
	want any
}{
	{`5`, 5}, {`-3`, -3}, {`+3`, 3}, {`- 3`, -3}, {`0`, 0}, {`00`, 0}, {`-(3)`, -3},
	{`0755`, "0755"}, {`0x1F`, 31}, {`0o17`, 15}, {`0B11`, 3},
	{`1.5`, 1.5}, {`1.`, 1.0}, {`.5`, 0.5}, {`01.5`, 1.5},
	{`True`, true}, {`False`, false}, {`None`, nil},
	{`true`, "true"}, {`yes`, "yes"}, {`FALSE`, "FALSE"}, {`none`, "none"},
	{`'quoted'`, "quoted"}, {`"dq"`, "dq"}, {`'a' "b"`, "ab"}, {`u'x'`, "x"},
	{`r'a\nb'`, `a\nb`}, {`'a\tb'`, "a\tb"}, {`'\x41\u00e9\101'`, "AéA"}, {`'\d'`, `\d`},
	{`"a'b"`, "a'b"}, {`'é'`, "é"},
	{`[1, 'two', [3]]`, []any{1, "two", []any{3}}}, {`[1, 2,]`, []any{1, 2}}, {`[]`, []any{}},
	{`(1, 2)`, []any{1, 2}}, {`()`, []any{}}, {`(1,)`, []any{1}}, {`1,2`, []any{1, 2}}, {`(((1)))`, 1},
	{`{'k': [1, {'n': None}]}`, map[string]any{"k": []any{1, map[string]any{"n": nil}}}},
	{`{}`, map[string]any{}}, {`{'a': 1,}`, map[string]any{"a": 1}},
	{`5 # five`, 5}, {`True  # yes`, true},
	{`--3`, "--3"}, {`-True`, "-True"}, {`f'x'`, "f'x'"}, {`'open`, "'open"}, {`[1,`, "[1,"},
	{`x.y`, "x.y"}, {`1+2`, "1+2"}, {`a b # c`, "a b # c"}, {`Ellipsis`, "Ellipsis"},
	{`1abc`, "1abc"}, {`1.2.3`, "1.2.3"}, {`0x`, "0x"}, {`'\x4'`, `'\x4'`}, {`{**a}`, "{**a}"},
	{`$(id)`, "$(id)"}, {"`id`", "`id`"}, {`a;b`, "a;b"}, {`-oProxyCommand=x`, "-oProxyCommand=x"},
}

func TestPyValue(t *testing.T) {
	for _, tc := range append(pyValueCases, struct {
		text string
		want any
	}{``, ""}) {
		got, err := pyValue(tc.text)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("pyValue(%s) = %#v, %v; want %#v", tc.text, got, err, tc.want)
		}
	}
}

// TestPyValueRefused covers faults row 20 for INI: literals Python reads
// differently from how they look are refused, never coerced.
func TestPyValueRefused(t *testing.T) {
	for text, msg := range map[string]string{
		`1e3`:                  "reads as the float 1000",
		`1.5e-3`:               "reads as the float",
		`1_000`:                "digit separators",
		`0x_1f`:                "digit separators",
		`1j`:                   "complex numbers",
		`1+2j`:                 "complex numbers",
		`b'x'`:                 "bytes literals",
		`{1, 2}`:               "sets are not supported",
		`{'a': 1, 'a': 2}`:     `duplicate dict key "a"`,
		`{1: 2}`:               "is not a string",
		`99999999999999999999`: "does not fit in 64 bits",
		`'\N{BULLET}'`:         `\N{...} escapes`,
		`'\ud800'`:             "lone surrogate",
		`...`:                  "Ellipsis",
	} {
		if _, err := pyValue(text); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("pyValue(%s) error = %v, want %q", text, err, msg)
		}
	}
}

// TestOracleINIValues loads every pyValueCases text from a :vars section
// and from a host line, and compares with ansible-inventory.
func TestOracleINIValues(t *testing.T) {
	lookPath(t, "ansible-inventory")
	var b strings.Builder
	b.WriteString("[g]\nh1\nh2")
	for i, tc := range pyValueCases {
		if !strings.ContainsAny(tc.text, "#") {
			// shlex quoting: single quotes keep the text as is.
			fmt.Fprintf(&b, " h%d='%s'", i, strings.ReplaceAll(tc.text, "'", `'"'"'`))
		}
	}
	b.WriteString("\n[g:vars]\n")
	for i, tc := range pyValueCases {
		fmt.Fprintf(&b, "v%d=%s\n", i, tc.text)
	}
	path := write(t, "hosts", b.String())
	want := runInventoryOracle(t, []string{path})
	inv, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"h1", "h2"} {
		h, _ := inv.Host(name)
		got, ansible := normalize(t, h.Vars).(map[string]any), normalize(t, want.hostvars[name]).(map[string]any)
		for i, tc := range pyValueCases {
			for _, k := range []string{fmt.Sprintf("v%d", i), fmt.Sprintf("h%d", i)} {
				if !reflect.DeepEqual(got[k], ansible[k]) {
					t.Errorf("%s %s=%s: tend %#v, ansible %#v", name, k, tc.text, got[k], ansible[k])
				}
			}
		}
		if len(got) != len(ansible) {
			t.Errorf("%s: tend has %d vars, ansible %d", name, len(got), len(ansible))
		}
	}
}

func TestINIStructure(t *testing.T) {
	inv := mustLoadNamed(t, "hosts", `
; comments with ; and #
top1 a=1
[web]
w[1:2]:2200 b="x y" c=x#rest ignored
[all:vars]
av = all
[parent:children]   # a child declared later
web
late
[late]
l1
[late:vars]
lv=1
`)
	if got, want := names(inv.Hosts()), []string{"top1", "w1", "w2", "l1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("hosts = %v, want %v", got, want)
	}
	w2, _ := inv.Host("w2")
	if want := map[string]any{"ansible_port": 2200, "b": "x y", "c": "x", "av": "all"}; !reflect.DeepEqual(w2.Vars, want) {
		t.Errorf("w2 vars = %v, want %v", w2.Vars, want)
	}
	if want := []string{"all", "parent", "web"}; !reflect.DeepEqual(w2.Groups, want) {
		t.Errorf("w2 groups = %v, want %v", w2.Groups, want)
	}
	parent, _ := inv.Group("parent")
	if want := []string{"web", "late"}; !reflect.DeepEqual(parent.Children, want) {
		t.Errorf("parent children = %v, want %v", parent.Children, want)
	}
	top, _ := inv.Host("top1")
	if want := []string{"all", "ungrouped"}; !reflect.DeepEqual(top.Groups, want) {
		t.Errorf("top1 groups = %v", top.Groups)
	}
}

// mustLoadNamed loads one inventory written to a file of the given name.
func mustLoadNamed(t *testing.T, name, content string) *Inventory {
	t.Helper()
	inv, err := Load(write(t, name, content))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return inv
}

// TestINIErrors: every bad line is reported at FILE:LINE:COL.
func TestINIErrors(t *testing.T) {
	for _, tc := range []struct {
		name, ini string
		line, col int
		msg       string
	}{
		{"no equals", "[web]\nw1 a=1 oops\n", 2, 8, `expected key=value host variable assignment, got "oops"`},
		{"unclosed quote", "[web]\n  w1 a=\"x\n", 2, 3, "no closing quotation"},
		{"bad section", "[web servers]\nw1\n", 1, 1, "invalid section [web servers]"},
		{"unknown section type", "[web:child]\nw1\n", 1, 1, `unknown type "child"`},
		{"var without equals", "[web]\nw1\n[web:vars]\n\n  http_port 80\n", 5, 3, "expected key=value"},
		{"undefined child", "[web]\nw1\n[prod:children]\nweb\n  nosuch\n", 5, 3, `includes group "nosuch", which is never defined`},
		{"vars for undefined group", "[web]\nw1\n[ghost:vars]\nx=1\n", 3, 1, "section [ghost:vars] is for a group that is never defined"},
		{"child line not a name", "[web]\nw1\n[p:children]\nweb extra\n", 4, 1, `expected a group name, got "web extra"`},
		{"cycle", "[a:children]\nb\n[b:children]\na\n", 4, 1, `would be its own ancestor: a → b → a`},
		{"all as child", "[a]\nx\n[a:children]\nall\n", 4, 1, `group "all" cannot be a child`},
		{"bad var name", "[web]\nw1 ansible-port=22\n", 2, 4, `variable name "ansible-port" is not an identifier`},
		{"bad port", "[web]\nw1 ansible_port=0\n", 2, 17, "port 0 must be a number from 1 to 65535"},
		{"port in key", "w1:99999\n", 1, 1, `port 99999 must be`},
		{"trailing colon", "[web]\nw1:\n", 2, 1, `ends in ":"`},
		{"YAML separator", "w1\n---\n", 2, 1, "a line of --- is a sign this is a YAML file"},
		{"range", "[web]\nw[3:1]\n", 2, 1, "is empty"},
		{"unsafe host", "[web]\n-oProxyCommand=x\n", 2, 1, `must not start with "-"`},
		{"unsafe host chars", "h;id\n", 1, 1, `contains ';'`},
		{"unsafe user", "[web:vars]\nansible_user=$(id)\n[web]\nw\n", 2, 14, "ansible_user"},
		{"refused literal", "[web]\nw1 size=1e3\n", 2, 9, "reads as the float 1000"},
		{"connection", "[web:vars]\nansible_connection=-oProxyCommand=x\n[web]\nw\n", 2, 20, "must be a connection name"},
		{"bad group name", "[web@dc]\nw\n", 1, 2, `group name "web@dc"`},
		{"duplicate host var", "[web]\nw1 a=1 b=2 a=3\n", 2, 12, `variable "a" is set twice on this line (first at column 4)`},
		{"duplicate group var", "[web]\nw1\n[web:vars]\nx=1\n[web:vars]\n  x = 2\n", 6, 3, `variable "x" of group "web" is set twice (first at line 4:1)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := write(t, "hosts", tc.ini)
			_, err := Load(path)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Load() error = %v, want *Error", err)
			}
			if e.File != path || e.Line != tc.line || e.Col != tc.col || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got %v\nwant %s:%d:%d: ...%s", err, path, tc.line, tc.col, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("%s:%d:%d: ", path, tc.line, tc.col)) {
				t.Errorf("error text %q lacks FILE:LINE:COL", err)
			}
		})
	}
}

// TestFormatDetection: content decides, and when a file is neither a YAML
// mapping nor valid INI the error is the one for the format it resembles.
func TestFormatDetection(t *testing.T) {
	for _, tc := range []struct {
		name, content, msg string
	}{
		{"hosts.yml", "[web]\nw1\n", ""},                               // INI content in a .yml file loads (as in Ansible)
		{"hosts", "all:\n  hosts:\n    w1:\n", ""},                     // YAML without an extension
		{"hosts.json", `{"all": {"hosts": {"w1": null}}}`, ""},         // JSON is YAML
		{"hosts", "all:\n  hosts:\n    w1: {a: 1\n", "malformed YAML"}, // looks like YAML
		{"hosts.yaml", "- w1\n- w2\n", "must be a mapping of groups"},
		{"hosts", "[web]\nw1 a=\"x\n", "no closing quotation"},
		{"hosts.ini", "# nothing here\n\n", "empty inventory"},
	} {
		_, err := Load(write(t, tc.name, tc.content))
		if tc.msg == "" && err != nil || tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg)) {
			t.Errorf("%s %q: error = %v, want %q", tc.name, tc.content, err, tc.msg)
		}
	}
	// A #! file without the execute bit is not silently parsed as INI.
	path := filepath.Join(t.TempDir(), "inv.sh")
	os.WriteFile(path, []byte("#!/bin/sh\necho '{}'\n"), 0o644)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "not executable") {
		t.Errorf("non-executable script: %v", err)
	}
}
