package modules

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestParsePackageFactsApt: a real capture of PackageFactsScript on Debian
// 12 (cut to five packages, plus one left as config-files); the expected
// values are what Ansible's package_facts (python-apt) gave on the same
// machine, except category: tend reports the section dpkg recorded, where
// python-apt gives the repository index's (javascript-common: "javascript").
func TestParsePackageFactsApt(t *testing.T) {
	out, err := os.ReadFile("testdata/factmods/apt.out")
	if err != nil {
		t.Fatal(err)
	}
	pkgs, found := ParsePackageFacts(string(out))
	if !slices.Equal(found, []string{"apt"}) {
		t.Errorf("found %v, want [apt]", found)
	}
	apt := func(name, version, arch, category, origin string) []any {
		return []any{map[string]any{"name": name, "version": version, "arch": arch, "category": category, "origin": origin, "source": "apt"}}
	}
	want := map[string]any{
		"bash":              apt("bash", "5.2.15-2+b8", "amd64", "shells", ""), // installed version only in dpkg's status
		"coreutils":         apt("coreutils", "9.1-1", "amd64", "utils", "Debian"),
		"javascript-common": apt("javascript-common", "11+nmu1", "all", "web", "Debian"),
		"kubectl":           apt("kubectl", "1:528.0.0-0", "amd64", "misc", ""),
		"libc6":             apt("libc6", "2.36-9+deb12u14", "amd64", "libs", "Debian"),
	}
	if !reflect.DeepEqual(pkgs, want) {
		t.Errorf("got  %v\nwant %v", pkgs, want)
	}
}

// TestParsePackageFactsRPM: rpm -qa's lines, several versions of one name
// (kernels), no epoch (null) and gpg-pubkey's missing arch (null), as
// Ansible's rpm backend gives them; and both managers under strategy all.
func TestParsePackageFactsRPM(t *testing.T) {
	out := "@@tend rpm\n" +
		"kernel\t5.14.0\t362.8.1.el9_3\t(none)\tx86_64\n" +
		"kernel\t5.14.0\t284.11.1.el9_2\t(none)\tx86_64\n" +
		"bind-libs\t9.16.23\t14.el9_3\t32\tx86_64\n" +
		"gpg-pubkey\tfd431d51\t4ae0493b\t(none)\t(none)\n" +
		"short line\n"
	pkgs, found := ParsePackageFacts(out)
	want := map[string]any{
		"kernel": []any{
			map[string]any{"name": "kernel", "version": "5.14.0", "release": "362.8.1.el9_3", "epoch": nil, "arch": "x86_64", "source": "rpm"},
			map[string]any{"name": "kernel", "version": "5.14.0", "release": "284.11.1.el9_2", "epoch": nil, "arch": "x86_64", "source": "rpm"},
		},
		"bind-libs":  []any{map[string]any{"name": "bind-libs", "version": "9.16.23", "release": "14.el9_3", "epoch": 32, "arch": "x86_64", "source": "rpm"}},
		"gpg-pubkey": []any{map[string]any{"name": "gpg-pubkey", "version": "fd431d51", "release": "4ae0493b", "epoch": nil, "arch": nil, "source": "rpm"}},
	}
	if !reflect.DeepEqual(pkgs, want) || !slices.Equal(found, []string{"rpm"}) {
		t.Errorf("got %v %v\nwant %v", found, pkgs, want)
	}
	apt, _ := os.ReadFile("testdata/factmods/apt.out")
	pkgs, found = ParsePackageFacts(string(apt) + out)
	if !slices.Equal(found, []string{"apt", "rpm"}) || len(pkgs) != 8 {
		t.Errorf("apt and rpm: found %v, %d names, want [apt rpm], 8", found, len(pkgs))
	}
	if pkgs, found = ParsePackageFacts(""); len(found) != 0 || len(pkgs) != 0 {
		t.Errorf("no manager: found %v %v", found, pkgs)
	}
}

// TestPackageFactsArgs: manager and strategy as Ansible's (a list or a
// comma string, auto expanded, duplicates dropped); the backends tend
// lacks, unknown managers, strategies and arguments refused with their
// position.
func TestPackageFactsArgs(t *testing.T) {
	for _, tc := range []struct {
		args, want string
		managers   []string
		all        bool
	}{
		{args: "", managers: []string{"apt", "rpm"}},
		{args: "manager: rpm", managers: []string{"rpm"}},
		{args: "manager: [rpm, auto]\nstrategy: all", managers: []string{"rpm", "apt"}, all: true},
		{args: "manager: apt,APT", managers: []string{"apt"}},
		{args: "manager: pacman", want: `pb.yml:1:10: package_facts: manager "pacman" is not supported by tend (supported: auto, apt, rpm)`},
		{args: "manager: [apt, dpkg]", want: `pb.yml:1:16: package_facts: manager: unsupported package manager "dpkg"`},
		{args: "strategy: last", want: `pb.yml:1:11: package_facts: strategy must be first or all, not "last"`},
		{args: "managers: apt", want: `pb.yml:1:1: package_facts: unknown argument "managers" (known: manager, strategy)`},
	} {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(tc.args), &doc); err != nil {
			t.Fatal(err)
		}
		var n *yaml.Node
		if len(doc.Content) > 0 {
			n = doc.Content[0]
		}
		m, err := newPackageFacts(Args{Node: n, File: "pb.yml"})
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		pm := m.(*packageFactsModule)
		if !slices.Equal(pm.managers, tc.managers) || pm.all != tc.all {
			t.Errorf("%q: managers %v all %v, want %v %v", tc.args, pm.managers, pm.all, tc.managers, tc.all)
		}
	}
}
