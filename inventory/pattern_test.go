package inventory

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// Host name shorthands for testdata/site.yml.
const (
	bastion = "bastion.example.com"
	web1    = "web1.example.com"
	web2    = "web2.example.com"
	db1     = "db1.example.com"
	stage1  = "stage1.example.com"
)

// selectCases are shared with the oracle test, which checks the same
// patterns against Ansible.
var selectCases = []struct {
	pattern   string
	want      []string // in inventory order
	unmatched []string
}{
	{"all", []string{bastion, web1, web2, db1, stage1}, nil},
	{"*", []string{bastion, web1, web2, db1, stage1}, nil},
	{"web", []string{web1, web2}, nil},
	{"db:web", []string{web1, web2, db1}, nil},
	{"db,web", []string{web1, web2, db1}, nil},
	{" db , web ", []string{web1, web2, db1}, nil},
	{"eu", []string{web1, web2, db1}, nil},
	{"ungrouped", []string{bastion}, nil},
	{"prod:!db", []string{web1}, nil},
	{"prod:&db", []string{web2, db1}, nil},
	{"&db:web", []string{web2}, nil},
	{"!web", []string{bastion, db1, stage1}, nil},
	{"!web:&eu", []string{db1}, nil},
	{db1, []string{db1}, nil},
	{"stage1.example.com,bastion.example.com", []string{bastion, stage1}, nil},
	{"web?.example.com", []string{web1, web2}, nil},
	{"*.example.com", []string{bastion, web1, web2, db1, stage1}, nil},
	{"w*", []string{web1, web2}, nil},
	{"st*", []string{stage1}, nil},
	{"nosuch", []string{}, []string{"nosuch"}},
	{"web:nosuch:!nope", []string{web1, web2}, []string{"nosuch", "!nope"}},
	{"web:&nosuch", []string{}, []string{"&nosuch"}},
}

func TestSelect(t *testing.T) {
	inv, err := Load("testdata/site.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range selectCases {
		hs, unmatched, err := inv.Select(tc.pattern)
		if err != nil {
			t.Errorf("Select(%q): %v", tc.pattern, err)
			continue
		}
		if got := names(hs); !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(unmatched, tc.unmatched) {
			t.Errorf("Select(%q) = %v, unmatched %q; want %v, %q", tc.pattern, got, unmatched, tc.want, tc.unmatched)
		}
	}
}

func TestSelectHostOverGroup(t *testing.T) {
	inv := mustLoad(t, `
all:
  hosts:
    app:
  children:
    app_group:
      hosts: {x: }
    dup:
      hosts: {y: }
  vars: {}
other:
  hosts:
    dup:
`)
	// A plain term naming a host selects that host, not the group "dup".
	if hs, _, _ := inv.Select("dup"); !reflect.DeepEqual(names(hs), []string{"dup"}) {
		t.Errorf("Select(dup) = %v, want [dup]", names(hs))
	}
	// With a prefix, Ansible resolves groups first.
	if hs, _, _ := inv.Select("all:!dup"); !reflect.DeepEqual(names(hs), []string{"app", "x", "dup"}) {
		t.Errorf("Select(all:!dup) = %v, want [app x dup]", names(hs))
	}
}

func TestSelectLocalhost(t *testing.T) {
	inv, _ := Load("testdata/site.yml")
	for _, p := range []string{"localhost", "127.0.0.1", "::1"} {
		hs, unmatched, err := inv.Select(p)
		if err != nil || len(hs) != 1 || len(unmatched) != 0 {
			t.Fatalf("Select(%q) = %v, %v, %v", p, names(hs), unmatched, err)
		}
		h := hs[0]
		if h.Name != "localhost" || h.Connection() != "local" || len(h.Groups) != 0 || h.Vars["ntp_server"] != "ntp.example.com" {
			t.Errorf("implicit localhost = %+v", h)
		}
	}
	if hs, _, _ := inv.Select("all"); len(hs) != 5 {
		t.Errorf("the implicit localhost must not match all: %v", names(hs))
	}
	// An inventory that lists localhost uses its own entry.
	inv = mustLoad(t, "all:\n  hosts:\n    localhost:\n")
	hs, _, _ := inv.Select("localhost")
	if len(hs) != 1 || hs[0].Connection() != "" {
		t.Errorf("listed localhost: %+v", hs)
	}
}

func TestSelectErrors(t *testing.T) {
	inv := Implicit()
	for _, p := range []string{"", " , ", ":", "~web(?=x)", "@retry.txt", "!", "web:&", "we!b", "web db,x", "!@f", "web["} {
		if _, _, err := inv.Select(p); err == nil || !strings.HasPrefix(err.Error(), "inventory: ") {
			t.Errorf("Select(%q) error = %v, want an inventory error", p, err)
		}
		if _, err := inv.Limit(inv.Hosts(), p); err == nil {
			t.Errorf("Limit(%q) succeeded", p)
		}
	}
}

