package runner

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"gopkg.in/yaml.v3"

	"tend/internal/omap"
	"tend/inventory"
	"tend/runner/playbook"
	"tend/runner/template"
)

// OmitToken is the value of the omit variable: a module argument whose
// rendered value is exactly it is dropped, as if not given.
const OmitToken = "__omit_place_holder__tend"

// magic is the run-wide state behind the magic variables. Hosts run in
// parallel: what one host's task sets (facts, registered results, a
// failure) is written under varsMu and read by others under it.
type magic struct {
	varsMu sync.RWMutex
	// facts holds each host's gathered facts, without the ansible_ prefix.
	facts map[string]map[string]any
	// delegatedVars holds, per host, the set_fact variables delegated
	// tasks of other hosts gave it (delegate_facts: true).
	delegatedVars map[string]map[string]any
	// down lists hosts that failed or became unreachable.
	down map[string]bool
	// playHosts are the current play's hosts (written before its hosts start).
	playHosts []string
	// lists caches the magic variables that list play and batch hosts
	// (magiclists.go).
	lists hostLists

	// live is the inventory as add_host and group_by changed it (nil:
	// unchanged); invMu orders the changes (inventorychange.go).
	live  atomic.Pointer[inventory.Inventory]
	invMu sync.Mutex
	// groups caches the groups variable of the inventory groupsOf.
	groupsMu sync.Mutex
	groups   map[string]any
	groupsOf *inventory.Inventory
	// cleared lists the failed hosts meta: clear_host_errors revives for
	// the next play; endedPlays the plays meta: end_play ended.
	cleared    map[string]bool
	endedPlays sync.Map
	// mentions caches, per task, whether its scope needs hostvars.
	mentions sync.Map
}

// markDown records that the host failed or became unreachable.
func (r *run) markDown(host string) {
	r.varsMu.Lock()
	defer r.varsMu.Unlock()
	if !r.down[host] {
		r.down[host] = true
		r.lists.downChanged()
	}
}

// liveOf lists the names not marked down (a shared list: read it, do not
// change it).
func (r *run) liveOf(names []string) []any {
	r.varsMu.RLock()
	defer r.varsMu.RUnlock()
	return r.lists.liveOf(names, func(n string) bool { return r.down[n] })
}

// groupVars is the groups variable: every group's hosts, by name.
func (r *run) groupVars() map[string]any {
	inv := r.currentInv()
	r.groupsMu.Lock()
	defer r.groupsMu.Unlock()
	if r.groups == nil || r.groupsOf != inv {
		r.groups, r.groupsOf = map[string]any{}, inv
		if inv == nil {
			return r.groups
		}
		for _, g := range inv.GroupNames() {
			hosts, _, err := inv.Select(g)
			names := make([]any, 0, len(hosts))
			if err == nil {
				for _, h := range hosts {
					names = append(names, h.Name)
				}
			}
			r.groups[g] = names
		}
	}
	return r.groups
}

// addMagic sets the magic variables Ansible users expect in v.
func (hp *hostPlay) addMagic(v map[string]any, t *playbook.Task) {
	r, name := hp.r, hp.s.host.Name
	short, _, _ := strings.Cut(name, ".")
	v["inventory_hostname"], v["inventory_hostname_short"] = name, short
	groupNames := hp.s.host.GroupNames()
	if h, ok := r.currentInv().Host(name); ok && r.live.Load() != nil { // group_by may have changed them
		groupNames = h.GroupNames()
	}
	gn := make([]any, len(groupNames))
	for i, g := range groupNames {
		gn[i] = g
	}
	v["group_names"] = gn
	v["groups"] = r.groupVars()
	v["ansible_play_hosts_all"] = r.lists.allOf(r.playHosts)
	v["ansible_play_hosts"] = r.liveOf(r.playHosts)
	v["play_hosts"] = v["ansible_play_hosts"]
	v["ansible_play_batch"] = r.liveOf(hp.b.names)
	v["ansible_play_name"] = hp.play.Name
	if r.opts.Limit != "" {
		v["ansible_limit"] = r.opts.Limit
	}
	v["ansible_check_mode"] = r.opts.Check
	v["ansible_verbosity"] = r.opts.Verbosity
	v["ansible_run_tags"] = anyList(r.opts.Tags, "all")
	v["ansible_skip_tags"] = anyList(r.opts.SkipTags)
	pbDir := ""
	if r.pb.File != "" {
		if abs, err := filepath.Abs(filepath.Dir(r.pb.File)); err == nil {
			v["playbook_dir"], pbDir = abs, abs
		}
	}
	v[template.SearchPathVar] = searchPath(t, pbDir)
	v["omit"] = OmitToken
	if hp.needsHostvars(t) {
		v["hostvars"] = r.hostvars()
	}
}

