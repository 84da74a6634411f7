package main

import (
	"context"
	"os"
	"path/filepath"

	"tend/inventory"
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
// with group_vars/ and host_vars/ beside the playbook file too (not beside
// a shipped playbook), which win over the inventory's, as in Ansible.
func loadInventory(ctx context.Context, sources []string, playbookArg string) (*inventory.Inventory, error) {
	var dirs []string
	if _, err := os.Stat(playbookArg); err == nil { // as loadPlaybook decides
		dirs = []string{filepath.Dir(playbookArg)}
	}
	if len(sources) == 0 {
		return inventory.ImplicitWithPlaybookDirs(dirs...)
	}
	return inventory.LoadPlaybookContext(ctx, dirs, sources...)
}
