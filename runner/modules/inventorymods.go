package modules

import (
	"context"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/runner/plan"
	"tend/runner/transport"
)

// add_host and group_by touch no host: they change the run's in-memory
// inventory, which the runner does from their result (the shape of
// Ansible's: add_host: {host_name, groups, host_vars}; add_group,
// parent_groups). Both report changed, in check mode too, as Ansible's.
var (
	addHostSpec = Spec{New: newAddHost, RunsInCheckMode: true}
	groupBySpec = Spec{New: newGroupBy, RunsInCheckMode: true}
)

// hostPort is NAME:PORT in add_host's name.
var hostPort = regexp.MustCompile(`^([^:\[\]]+):([0-9]+)$`)

// inventoryChange is the result of add_host and group_by.
type inventoryChange struct {
	hostless
	summary string
	data    map[string]any
}

// Check returns the change for the runner to make.
func (m *inventoryChange) Check(_ context.Context, _ transport.Conn) (plan.Change, error) {
	return plan.Change{Action: plan.Update, Summary: m.summary, Data: m.data}, nil
}

func newAddHost(a Args) (Module, error) {
	if a.Node == nil || a.Node.Kind != yaml.MappingNode {
		return nil, posErr(a.File, a.Node, "add_host", "want a mapping: name, groups and the host's variables")
	}
	var name string
	groups := []any{}
	vars := map[string]any{}
	for i := 0; i+1 < len(a.Node.Content); i += 2 {
		k, v := a.Node.Content[i], a.Node.Content[i+1]
		switch k.Value {
		case "name", "host", "hostname":
			if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
				return nil, posErr(a.File, v, "add_host", "%s: want a host name", k.Value)
			}
			name = strings.TrimSpace(v.Value)
		case "groups", "group", "groupname":
			gs, err := groupList(a, v, "add_host", k.Value)
			if err != nil {
				return nil, err
			}
			for _, g := range gs {
				groups = append(groups, g)
			}
		default:
			if !identRE.MatchString(k.Value) {
				return nil, posErr(a.File, k, "add_host", "%q is not a valid variable name", k.Value)
			}
			var val any
			if err := v.Decode(&val); err != nil {
				return nil, posErr(a.File, v, "add_host", "%s: %v", k.Value, err)
			}
			vars[k.Value] = val
		}
	}
	if name == "" {
		return nil, posErr(a.File, a.Node, "add_host", "name is required")
	}
	if m := hostPort.FindStringSubmatch(name); m != nil {
		name = m[1]
		if _, set := vars["ansible_port"]; !set {
			vars["ansible_port"] = m[2]
		}
	}
	return &inventoryChange{summary: "add host " + name, data: map[string]any{
		"add_host": map[string]any{"host_name": name, "groups": groups, "host_vars": vars},
	}}, nil
}

func newGroupBy(a Args) (Module, error) {
	args, err := mapArgs(a, "group_by", "key", "parents")
	if err != nil {
		return nil, err
	}
	k := args["key"]
	if k == nil || k.Kind != yaml.ScalarNode || strings.TrimSpace(k.Value) == "" {
		return nil, posErr(a.File, a.Node, "group_by", "key is required: the group to put the host in")
	}
	key := strings.ReplaceAll(strings.TrimSpace(k.Value), " ", "-") // as Ansible's
	parents := []any{"all"}
	if p := args["parents"]; p != nil {
		gs, err := groupList(a, p, "group_by", "parents")
		if err != nil {
			return nil, err
		}
		parents = parents[:0]
		for _, g := range gs {
			parents = append(parents, strings.ReplaceAll(g, " ", "-"))
		}
	}
	return &inventoryChange{summary: "group " + key, data: map[string]any{
		"add_group": key, "parent_groups": parents,
	}}, nil
}

// groupList reads a group name, a comma-separated list, or a YAML list.
func groupList(a Args, v *yaml.Node, module, field string) ([]string, error) {
	var items []string
	switch v.Kind {
	case yaml.ScalarNode:
		items = strings.Split(v.Value, ",")
	case yaml.SequenceNode:
		for _, n := range v.Content {
			if n.Kind != yaml.ScalarNode {
				return nil, posErr(a.File, n, module, "%s: want group names", field)
			}
			items = append(items, n.Value)
		}
	default:
		return nil, posErr(a.File, v, module, "%s: want a group name or a list of them", field)
	}
	var out []string
	for _, g := range items {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, g)
		}
	}
	return out, nil
}
