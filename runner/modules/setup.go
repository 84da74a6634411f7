package modules

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// setupSpec gathers the host's facts in one read-only command: Ansible's
// setup. It runs in check mode too. Its result holds them under
// ansible_facts (named ansible_X); the runner stores them for the host.
var setupSpec = Spec{New: newSetup, RunsInCheckMode: true}

// factSubsets maps each gather_subset name to the facts it holds.
var factSubsets = map[string][]string{
	"min": {"hostname", "nodename", "fqdn", "domain", "kernel", "kernel_version", "system", "machine", "architecture",
		"distribution", "distribution_version", "distribution_major_version", "distribution_release", "os_family",
		"service_mgr", "pkg_mgr", "date_time", "env", "user_id", "user_uid", "user_gid"},
	"hardware": {"memtotal_mb", "memfree_mb", "swaptotal_mb", "swapfree_mb", "processor_vcpus", "processor_nproc", "mounts"},
	"network":  {"default_ipv4", "all_ipv4_addresses", "interfaces"},
	"virtual":  {"virtualization_type", "virtualization_role"},
	// Ansible's collectors of the min subset, by their own names.
	"platform":     {"hostname", "nodename", "fqdn", "domain", "kernel", "kernel_version", "system", "machine", "architecture"},
	"distribution": {"distribution", "distribution_version", "distribution_major_version", "distribution_release", "os_family"},
	"service_mgr":  {"service_mgr"}, "pkg_mgr": {"pkg_mgr"}, "date_time": {"date_time"}, "env": {"env"},
	"user": {"user_id", "user_uid", "user_gid"},
	// Ansible runs facter and ohai for these when the host has them; tend
	// runs neither, so they gather nothing, as Ansible on a host without.
	"facter": {}, "ohai": {},
}

func newSetup(a Args) (Module, error) {
	var subsets, filter []string
	if a.Node != nil && !(a.Node.Kind == yaml.ScalarNode && a.Node.Value == "") {
		if a.Node.Kind != yaml.MappingNode {
			return nil, posErr(a.File, a.Node, "setup", "want a mapping of arguments (gather_subset, filter)")
		}
		for i := 0; i+1 < len(a.Node.Content); i += 2 {
			k, v := a.Node.Content[i], a.Node.Content[i+1]
			switch k.Value {
			case "gather_subset":
				subsets = stringList(v)
			case "filter":
				filter = stringList(v)
			case "gather_timeout", "fact_path":
				// accepted: tend's one command has the task's timeout; no local facts
			default:
				return nil, posErr(a.File, k, "setup", "unknown argument %q (known: gather_subset, filter, gather_timeout, fact_path)", k.Value)
			}
		}
	}
	keep, err := subsetFacts(subsets)
	if err != nil {
		return nil, posErr(a.File, argValueNode(a.Node, "gather_subset"), "setup", "gather_subset: %v", err)
	}
	return &setupModule{keep: keep, filter: filter}, nil
}

// stringList reads a list of strings, or one comma-separated string.
func stringList(n *yaml.Node) []string {
	var out []string
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			out = append(out, c.Value)
		}
	case yaml.ScalarNode:
		for _, s := range strings.Split(n.Value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// setupModule is one setup task: which facts it keeps.
type setupModule struct {
	keep   map[string]bool
	filter []string
}

// subsetFacts resolves gather_subset as Ansible does: the default is all;
// "!name" excludes; "!all" leaves the min subset unless "!min" too.
func subsetFacts(subsets []string) (map[string]bool, error) {
	if len(subsets) == 0 {
		subsets = []string{"all"}
	}
	add, drop := map[string]bool{}, map[string]bool{}
	for _, s := range subsets {
		name, neg := strings.CutPrefix(strings.TrimSpace(s), "!")
		if _, ok := factSubsets[name]; !ok && name != "all" {
			if yamlnode.IsTemplateText(name) {
				continue
			}
			names := []string{"all"}
			for n := range factSubsets {
				names = append(names, n)
			}
			slices.Sort(names)
			return nil, fmt.Errorf("unknown subset %q (known: %s)", name, strings.Join(names, ", "))
		}
		if neg {
			drop[name] = true
		} else {
			add[name] = true
		}
	}
	keep := map[string]bool{}
	set := func(sub string, v bool) {
		if sub == "all" {
			for _, facts := range factSubsets {
				for _, f := range facts {
					keep[f] = v
				}
			}
			return
		}
		for _, f := range factSubsets[sub] {
			keep[f] = v
		}
	}
	if add["all"] || len(add) == 0 && !drop["all"] {
		set("all", true)
	}
	if !drop["min"] {
		set("min", true)
	}
	for sub := range add {
		set(sub, true)
	}
	for sub := range drop {
		if sub != "all" {
			set(sub, false)
		}
	}
	for k, v := range keep {
		if !v {
			delete(keep, k)
		}
	}
	return keep, nil
}

// Check runs FactsScript and returns the kept facts: nothing is changed.
func (m *setupModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", FactsScript, "tend-facts"}, MaxOutput: 4 << 20})
	if err != nil {
		return plan.Change{}, fmt.Errorf("setup: %w", err)
	}
	if len(res.Stdout) == 0 {
		return plan.Change{Action: plan.Read, Failed: true, Msg: "setup: the facts command printed nothing: " + strings.TrimSpace(string(res.Stderr))}, nil
	}
	facts := map[string]any{}
	for k, v := range ParseFacts(string(res.Stdout)) {
		if m.keep[k] && m.matches(k) {
			facts["ansible_"+k] = v
		}
	}
	return plan.Change{Action: plan.Read, Summary: fmt.Sprintf("%d facts gathered", len(facts)),
		Data: map[string]any{"ansible_facts": facts}}, nil
}

// matches applies filter: shell-style patterns on the fact's name, with or
// without its ansible_ prefix.
func (m *setupModule) matches(name string) bool {
	if len(m.filter) == 0 {
		return true
	}
	for _, p := range m.filter {
		if ok, _ := path.Match(p, "ansible_"+name); ok {
			return true
		}
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// Apply is never called: setup changes nothing.
func (m *setupModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	return planned, nil
}
