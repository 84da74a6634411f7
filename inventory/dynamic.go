package inventory

import (
	"maps"
	"slices"
)

// The playbook modules add_host and group_by change the inventory while a
// run goes on. Inventory stays read-only: WithHost and WithGroup return a
// changed copy, sharing every host and group they leave as they were.
// Group variables of a new group come from nowhere (no group_vars/ file
// is read for it).

// WithHost returns a copy of inv holding host name — added, or updated
// when inv has it — as a direct member of groups (each created, as a
// child of all, when new), with vars over its own variables. A host in
// no group but all is in ungrouped, as in an inventory file.
func (inv *Inventory) WithHost(name string, groups []string, vars map[string]any) *Inventory {
	out := inv.clone()
	h := out.editableHost(name)
	for k, v := range vars {
		if h.own == nil {
			h.own = map[string]any{}
		}
		h.own[k] = deepCopy(v)
	}
	for _, g := range groups {
		out.ensureGroup(g, nil)
		out.addMember(g, h)
	}
	out.reresolve(h)
	return out
}

// WithGroup returns a copy of inv where host is a direct member of group;
// a new group is created as a child of parents (each created under all
// when new; none: all). An existing group gains the parents it lacks.
func (inv *Inventory) WithGroup(host, group string, parents []string) *Inventory {
	out := inv.clone()
	h := out.editableHost(host)
	out.ensureGroup(group, parents)
	out.addMember(group, h)
	out.reresolve(h)
	return out
}

// clone copies inv's indexes; hosts and groups stay shared until edited.
func (inv *Inventory) clone() *Inventory {
	return &Inventory{
		hosts: slices.Clone(inv.hosts), byName: maps.Clone(inv.byName), groups: slices.Clone(inv.groups),
		members: maps.Clone(inv.members), byGroup: maps.Clone(inv.byGroup), implicit: inv.implicit,
	}
}

// editableHost returns a private copy of the named host, put in place of
// the shared one (or a new host, appended).
func (inv *Inventory) editableHost(name string) *Host {
	old, ok := inv.byName[name]
	if !ok {
		h := &Host{Name: name, own: map[string]any{}}
		inv.hosts = append(inv.hosts, h)
		inv.byName[name] = h
		inv.addMember("all", h)
		return h
	}
	h := *old
	h.own = maps.Clone(old.own)
	h.Groups = slices.Clone(old.Groups)
	nh := &h
	inv.byName[name] = nh
	inv.hosts[slices.Index(inv.hosts, old)] = nh
	for g, hs := range inv.members {
		if i := slices.Index(hs, old); i >= 0 {
			hs = slices.Clone(hs)
			hs[i] = nh
			inv.members[g] = hs
		}
	}
	for name, g := range inv.byGroup {
		if i := slices.Index(g.Hosts, old); i >= 0 {
			c := *g
			c.Hosts = slices.Clone(g.Hosts)
			c.Hosts[i] = nh
			inv.byGroup[name] = &c
		}
	}
	return nh
}

// editableGroup returns a private copy of the named group, put in place
// of the shared one.
func (inv *Inventory) editableGroup(name string) *Group {
	c := *inv.byGroup[name]
	c.Hosts, c.Children, c.Vars = slices.Clone(c.Hosts), slices.Clone(c.Children), maps.Clone(c.Vars)
	inv.byGroup[name] = &c
	return &c
}

// ensureGroup creates group (as a child of parents, or of all) when new;
// an existing one becomes a child of the parents it lacks.
func (inv *Inventory) ensureGroup(name string, parents []string) {
	if _, ok := inv.byGroup[name]; !ok {
		inv.byGroup[name] = &Group{Name: name, Vars: map[string]any{}, Priority: 1}
		inv.groups = append(inv.groups, name)
		if len(parents) == 0 {
			parents = []string{"all"}
		}
	}
	for _, p := range parents {
		if p == name {
			continue
		}
		if _, ok := inv.byGroup[p]; !ok {
			inv.ensureGroup(p, nil)
		}
		if !slices.Contains(inv.byGroup[p].Children, name) {
			g := inv.editableGroup(p)
			g.Children = append(g.Children, name)
		}
	}
}

// addMember lists h directly under group.
func (inv *Inventory) addMember(group string, h *Host) {
	if slices.Contains(inv.byGroup[group].Hosts, h) {
		return
	}
	g := inv.editableGroup(group)
	g.Hosts = append(g.Hosts, h)
}

// parentsOf maps each group to the groups listing it as a child.
func (inv *Inventory) parentsOf() map[string][]string {
	out := map[string][]string{}
	for _, name := range inv.groups {
		for _, c := range inv.byGroup[name].Children {
			out[c] = append(out[c], name)
		}
	}
	return out
}

// reresolve recomputes h's groups (its direct ones and their ancestors,
// ungrouped when it has no other), the members index and its variables:
// the groups' variables, ancestors first, then its own.
func (inv *Inventory) reresolve(h *Host) {
	direct := []string{}
	for _, name := range inv.groups {
		if slices.Contains(inv.byGroup[name].Hosts, h) {
			direct = append(direct, name)
		}
	}
	others := slices.DeleteFunc(slices.Clone(direct), func(g string) bool { return g == "all" || g == "ungrouped" })
	if len(others) > 0 && slices.Contains(direct, "ungrouped") {
		g := inv.editableGroup("ungrouped")
		g.Hosts = slices.DeleteFunc(g.Hosts, func(x *Host) bool { return x == h })
		direct = slices.DeleteFunc(direct, func(g string) bool { return g == "ungrouped" })
	} else if len(others) == 0 && !slices.Contains(direct, "ungrouped") {
		inv.addMember("ungrouped", h)
		direct = append(direct, "ungrouped")
	}
	parents := inv.parentsOf()
	seen := map[string]bool{}
	var order []string // ancestors before descendants
	var walk func(string)
	walk = func(g string) {
		if seen[g] {
			return
		}
		seen[g] = true
		for _, p := range parents[g] {
			walk(p)
		}
		order = append(order, g)
	}
	walk("all")
	for _, g := range direct {
		walk(g)
	}
	before := h.Groups
	h.Groups = order
	if h.Vars == nil { // a new host: its groups' variables, ancestors first
		h.Vars = map[string]any{}
	} else { // an inventory host keeps its resolved variables
		h.Vars = maps.Clone(h.Vars)
	}
	for _, g := range order {
		if !slices.Contains(before, g) {
			merge(h.Vars, inv.byGroup[g].Vars)
		}
	}
	merge(h.Vars, h.own)
	for _, m := range h.fileVars {
		merge(h.Vars, m)
	}
	for g, hs := range inv.members {
		if i := slices.Index(hs, h); i >= 0 && !seen[g] {
			inv.members[g] = slices.Delete(slices.Clone(hs), i, i+1)
		}
	}
	for _, g := range order {
		if !slices.Contains(inv.members[g], h) {
			inv.members[g] = append(slices.Clone(inv.members[g]), h)
		}
	}
}
