package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"tend/internal/omap"
	"tend/inventory"
)

// inventoryFlags are the flags of `tend inventory`; names follow
// ansible-inventory.
type inventoryFlags struct {
	inventories []string
	list, graph bool
	host        string
	limit       string
	export      bool
}

func newInventoryFlags() (*pflag.FlagSet, *inventoryFlags) {
	f := &inventoryFlags{}
	fs := pflag.NewFlagSet("inventory", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringArrayVarP(&f.inventories, "inventory", "i", nil, "inventory source: YAML or INI file, executable script, directory, or host,list; repeatable. Without it: localhost")
	fs.BoolVar(&f.list, "list", false, "print every group and host with merged variables, as ansible-inventory --list (JSON)")
	fs.BoolVar(&f.graph, "graph", false, "print the group tree, as ansible-inventory --graph; an argument starts it at that group")
	fs.StringVar(&f.host, "host", "", "print the merged variables of one host (JSON)")
	fs.StringVarP(&f.limit, "limit", "l", "", "show only the hosts this pattern selects (Ansible --limit syntax, @FILE included)")
	fs.BoolVar(&f.export, "export", false, "with --list: group vars under their groups and only each host's own vars in _meta, as ansible-inventory --export")
	return fs, f
}

const inventoryUsage = "Usage: tend inventory [-i INV]... (--list [--export] | --graph [GROUP] | --host HOST) [--limit PATTERN]\n\n" +
	"Shows what tend resolved from the inventory: the same hosts, groups and variables\nansible-inventory shows.\n\nFlags:\n"

// runInventory implements `tend inventory`.
func runInventory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newInventoryFlags()
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, inventoryUsage+fs.FlagUsages())
			return nil
		}
		return badInput(fmt.Errorf("inventory: %w (see tend inventory --help)", err))
	}
	actions := 0
	for _, on := range []bool{f.list, f.graph, f.host != ""} {
		if on {
			actions++
		}
	}
	if actions != 1 {
		return badInput(errors.New("inventory: give exactly one of --list, --graph or --host (see tend inventory --help)"))
	}
	if fs.NArg() > 1 || fs.NArg() == 1 && !f.graph {
		return badInput(fmt.Errorf("inventory: unexpected argument %q", fs.Arg(fs.NArg()-1)))
	}
	inv := inventory.Implicit()
	if len(f.inventories) > 0 {
		var err error
		if inv, err = inventory.LoadContext(ctx, f.inventories...); err != nil {
			return badInput(err)
		}
	}
	shown := map[*inventory.Host]bool{}
	hosts := inv.Hosts()
	if f.limit != "" {
		var unmatched []string
		var err error
		if hosts, unmatched, err = inv.SelectLimit(f.limit); err != nil {
			return badInput(err)
		}
		for _, t := range unmatched {
			fmt.Fprintf(stderr, "tend: warning: --limit term %q matches no host\n", t)
		}
	}
	for _, h := range hosts {
		shown[h] = true
	}
	switch {
	case f.list:
		return writeJSON(stdout, listInventory(inv, shown, f.export))
	case f.graph:
		start := "all"
		if fs.NArg() == 1 {
			start = fs.Arg(0)
		}
		g, ok := inv.Group(start)
		if !ok {
			return badInput(fmt.Errorf("inventory: --graph %s: no such group", start))
		}
		var b strings.Builder
		graphGroup(&b, inv, g, 0, shown, f.limit != "")
		_, err := io.WriteString(stdout, b.String())
		return err
	}
	sel, _, err := inv.Select(f.host)
	if err != nil {
		return badInput(err)
	}
	match := sel
	if f.limit != "" {
		match = nil
		for _, h := range sel {
			if shown[h] {
				match = append(match, h)
			}
		}
	}
	if len(match) != 1 {
		return badInput(fmt.Errorf("inventory: --host %s: matches %d hosts; want exactly one", f.host, len(match)))
	}
	if f.export {
		return writeJSON(stdout, match[0].OwnVars())
	}
	return writeJSON(stdout, match[0].Vars)
}

// listInventory builds ansible-inventory --list's JSON: each group with its
// direct hosts (none shown for "all"), children and, with export, vars;
// empty groups left out; _meta.hostvars with each shown host's variables.
func listInventory(inv *inventory.Inventory, shown map[*inventory.Host]bool, export bool) map[string]any {
	out := map[string]any{}
	seen := map[string]bool{}
	var format func(g *inventory.Group)
	format = func(g *inventory.Group) {
		entry := map[string]any{}
		if g.Name != "all" {
			var hs []string
			for _, h := range g.Hosts {
				if shown[h] {
					hs = append(hs, h.Name)
				}
			}
			if len(hs) > 0 {
				entry["hosts"] = hs
			}
		}
		if len(g.Children) > 0 {
			entry["children"] = g.Children
		}
		if export {
			vars := map[string]any{}
			for k, v := range g.Vars {
				vars[k] = v
			}
			if g.Priority != 1 {
				vars["ansible_group_priority"] = g.Priority
			}
			if len(vars) > 0 {
				entry["vars"] = vars
			}
		}
		if len(entry) > 0 {
			out[g.Name] = entry
		}
		for _, c := range g.Children {
			if !seen[c] {
				seen[c] = true
				cg, _ := inv.Group(c)
				format(cg)
			}
		}
	}
	all, _ := inv.Group("all")
	format(all)
	hostvars := map[string]any{}
	for _, h := range inv.Hosts() {
		vars := h.Vars
		if export {
			vars = h.OwnVars()
		}
		if shown[h] && len(vars) > 0 {
			hostvars[h.Name] = vars
		}
	}
	out["_meta"] = map[string]any{"hostvars": hostvars}
	return out
}

// graphGroup writes ansible-inventory --graph's tree under g. With a
// limit, groups holding none of the shown hosts are left out.
func graphGroup(b *strings.Builder, inv *inventory.Inventory, g *inventory.Group, depth int, shown map[*inventory.Host]bool, limited bool) {
	line := func(s string, depth int) {
		if depth > 0 {
			s = strings.Repeat("  |", depth) + "--" + s
		}
		b.WriteString(s + "\n")
	}
	line("@"+g.Name+":", depth)
	for _, c := range g.Children {
		cg, _ := inv.Group(c)
		if !limited || holdsShown(inv, cg, shown) {
			graphGroup(b, inv, cg, depth+1, shown, limited)
		}
	}
	if g.Name == "all" {
		return
	}
	for _, h := range g.Hosts {
		if shown[h] {
			line(h.Name, depth+1)
		}
	}
}

// holdsShown reports whether g or a descendant lists a shown host.
func holdsShown(inv *inventory.Inventory, g *inventory.Group, shown map[*inventory.Host]bool) bool {
	for _, h := range g.Hosts {
		if shown[h] {
			return true
		}
	}
	for _, c := range g.Children {
		if cg, _ := inv.Group(c); holdsShown(inv, cg, shown) {
			return true
		}
	}
	return false
}

// writeJSON prints v as ansible-inventory does: keys sorted (a variable's
// mapping too, whatever its written order), indented by four spaces,
// non-ASCII and <>& unescaped.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	return enc.Encode(omap.Plain(v))
}
