package main

import (
	"context"
	"os"
	"path/filepath"

	"tend/internal/ansiblecfg"
	"tend/inventory"
)

// rolesPath is where roles are looked for after roles/ beside the
// playbook: $TEND_ROLES_PATH (colon-separated), else Ansible's roles_path
// ($ANSIBLE_ROLES_PATH, else the roles_path of the ansible.cfg Ansible
// would read, else its default); and where that came from, for the
// "role not found" message.
func rolesPath(cfg ansiblecfg.Config) ([]string, string) {
	if v := os.Getenv("TEND_ROLES_PATH"); v != "" {
		return filepath.SplitList(v), "$TEND_ROLES_PATH"
	}
	return cfg.RolesPath(), cfg.RolesPathOrigin()
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