// anyList is ss as a template list, or def when ss is empty.
func anyList(ss []string, def ...string) []any {
	if len(ss) == 0 {
		ss = def
	}
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// hostvars is every inventory host's variables as this moment knows them:
// inventory variables, gathered facts, registered results and set_fact
// variables. Built only for tasks that mention hostvars (it costs a copy
// per host).
func (r *run) hostvars() map[string]any {
	out := map[string]any{}
	inv := r.currentInv()
	if inv == nil {
		return out
	}
	r.mu.Lock()
	states := maps.Clone(r.hosts)
	r.mu.Unlock()
	r.varsMu.RLock()
	defer r.varsMu.RUnlock()
	for _, h := range inv.Hosts() {
		hv := maps.Clone(h.Vars)
		if hv == nil {
			hv = map[string]any{}
		}
		facts := maps.Clone(r.facts[h.Name])
		if facts == nil {
			facts = map[string]any{}
		}
		injectFacts(hv, facts)
		maps.Copy(hv, r.delegatedVars[h.Name])
		if s := states[h.Name]; s != nil {
			maps.Copy(hv, s.registered)
		}
		maps.Copy(hv, r.opts.ExtraVars)
		short, _, _ := strings.Cut(h.Name, ".")
		hv["inventory_hostname"], hv["inventory_hostname_short"] = h.Name, short
		hv["group_names"] = anyList(h.GroupNames())
		out[h.Name] = hv
	}
	return out
}

// needsHostvars reports whether the task, or the play and extra
// variables it sees, mention hostvars (cached per task).
func (hp *hostPlay) needsHostvars(t *playbook.Task) bool {
	if t == nil {
		return false // the engine's own lookups (tend_state_dir, become) read no hostvars
	}
	if v, ok := hp.r.mentions.Load(t); ok {
		return v.(bool)
	}
	const word = "hostvars"
	found := taskMentions(t, word) || strings.Contains(t.Name, word) || mentionsAny(hp.play.Vars, word) ||
		mentionsAny(hp.play.Defaults, word) || mentionsAny(hp.r.opts.ExtraVars, word) || mentionsAny(hp.s.host.Vars, word)
	hp.r.mentions.Store(t, found)
	return found
}

func mentionsNode(n *yaml.Node, word string) bool {
	if n == nil {
		return false
	}
	if strings.Contains(n.Value, word) {
		return true
	}
	for _, c := range n.Content {
		if mentionsNode(c, word) {
			return true
		}
	}
	return false
}

func mentionsAny(v any, word string) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, word)
	case map[string]any, *omap.Map:
		m, _ := omap.AsMap(x)
		for _, e := range m {
			if mentionsAny(e, word) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if mentionsAny(e, word) {
				return true
			}
		}
	}
	return false
}

// dropOmitted removes the mapping entries whose value rendered to omit.
func dropOmitted(n *yaml.Node) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return n
	}
	var keep []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if v := n.Content[i+1]; v.Kind == yaml.ScalarNode && v.Value == OmitToken {
			continue
		}
		keep = append(keep, n.Content[i], n.Content[i+1])
	}
	if len(keep) == len(n.Content) {
		return n
	}
	c := *n
	c.Content = keep
	return &c
}

// playMentions reports whether any task or handler of the play, or its
// variables, mention word.
func playMentions(p *playbook.Play, word string) bool {
	if mentionsAny(p.Vars, word) || mentionsAny(p.Defaults, word) {
		return true
	}
	for _, list := range [][]*playbook.Task{p.Tasks, p.Handlers, p.Verify} {
		for _, t := range playbook.Flatten(list) {
			if taskMentions(t, word) {
				return true
			}
		}
	}
	return false
}

// taskMentions reports whether the task's arguments, conditions or
// variables mention word.
func taskMentions(t *playbook.Task, word string) bool {
	if mentionsNode(t.Args, word) || mentionsAny(t.Vars, word) {
		return true
	}
	for _, l := range [][]string{t.When, t.ChangedWhen, t.FailedWhen, t.Until} {
		for _, s := range l {
			if strings.Contains(s, word) {
				return true
			}
		}
	}
	return false
}

// playSteers reports whether the play has a meta task acting on every
// host (end_play, clear_host_errors): its hosts then run in lockstep, so
// that every host finishes the tasks before it, as with Ansible's linear
// strategy, and none runs a task after an end_play.
func playSteers(p *playbook.Play) bool {
	for _, t := range playbook.Flatten(p.Tasks) {
		if t.Module == "meta" && t.Args != nil && (t.Args.Value == "end_play" || t.Args.Value == "clear_host_errors") {
			return true
		}
	}
	return false
}

// searchPath is Ansible's ansible_search_path for task t (Task.
// get_search_path): its role's directory and those of the roles it was
// loaded from (a role's task), the directory of the file the task is
// written in, then the playbook's directory. The file and first_found
// lookups and the source files of copy, template and unarchive are looked
// for along it (searchpath.Stack).
func searchPath(t *playbook.Task, pbDir string) []any {
	var out []any
	add := func(d string) {
		if d != "" && !slices.Contains(out, any(d)) {
			out = append(out, d)
		}
	}
	if t != nil {
		for _, d := range t.RoleDirs {
			add(d)
		}
		if t.Pos.File != "" {
			if abs, err := filepath.Abs(filepath.Dir(t.Pos.File)); err == nil {
				add(abs)
			}
		}
	}
	add(pbDir)
	return out
}
