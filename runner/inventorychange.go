package runner

import (
	"fmt"

	"tend/inventory"
)

// add_host and group_by change the run's inventory as they run (as
// Ansible's in-memory inventory): the groups variable, hostvars and
// delegate_to see the change at once, and every later play selects its
// hosts from the changed inventory. A host add_host adds is reached like
// any other: over SSH its key must be known (known_hosts), strictly.

// currentInv is the inventory as add_host and group_by left it.
func (r *run) currentInv() *inventory.Inventory {
	if inv := r.live.Load(); inv != nil {
		return inv
	}
	return r.inv
}

// changeInventory applies what an add_host or group_by result asks for;
// host is the host the task ran for.
func (r *run) changeInventory(host string, data map[string]any) {
	if data["failed"] == true || data["skipped"] == true {
		return
	}
	r.invMu.Lock()
	defer r.invMu.Unlock()
	inv := r.currentInv()
	if inv == nil {
		return
	}
	if add, ok := data["add_host"].(map[string]any); ok {
		name := fmt.Sprint(add["host_name"])
		vars, _ := add["host_vars"].(map[string]any)
		r.live.Store(inv.WithHost(name, nameList(add["groups"]), vars))
		return
	}
	if g, ok := data["add_group"].(string); ok {
		r.live.Store(inv.WithGroup(host, g, nameList(data["parent_groups"])))
	}
}

// nameList is a []any of names as []string.
func nameList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		out = append(out, fmt.Sprint(x))
	}
	return out
}
