package runner

import (
	"maps"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/runner/playbook"
)

// Facts: a play gathers them first unless it says gather_facts: false (as
// Ansible), with the setup module's one command; setup and set_fact
// results are stored for the host as they are registered — or, for a
// delegated task with delegate_facts: true, for its delegate.

// gatherTask is the implicit first task of a play that gathers facts.
func gatherTask(p *playbook.Play) *playbook.Task {
	t := &playbook.Task{Pos: p.Pos, ModulePos: p.Pos, Name: "Gathering Facts", Module: "setup", Field: "gather_facts", Tags: []string{"always"}}
	if p.GatherSubset != nil {
		key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "gather_subset", Line: p.GatherSubset.Line, Column: p.GatherSubset.Column}
		t.Args = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{key, p.GatherSubset}, Line: p.GatherSubset.Line, Column: p.GatherSubset.Column}
	}
	return t
}

// withGather prepends the fact-gathering task when the play gathers facts
// and runs any task.
func withGather(p *playbook.Play, tasks []*playbook.Task) []*playbook.Task {
	if (p.GatherFacts != nil && !*p.GatherFacts) || len(tasks) == 0 {
		return tasks
	}
	return append([]*playbook.Task{gatherTask(p)}, tasks...)
}

// factModules are the modules whose result's ansible_facts the host keeps
// as facts (set_fact's are variables).
var factModules = map[string]bool{"setup": true, "package_facts": true, "service_facts": true}

// plainFacts are the facts whose names have no ansible_ prefix (those of
// package_facts and service_facts): Ansible injects a fact as a variable
// under the name the module gave it, so these are the variables
// `packages` and `services`, never ansible_packages.
var plainFacts = map[string]bool{"packages": true, "services": true}

// injectFacts puts facts into v as variables: ansible_X, or a plain
// fact's own name (Ansible's inject_facts_as_vars), and as ansible_facts.
func injectFacts(v, facts map[string]any) {
	for k, x := range facts {
		if plainFacts[k] {
			v[k] = x
		} else {
			v["ansible_"+k] = x
		}
	}
	v["ansible_facts"] = facts
}

// absorb stores what a setup, package_facts, service_facts or set_fact
// result sets for the host (or, with delegate_facts, for hp.factsFor):
// the facts (ansible_facts, named without their ansible_ prefix) and set_fact's variables (at the
// precedence of registered results, as Ansible's non-cacheable set_fact).
// The caller holds r.varsMu.
func (hp *hostPlay) absorb(t *playbook.Task, data map[string]any) {
	if t.Module == "add_host" || t.Module == "group_by" {
		hp.r.changeInventory(hp.s.host.Name, data) // inventorychange.go
		return
	}
	set, _ := data["ansible_facts"].(map[string]any)
	if set == nil || data["failed"] == true || data["skipped"] == true {
		return
	}
	host := hp.s.host.Name
	if hp.factsFor != "" {
		host = hp.factsFor
	}
	switch t.Module {
	case "set_fact":
		if host == hp.s.host.Name {
			maps.Copy(hp.s.registered, set)
			return
		}
		vars := hp.r.delegatedVars[host]
		if vars == nil {
			vars = map[string]any{}
			hp.r.delegatedVars[host] = vars
		}
		maps.Copy(vars, set)
	case "setup", "package_facts", "service_facts":
		facts := hp.r.facts[host]
		if facts == nil {
			facts = map[string]any{}
			hp.r.facts[host] = facts
		}
		for k, v := range set {
			facts[strings.TrimPrefix(k, "ansible_")] = v
		}
	}
}

// addFacts puts the host's facts into v, as ansible_facts and as
// ansible_X (Ansible's inject_facts_as_vars), and the set_fact variables
// other hosts' delegated tasks gave it.
func (hp *hostPlay) addFacts(v map[string]any) {
	hp.r.varsMu.RLock()
	defer hp.r.varsMu.RUnlock()
	facts := maps.Clone(hp.r.facts[hp.s.host.Name])
	if facts == nil {
		facts = map[string]any{}
	}
	injectFacts(v, facts)
}

// addDelegatedVars puts into v the set_fact variables other hosts'
// delegated tasks gave this host (delegate_facts: true).
func (hp *hostPlay) addDelegatedVars(v map[string]any) {
	hp.r.varsMu.RLock()
	defer hp.r.varsMu.RUnlock()
	maps.Copy(v, hp.r.delegatedVars[hp.s.host.Name])
}
