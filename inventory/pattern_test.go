package inventory

import (
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
	if len(hs) != 1 || hs[0].Connection() != "ssh" {
		t.Errorf("listed localhost: %+v", hs)
	}
}

func TestSelectErrors(t *testing.T) {
	inv := Implicit()
	for _, p := range []string{"", " , ", ":", "~web.*", "web[0]", "web[0:2]", "@retry.txt", "!", "web:&", "we!b", "web db"} {
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
