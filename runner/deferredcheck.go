package runner

import (
	"fmt"
	"maps"
	"strings"

	"tend/inventory"
	"tend/runner/playbook"
	"tend/runner/template"
)

// checkDeferred refuses, before any host is contacted, an include whose
// file name (read per host, playbook.Deferred) uses a variable no source
// can define: not known before the run, not its loop's, not a fact or
// magic variable, not an inventory variable of any host, not registered
// nor set by set_fact or include_vars anywhere in the playbook. The names
// after an include_vars read per host are left to the run: its files may
// define anything.
func checkDeferred(pb *playbook.Playbook, inv *inventory.Inventory, extra map[string]any) error {
	var all []*playbook.Task
	for _, p := range pb.Plays {
		all = append(all, playbook.Flatten(p.Tasks)...)
		all = append(all, playbook.Flatten(p.Handlers)...)
		all = append(all, playbook.Flatten(p.Verify)...)
	}
	maybe := map[string]any{}
	anyName := false // a set_fact whose name is a template may set any variable
	for _, t := range all {
		if t.Register != "" {
			maybe[t.Register] = "x"
		}
		for k := range t.IncludeVars {
			maybe[k] = "x"
		}
		if t.Module == "set_fact" && t.Args != nil {
			for i := 0; i+1 < len(t.Args.Content); i += 2 {
				name := t.Args.Content[i].Value
				maybe[name] = "x"
				anyName = anyName || strings.Contains(name, "{{") || strings.Contains(name, "{%")
			}
		}
	}
	if inv != nil {
		for _, h := range inv.Hosts() {
			for k := range h.Vars {
				maybe[k] = "x"
			}
		}
	}
	if anyName {
		return nil // left to the run, which names an undefined variable with its position
	}
	var errs playbook.Errors
	open := false // a per-host include_vars ran before: its files may define anything
	for _, t := range all {
		d := t.Deferred
		if d == nil || open || len(d.Names) != 1 { // first_found passes over undefined names
			open = open || (d != nil && t.Module == "include_vars")
			continue
		}
		open = t.Module == "include_vars"
		vars := maps.Clone(maybe)
		maps.Copy(vars, d.Known)
		maps.Copy(vars, extra)
		for _, v := range d.LoopVars {
			vars[v] = "x"
		}
		for _, v := range template.Vars(d.Names[0]) {
			if _, ok := vars[v]; !ok && runtimeName(v) {
				vars[v] = "x"
			}
		}
		_, err := template.Render(d.Names[0], vars)
		if err != nil && strings.Contains(err.Error(), "undefined variable") {
			errs = append(errs, &playbook.Error{Pos: d.Pos, Field: d.Field, Msg: fmt.Sprintf(
				"%q: %v: not known before the run, nor a fact, an inventory variable, a loop variable, or registered, set_fact or include_vars in the playbook", d.Names[0], err)})
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// runtimeName reports whether a variable is one the run itself defines:
// a fact (ansible_*), a magic variable.
func runtimeName(v string) bool {
	switch v {
	case "inventory_hostname", "inventory_hostname_short", "group_names", "groups", "hostvars",
		"play_hosts", "role_path", "role_name", "playbook_dir", "omit", "inventory_dir", "inventory_file":
		return true
	}
	return strings.HasPrefix(v, "ansible_")
}
