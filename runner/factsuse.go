package runner

import (
	"fmt"
	"strings"

	"tend/inventory"
	"tend/runner/playbook"
)

// A play that gathers facts by default — Ansible's default, no
// gather_facts written — gathers them only when the run could read one:
// fact gathering is a dozen programs on each host, a third of a short
// run's remote work, and nothing reads the facts of most remediation
// playbooks. The "Gathering Facts" task is still reported ok on every host
// (the recap is Ansible's), saying they were not gathered. A play with
// gather_facts: true gathers them whatever it reads.
//
// Whether the run could read a fact is decided before any host is
// contacted, conservatively (playbook.MentionsFacts): any file the playbook
// was read from, any inventory or -e value holding a template, mentions a
// fact name, hostvars, vars or a lookup; or the playbook has what reads
// files or names only known on the host: a template task, an include whose
// file name needs host data, the package module (it reads ansible_pkg_mgr).

// factsRead reports whether the run could read a gathered fact.
func factsRead(pb *playbook.Playbook, inv *inventory.Inventory, extra map[string]any) bool {
	for _, f := range pb.Files {
		if f.ReadsFacts {
			return true
		}
	}
	for _, p := range pb.Plays {
		for _, list := range [][]*playbook.Task{p.Tasks, p.Handlers, p.Verify} {
			for _, t := range playbook.Flatten(list) {
				if t.Deferred != nil || t.Module == "template" || t.Module == "package" || valueReadsFacts(t.IncludeVars) {
					return true
				}
			}
		}
	}
	if valueReadsFacts(extra) {
		return true
	}
	if inv != nil {
		for _, h := range inv.Hosts() {
			if valueReadsFacts(h.Vars) {
				return true
			}
		}
	}
	return false
}

// valueReadsFacts reports whether a string inside v, a decoded YAML or JSON
// value, is a template that could read a fact.
func valueReadsFacts(v any) bool {
	switch v := v.(type) {
	case nil, bool, int, int64, float64:
		return false
	case string:
		return isTemplate(v) && playbook.MentionsFacts(v)
	case map[string]any:
		for _, e := range v {
			if valueReadsFacts(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if valueReadsFacts(e) {
				return true
			}
		}
	default: // another container (an ordered mapping): its printed form
		s := fmt.Sprint(v)
		return isTemplate(s) && playbook.MentionsFacts(s)
	}
	return false
}

// isTemplate reports whether s holds a Jinja2 expression or statement.
func isTemplate(s string) bool { return strings.Contains(s, "{{") || strings.Contains(s, "{%") }

// skipsGather reports whether t is a play's implicit fact gathering that
// this run leaves out: gather_facts not written, and nothing reads a fact.
func (hp *hostPlay) skipsGather(t *playbook.Task) bool {
	return t.Field == "gather_facts" && t.Module == "setup" && hp.play.GatherFacts == nil && !hp.r.readsFacts
}
