package inventory

import (
	"tend/internal/diag"
	"tend/internal/omap"

	"cmp"
	"slices"
)

// Inventory is a resolved set of hosts and groups: membership is closed over
// ancestors and every host's variables are merged. It is read-only after
// Load or Implicit and safe for concurrent use.
type Inventory struct {
	hosts    []*Host          // inventory (file) order
	byName   map[string]*Host // hosts by name
	groups   []string         // all, ungrouped, then order of first appearance
	members  map[string][]*Host
	byGroup  map[string]*Group
	implicit *Host // Ansible's implicit localhost; nil when the inventory has one
}

// Group is one group as the inventory defines it, the shape Ansible's
// `ansible-inventory --list` shows. Like Host it is shared and read-only.
type Group struct {
	// Name is the group's name.
	Name string
	// Hosts are the hosts listed directly under the group, in the order
	// they were listed; hosts of child groups are not repeated here.
	Hosts []*Host
	// Children are the names of the child groups, in the order added.
	Children []string
	// Vars are the group's own variables: those set in the inventory
	// sources, overridden by group_vars/ files. ansible_group_priority is
	// not among them (see Priority) unless a group_vars/ file sets it,
	// where Ansible too treats it as an ordinary variable.
	Vars map[string]any
	// Priority is ansible_group_priority as set in an inventory source
	// (default 1): it orders groups of equal depth when vars merge.
	Priority int
}

// Host is one inventory host with its resolved groups and variables.
// Callers must treat it as read-only: Inventory hands out the same pointer
// to every caller so hosts can be compared and deduplicated by identity.
type Host struct {
	// Name is the inventory name (inventory_hostname in Ansible).
	Name string
	// Groups lists every group the host belongs to, including "all" and
	// every ancestor of its direct groups, in variable-precedence order
	// (depth, then ansible_group_priority, then name): the order in which
	// their vars were merged. Ansible's group_names is GroupNames.
	Groups []string
	// Vars holds the merged variables, in Ansible's order, later winning:
	// inventory vars of "all", then of the other groups (parents before
	// children); group_vars/all, then group_vars/ of the other groups in
	// the same order; the host's inventory vars; host_vars/. Within a
	// level a later inventory source wins. Merging is shallow (Ansible's
	// hash_behaviour=replace). A group's ansible_group_priority orders the
	// merge and is not copied here.
	Vars map[string]any

	own      map[string]any   // vars set on the host in inventory sources
	fileVars []map[string]any // host_vars/ per variable directory
	direct   []*group         // groups the host is listed under
}

// OwnVars returns the variables set on the host itself: in inventory
// sources, overridden by host_vars/ files (Ansible's --export view).
func (h *Host) OwnVars() map[string]any {
	out := map[string]any{}
	for k, v := range h.own {
		out[k] = deepCopy(v)
	}
	for _, m := range h.fileVars {
		for k, v := range m {
			out[k] = deepCopy(v)
		}
	}
	return out
}

