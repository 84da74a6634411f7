package inventory

import (
	"reflect"
	"testing"
)

// TestWithHostAndGroup: add_host's and group_by's changes make a new
// inventory (the old one is unchanged): a new host gets its groups'
// variables under its own and leaves ungrouped once grouped; a new group
// hangs under its parents (or all) and patterns select it.
func TestWithHostAndGroup(t *testing.T) {
	base := mustLoad(t, "all:\n  hosts:\n    h1: {x: h1}\n  children:\n    web:\n      vars: {tier: front, x: web}\n      hosts:\n        h2: {}\n")
	inv := base.WithHost("new1", []string{"web", "extra"}, map[string]any{"x": "own", "color": "red"})
	inv = inv.WithGroup("h1", "role-h1", []string{"grp"})
	inv = inv.WithGroup("h2", "role-h2", []string{"grp"})
	inv = inv.WithHost("new2", nil, nil)

	sel := func(inv *Inventory, pattern string) []string {
		hs, _, err := inv.Select(pattern)
		if err != nil {
			t.Fatalf("%s: %v", pattern, err)
		}
		return names(hs)
	}
	host := func(inv *Inventory, name string) *Host {
		h, ok := inv.Host(name)
		if !ok {
			t.Fatalf("no host %s", name)
		}
		return h
	}
	for _, tt := range []struct {
		name      string
		got, want any
	}{
		{"web", sel(inv, "web"), []string{"h2", "new1"}},
		{"grp", sel(inv, "grp"), []string{"h1", "h2"}},
		{"grp but h2", sel(inv, "grp:!role-h2"), []string{"h1"}},
		{"all", sel(inv, "all"), []string{"h1", "h2", "new1", "new2"}},
		{"ungrouped", sel(inv, "ungrouped"), []string{"new2"}},
		{"new1 vars", host(inv, "new1").Vars, map[string]any{"tier": "front", "x": "own", "color": "red"}},
		{"new1 group_names", host(inv, "new1").GroupNames(), []string{"extra", "web"}},
		{"h1 group_names", host(inv, "h1").GroupNames(), []string{"grp", "role-h1"}},
		{"h1 vars kept", host(inv, "h1").Vars, map[string]any{"x": "h1"}},
		{"base unchanged: grp", base.GroupNames(), []string{"all", "ungrouped", "web"}},
		{"base unchanged: h1", host(base, "h1").GroupNames(), []string{"ungrouped"}},
		{"base unchanged: web", sel(base, "web"), []string{"h2"}},
	} {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}