func TestLimit(t *testing.T) {
	inv, _ := Load("testdata/site.yml")
	for _, tc := range []struct {
		pattern, limit string
		want           []string
	}{
		{"all", "db", []string{web2, db1}},
		{"all", "web2.example.com:stage1.example.com", []string{web2, stage1}},
		{"prod", "!web", []string{db1}},
		{"prod", "staging", []string{}},
		{"web", "*", []string{web1, web2}},
		{"web", "nosuch", []string{}},
		{"web", "nosuch,web1.example.com", []string{web1}},
	} {
		hs, _, err := inv.Select(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		got, err := inv.Limit(hs, tc.limit)
		if err != nil {
			t.Errorf("Limit(%q, %q): %v", tc.pattern, tc.limit, err)
			continue
		}
		if !reflect.DeepEqual(names(got), tc.want) {
			t.Errorf("Limit(%q, %q) = %v, want %v", tc.pattern, tc.limit, names(got), tc.want)
		}
	}
	// Limit keeps the order it is given.
	hs := inv.Hosts()
	rev := []*Host{hs[3], hs[1]}
	if got, _ := inv.Limit(rev, "all"); !reflect.DeepEqual(names(got), []string{db1, web1}) {
		t.Errorf("Limit reordered: %v", names(got))
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		ok   bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*c", "abc", true}, {"a*c", "abcd", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*.com", "x.example.com", true},
		{"**x", "yyx", true}, {"a*b*c", "aXbYbZc", true}, {"abc", "abc", true}, {"abc", "abd", false},
	} {
		if got := globMatch(tc.p, tc.s); got != tc.ok {
			t.Errorf("globMatch(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

// Host name shorthands for testdata/ini/hosts.
const (
	iweb1 = "web1.example.com"
	iweb2 = "web2.example.com"
	iweb3 = "web3.example.com"
	idba  = "dba.example.com"
	idbb  = "dbb.example.com"
	ist1  = "stage01.example.com"
	ist5  = "stage05.example.com"
	ist9  = "stage09.example.com"
	ibast = "bastion.example.com"
)

// iniSelectCases exercise regexes, subscripts and glob sets on
// testdata/ini/hosts; the oracle test checks them against Ansible too.
var iniSelectCases = []struct {
	pattern string
	want    []string // in inventory order
}{
	{"~web[12]", []string{iweb1, iweb2}},
	{"~(web|db)", []string{iweb1, iweb2, iweb3, idba, idbb}},
	{"~.*05", []string{ist5}},
	{"~e", []string{iweb1, iweb2, iweb3, idba, idbb}}, // group "eu" matches
	{"~example", []string{}},                          // re.match anchors at the start
	{"web[0]", []string{iweb1}},
	{"web[-1]", []string{iweb3}},
	{"web[1:]", []string{iweb2, iweb3}},
	{"web[0:1]", []string{iweb1, iweb2}},
	{"web[2:0]", []string{iweb3}}, // Ansible: an end of 0 means a single index
	{"prod[3:4]", []string{idba, idbb}},
	{"eu[-2]", []string{idba}},
	{"staging[5:9]", []string{}},
	{"db[ab]*", []string{idba, idbb}},
	{"db[!a]*", []string{idbb}},
	{"stage0[1-5].*", []string{ist1, ist5}},
	{"*.example.com:!web*", []string{ibast, idba, idbb, ist1, ist5, ist9}},
	{"web*:&prod", []string{iweb1, iweb2, iweb3}},
	{"web db", []string{iweb1, iweb2, iweb3, idba, idbb}},
	{"a*", []string{ibast, iweb1, iweb2, iweb3, idba, idbb, ist1, ist5, ist9}}, // matches group "all"
	{"ungrouped", []string{ibast}},
	{"stage01.example.com:stage05.example.com", []string{ist1, ist5}},
	{"!~web", []string{ibast, idba, idbb, ist1, ist5, ist9}},
	{"prod:&~db", []string{idba, idbb}},
}

func TestSelectINI(t *testing.T) {
	inv, err := Load("testdata/ini/hosts")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range iniSelectCases {
		hs, _, err := inv.Select(tc.pattern)
		if err != nil {
			t.Errorf("Select(%q): %v", tc.pattern, err)
			continue
		}
		if got := names(hs); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Select(%q) = %v, want %v", tc.pattern, got, tc.want)
		}
	}
	// A single subscript out of range is an error, as in Ansible.
	if _, _, err := inv.Select("web[3]"); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("Select(web[3]) error = %v", err)
	}
}

func TestLimitFile(t *testing.T) {
	inv, _ := Load("testdata/ini/hosts")
	t.Chdir(t.TempDir())
	if err := os.WriteFile("failed.retry", []byte("web3.example.com\n\nstaging\n  !stage05.example.com \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := inv.Limit(inv.Hosts(), "@failed.retry")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{iweb3, ist1, ist9}; !reflect.DeepEqual(names(got), want) {
		t.Errorf("Limit(@failed.retry) = %v, want %v", names(got), want)
	}
	hs, unmatched, err := inv.SelectLimit("@failed.retry,nosuch")
	if err != nil || len(hs) != 3 || !reflect.DeepEqual(unmatched, []string{"nosuch"}) {
		t.Errorf("SelectLimit = %v, %v, %v", names(hs), unmatched, err)
	}
	os.WriteFile("empty.retry", []byte("\n \n"), 0o600)
	os.Mkdir("adir", 0o700)
	for limit, msg := range map[string]string{
		"@missing.retry": "cannot read",
		"@empty.retry":   "names no hosts",
		"@adir":          "is a directory",
		"@":              "must be followed by a file name",
	} {
		if _, err := inv.Limit(inv.Hosts(), limit); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("Limit(%q) error = %v, want %q", limit, err, msg)
		}
	}
	// A play's hosts: pattern does not read files.
	if _, _, err := inv.Select("@failed.retry"); err == nil {
		t.Error("Select(@file) succeeded")
	}
}