// GroupNames returns what Ansible calls group_names: the host's groups
// without "all", sorted by name.
func (h *Host) GroupNames() []string {
	out := make([]string, 0, len(h.Groups))
	for _, g := range h.Groups {
		if g != "all" {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return out
}

// group is a group while the inventory is being built.
type group struct {
	name     string
	vars     map[string]any   // set in inventory sources
	fileVars []map[string]any // group_vars/ per variable directory
	priority int
	parents  []*group
	children []*group
	hosts    []*Host // listed directly under the group, in order
	depth    int     // longest path from "all", set by finish
}

// builder accumulates the groups and hosts of every source given to Load.
type builder struct {
	groups    map[string]*group
	groupList []*group
	hosts     map[string]*Host
	hostList  []*Host
	varDirs   []string  // where to look for group_vars/ and host_vars/, one per source
	errs      diag.List // the sources' problems, all reported at the end
}

func newBuilder() *builder {
	b := &builder{groups: map[string]*group{}, hosts: map[string]*Host{}}
	b.addChild(b.group("all"), b.group("ungrouped"))
	return b
}

// group returns the named group, creating it on first use.
func (b *builder) group(name string) *group {
	g := b.groups[name]
	if g == nil {
		g = &group{name: name, vars: map[string]any{}, priority: 1}
		b.groups[name] = g
		b.groupList = append(b.groupList, g)
	}
	return g
}

// host returns the named host, creating it on first use, and lists it
// directly under g.
func (b *builder) host(g *group, name string) *Host {
	h := b.hosts[name]
	if h == nil {
		h = &Host{Name: name, own: map[string]any{}}
		b.hosts[name] = h
		b.hostList = append(b.hostList, h)
	}
	if !slices.Contains(h.direct, g) {
		h.direct = append(h.direct, g)
		g.hosts = append(g.hosts, h)
	}
	return h
}

// addChild makes child a child of parent. If that would make a group its
// own ancestor it changes nothing and returns the cycle, as group names
// from child back to child.
func (b *builder) addChild(parent, child *group) []string {
	if slices.Contains(parent.children, child) {
		return nil
	}
	if path := descend(child, parent); path != nil {
		return append(path, child.name)
	}
	parent.children = append(parent.children, child)
	child.parents = append(child.parents, parent)
	return nil
}

// descend returns the names on a path from g down to target, or nil.
func descend(g, target *group) []string {
	if g == target {
		return []string{g.name}
	}
	for _, c := range g.children {
		if p := descend(c, target); p != nil {
			return append([]string{g.name}, p...)
		}
	}
	return nil
}

// finish resolves membership, depth and variables into an Inventory.
func (b *builder) finish() *Inventory {
	all, ungrouped := b.groups["all"], b.groups["ungrouped"]
	for _, g := range b.groupList {
		if g != all && len(g.parents) == 0 {
			b.addChild(all, g)
		}
	}
	// Ansible's reconcile_inventory: a host listed only under all goes to
	// ungrouped; one listed under ungrouped and elsewhere leaves it.
	for _, h := range b.hostList {
		closure := ancestors(h.direct)
		others := len(closure) - boolInt(closure[all]) - boolInt(closure[ungrouped])
		if others > 0 {
			h.direct = slices.DeleteFunc(h.direct, func(g *group) bool { return g == ungrouped })
			ungrouped.hosts = slices.DeleteFunc(ungrouped.hosts, func(x *Host) bool { return x == h })
		} else if !closure[ungrouped] {
			h.direct = append(h.direct, ungrouped)
			ungrouped.hosts = append(ungrouped.hosts, h)
		}
	}
	for _, g := range b.groupList {
		setDepth(g)
	}
	inv := &Inventory{byName: map[string]*Host{}, members: map[string][]*Host{}, byGroup: map[string]*Group{}}
	for _, g := range b.groupList {
		inv.groups = append(inv.groups, g.name)
		inv.members[g.name] = nil
		inv.byGroup[g.name] = exportGroup(g)
	}
	for _, h := range b.hostList {
		resolve(h, ancestors(h.direct))
		inv.hosts = append(inv.hosts, h)
		inv.byName[h.Name] = h
		for _, g := range h.Groups {
			inv.members[g] = append(inv.members[g], h)
		}
	}
	if inv.byName["localhost"] == nil {
		inv.implicit = implicitLocalhost(all)
	}
	return inv
}

// exportGroup makes the read-only view of g.
func exportGroup(g *group) *Group {
	out := &Group{Name: g.name, Hosts: slices.Clone(g.hosts), Vars: map[string]any{}, Priority: g.priority}
	for _, c := range g.children {
		out.Children = append(out.Children, c.name)
	}
	for _, m := range append([]map[string]any{g.vars}, g.fileVars...) {
		for k, v := range m {
			out.Vars[k] = deepCopy(v)
		}
	}
	return out
}

// resolve sets h.Groups and h.Vars from the closure of its groups.
func resolve(h *Host, closure map[*group]bool) {
	gs := make([]*group, 0, len(closure))
	for g := range closure {
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(a, b *group) int {
		return cmp.Or(cmp.Compare(a.depth, b.depth), cmp.Compare(a.priority, b.priority), cmp.Compare(a.name, b.name))
	})
	h.Groups = make([]string, len(gs))
	h.Vars = map[string]any{}
	for i, g := range gs {
		h.Groups[i] = g.name
		merge(h.Vars, g.vars)
	}
	// Ansible's default VARIABLE_PRECEDENCE: all inventory group vars,
	// then group_vars/all from every source, then the other groups'
	// group_vars/ from every source; the host's own; host_vars/.
	for _, g := range gs {
		if g.name == "all" {
			for _, m := range g.fileVars {
				merge(h.Vars, m)
			}
		}
	}
	for d := range len(h.fileVars) {
		for _, g := range gs {
			if g.name != "all" {
				merge(h.Vars, g.fileVars[d])
			}
		}
	}
	merge(h.Vars, h.own)
	for _, m := range h.fileVars {
		merge(h.Vars, m)
	}
}

// merge copies src's variables into dst, replacing what is there.
func merge(dst, src map[string]any) {
	for k, v := range src {
		dst[k] = deepCopy(v)
	}
}

// implicitLocalhost is the host Ansible creates when a play names
// localhost and the inventory has none: the local connection, the vars of
// "all" (inventory and group_vars/all), and no group membership (it does
// not match "all").
func implicitLocalhost(all *group) *Host {
	h := &Host{Name: "localhost", Vars: map[string]any{}}
	merge(h.Vars, all.vars)
	for _, m := range all.fileVars {
		merge(h.Vars, m)
	}
	h.Vars["ansible_connection"] = "local"
	return h
}

// ancestors returns the groups in gs and all their ancestors.
func ancestors(gs []*group) map[*group]bool {
	seen := map[*group]bool{}
	var walk func(*group)
	walk = func(g *group) {
		if seen[g] {
			return
		}
		seen[g] = true
		for _, p := range g.parents {
			walk(p)
		}
	}
	for _, g := range gs {
		walk(g)
	}
	return seen
}

// setDepth computes a group's depth as Ansible does: the longest path from
// "all" (whose depth is 0). Cycles were refused when edges were added.
func setDepth(g *group) int {
	if g.depth == 0 && len(g.parents) > 0 {
		for _, p := range g.parents {
			g.depth = max(g.depth, setDepth(p)+1)
		}
	}
	return g.depth
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// deepCopy copies maps and lists so that hosts never share mutable values.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = deepCopy(e)
		}
		return m
	case *omap.Map:
		m := omap.New(v.Len())
		for _, k := range v.Keys() {
			e, _ := v.Get(k)
			m.Set(k, deepCopy(e))
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

// localhostNames are the pattern names that reach the implicit localhost.
var localhostNames = []string{"localhost", "127.0.0.1", "::1"}

// Implicit returns the inventory used when none is given: the single host
// "localhost" with ansible_connection=local, a member of "all" and
// "ungrouped", so that a play for "all" runs locally. (Ansible's own
// implicit localhost does not match "all"; tend's CLI documents that
// running without -i means the local machine.)
func Implicit() *Inventory {
	inv, _ := ImplicitWithPlaybookDirs() // reads no file: cannot fail
	return inv
}

// ImplicitWithPlaybookDirs is Implicit with the group_vars/ and
// host_vars/ found in playbookDirs (the playbook's directory) applied.
func ImplicitWithPlaybookDirs(playbookDirs ...string) (*Inventory, error) {
	b := newBuilder()
	h := b.host(b.group("all"), "localhost")
	h.own["ansible_connection"] = "local"
	b.varDirs = playbookDirs
	if err := b.loadVarDirs(); err != nil {
		return nil, err
	}
	return b.finish(), nil
}

// Hosts returns every host in inventory order: the order in which hosts
// first appear in the files, the first file first.
func (inv *Inventory) Hosts() []*Host {
	return slices.Clone(inv.hosts)
}

// Host returns the named host. For "localhost", "127.0.0.1" and "::1" it
// falls back, as Ansible does, to an implicit local host named "localhost"
// when the inventory lists no "localhost".
func (inv *Inventory) Host(name string) (*Host, bool) {
	if h, ok := inv.byName[name]; ok {
		return h, true
	}
	if inv.implicit != nil && slices.Contains(localhostNames, name) {
		return inv.implicit, true
	}
	return nil, false
}

// GroupNames returns every group name: "all", "ungrouped", then the others
// in order of first appearance.
func (inv *Inventory) GroupNames() []string {
	return slices.Clone(inv.groups)
}

// Group returns the named group.
func (inv *Inventory) Group(name string) (*Group, bool) {
	g, ok := inv.byGroup[name]
	return g, ok
}
