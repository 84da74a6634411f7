package yamlnode

import (
	"gopkg.in/yaml.v3"

	"tend/internal/diag"
)

// expandMerges replaces the merge keys (<<: *anchor, or a list of
// anchors) of every mapping under n by the keys they merge, in place, as
// PyYAML's SafeConstructor.flatten_mapping does for Ansible: a merged
// mapping's own merge keys first; of a list, the first mapping wins; the
// mapping's own keys win over every merged one. A key keeps the place of
// its first appearance and takes its last value, as the dict Ansible
// builds does; a key written twice in the mapping itself is left for
// CheckDuplicates to refuse. yaml.v3 merges only when decoding into Go
// values, not into the node trees tend reads. A merge value that is not a
// mapping or a list of mappings is an error at it, as PyYAML's.
func expandMerges(file string, n *yaml.Node) error {
	return (&merger{file: file, done: map[*yaml.Node]bool{}}).walk(n)
}

type merger struct {
	file string
	done map[*yaml.Node]bool // nodes walked (an anchored node once)
}

func (m *merger) walk(n *yaml.Node) error {
	n = Resolve(n)
	if n == nil || m.done[n] {
		return nil
	}
	m.done[n] = true
	if n.Kind == yaml.MappingNode {
		if err := m.flatten(n); err != nil {
			return err
		}
	}
	for _, c := range n.Content {
		if err := m.walk(c); err != nil {
			return err
		}
	}
	return nil
}

// flatten expands n's merge keys.
func (m *merger) flatten(n *yaml.Node) error {
	var merged, own []*yaml.Node // key, value pairs
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if rk := Resolve(k); rk.Kind != yaml.ScalarNode || rk.Tag != "!!merge" {
			own = append(own, k, v)
			continue
		}
		rv := Resolve(v)
		switch rv.Kind {
		case yaml.MappingNode:
			if err := m.walk(rv); err != nil {
				return err
			}
			merged = append(merged, rv.Content...)
		case yaml.SequenceNode:
			var subs [][]*yaml.Node
			for _, s := range rv.Content {
				rs := Resolve(s)
				if rs.Kind != yaml.MappingNode {
					return diag.Errorf(PosOf(m.file, rs), "<<", "a merge key (<<) needs a mapping or a list of mappings; this list holds %s", Describe(rs))
				}
				if err := m.walk(rs); err != nil {
					return err
				}
				subs = append(subs, rs.Content)
			}
			for i := len(subs) - 1; i >= 0; i-- { // the first listed wins
				merged = append(merged, subs[i]...)
			}
		default:
			return diag.Errorf(PosOf(m.file, rv), "<<", "a merge key (<<) needs a mapping or a list of mappings, not %s", Describe(rv))
		}
	}
	if len(merged) == 0 && len(own) == len(n.Content) {
		return nil
	}
	out := make([]*yaml.Node, 0, len(merged)+len(own))
	at := map[string]int{}         // a key's place in out
	fromMerge := map[string]bool{} // ... while a merged one holds it
	add := func(k, v *yaml.Node, merging bool) {
		rk := Resolve(k)
		if rk.Kind == yaml.ScalarNode {
			// Merged keys all come first, so a key already held by a
			// merged one is overridden (by a later merge or the
			// mapping's own); one the mapping wrote itself is a duplicate.
			if i, ok := at[rk.Value]; ok && fromMerge[rk.Value] {
				out[i], out[i+1] = k, v
				fromMerge[rk.Value] = merging
				return
			}
			at[rk.Value], fromMerge[rk.Value] = len(out), merging
		}
		out = append(out, k, v)
	}
	for i := 0; i+1 < len(merged); i += 2 {
		add(merged[i], merged[i+1], true)
	}
	for i := 0; i+1 < len(own); i += 2 {
		add(own[i], own[i+1], false)
	}
	n.Content = out
	return nil
}
