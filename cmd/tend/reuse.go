package main

import (
	"context"
	"os"
	"path/filepath"

	"tend/inventory"
	"tend/runner/playbook"
)

// rolesPath is where roles are looked for after roles/ beside the
// playbook: $TEND_ROLES_PATH, else $ANSIBLE_ROLES_PATH (colon-separated).
func rolesPath() []string {
	v := os.Getenv("TEND_ROLES_PATH")
	if v == "" {
		v = os.Getenv("ANSIBLE_ROLES_PATH")
	}
	if v == "" {
		return nil
	}
	return filepath.SplitList(v)
}

// loadInventory loads the inventory sources (none: the implicit localhost)
// with group_vars/ and host_vars/ beside the playbook too, which win over
// the inventory's, as in Ansible.
func loadInventory(ctx context.Context, sources []string, pb *playbook.Playbook) (*inventory.Inventory, error) {
	var dirs []string
	if len(pb.Files) > 0 { // a playbook file, not a shipped one
		if _, err := os.Stat(pb.File); err == nil {
			dirs = []string{filepath.Dir(pb.File)}
		}
	}
	if len(sources) == 0 {
		return inventory.ImplicitWithPlaybookDirs(dirs...)
	}
	return inventory.LoadPlaybookContext(ctx, dirs, sources...)
}
