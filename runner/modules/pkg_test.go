package modules

import (
	"errors"
	"strings"
	"testing"
)

// TestPackageDispatch: package hands its arguments to the module of use:,
// else of the ansible_pkg_mgr fact; before any host it accepts what one
// backend accepts (state: installed is dnf's) and refuses the rest.
func TestPackageDispatch(t *testing.T) {
	fact := func(v any) func(string) (any, error) {
		return func(e string) (any, error) {
			if e != "ansible_pkg_mgr" {
				t.Errorf("package asked for %q", e)
			}
			if v == nil {
				return nil, errors.New("undefined")
			}
			return v, nil
		}
	}
	for _, tc := range []struct {
		src  string
		eval func(string) (any, error)
		mgr  string // backend built in New ("" unknown until Check)
		err  string
	}{
		{"name: x", nil, "", ""},
		{"name: x\nstate: installed", nil, "", ""},
		{"name: x\nuse: yum", nil, "yum", ""},
		{"name: x", fact("dnf"), "dnf", ""},
		{"name: x", fact("apt"), "apt", ""},
		{"name: x", fact(nil), "", ""},
		{"name: x\nuse: apt", fact("dnf"), "apt", ""},
		{"name: x\nstate: installed", fact("apt"), "", "play.yml:2:8: apt: state must be present, latest or absent"},
		{"name: x\nuse: zypper", nil, "", "play.yml:2:6: package: tend has no module for the package manager \"zypper\""},
		{"name: x\nstate: bogus", nil, "", "play.yml:2:8: apt: state must be"},
		{"name: x", fact("zypper"), "", "package: tend has no module for the package manager \"zypper\""},
	} {
		m, err := newPackage(Args{Node: argsNode(t, tc.src), File: "play.yml", Eval: tc.eval})
		if tc.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("%q: got %v, want %q", tc.src, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.src, err)
			continue
		}
		if got := m.(*packageModule).mgr; got != tc.mgr {
			t.Errorf("%q: backend %q, want %q", tc.src, got, tc.mgr)
		}
	}
}
