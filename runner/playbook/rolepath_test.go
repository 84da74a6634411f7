package playbook

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Ansible's role lookup order: a collection role (NAMESPACE.COLLECTION.
// ROLE in the playbook's collections/, then CollectionsPath; a plain name
// from a collection's role in that collection first), then roles/ beside
// the playbook, the roles path, beside the role needing it, the
// playbook's directory.
func TestRoleLookupOrder(t *testing.T) {
	dir := t.TempDir()
	coll := "colls/ansible_collections/ns/coll/roles/"
	write(t, dir, map[string]string{
		"play/pb.yml":                   "- hosts: all\n  roles: [ns.coll.r, ns.coll.sub.s, b, ns.other.x]\n",
		coll + "r/tasks/main.yml":       "- name: r in the collection\n  command: echo\n",
		coll + "r/meta/main.yml":        "dependencies: [dep]\n",
		coll + "dep/tasks/main.yml":     "- name: dep in r's collection\n  command: echo\n",
		"play/roles/dep/tasks/main.yml": "- name: dep in the playbook's roles\n  command: echo\n",
		"play/collections/ansible_collections/ns/coll/roles/sub/s/tasks/main.yml": "- name: sub.s beside the playbook\n  command: echo\n",
		coll + "sub/s/tasks/main.yml":          "- name: sub.s in the collections path\n  command: echo\n",
		"vendor/b/tasks/main.yml":              "- name: b vendored\n  command: echo\n",
		"vendor/b/meta/main.yml":               "dependencies: [d]\n",
		"vendor/d/tasks/main.yml":              "- name: d beside b\n  command: echo\n",
		"shared/d/tasks/main.yml":              "- name: d in the roles path\n  command: echo\n",
		"play/roles/ns.other.x/tasks/main.yml": "- name: an FQCN not in a collection, in roles/\n  command: echo\n",
	})
	opts := reuseOpts
	opts.RolesPath = []string{filepath.Join(dir, "shared"), filepath.Join(dir, "vendor")}
	opts.CollectionsPath = []string{filepath.Join(dir, "colls")}
	pb, err := Load(filepath.Join(dir, "play", "pb.yml"), opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"dep in r's collection", "r in the collection", "sub.s beside the playbook",
		"d in the roles path", "b vendored", "an FQCN not in a collection, in roles/"}
	if got := taskNames(pb); !slices.Equal(got, want) {
		t.Errorf("tasks %q\nwant  %q", got, want)
	}
}

// A role not found is refused naming every place looked in and where the
// roles path came from.
func TestRoleNotFound(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"pb.yml": "- hosts: all\n  roles: [ns.coll.r]\n"})
	opts := reuseOpts
	opts.RolesPath, opts.RolesPathOrigin = []string{"/rp"}, "roles_path in /x/ansible.cfg"
	opts.CollectionsPath = []string{"/cp"}
	_, err := Load(filepath.Join(dir, "pb.yml"), opts)
	want := `roles[0]: role "ns.coll.r" not found (looked in ` + strings.Join([]string{
		dir + "/collections/ansible_collections/ns/coll/roles/r", "/cp/ansible_collections/ns/coll/roles/r",
		dir + "/roles/ns.coll.r", "/rp/ns.coll.r", dir + "/ns.coll.r"}, ", ") + "; the roles path is roles_path in /x/ansible.cfg)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// A task file named by a role's file is looked for as ansible-core's
// path_dwim_relative does for a role: its tasks/ (a handler's include:
// handlers/ first), the including file's directory, the role's root,
// then the playbook's tasks/ and directory.
func TestRoleIncludeLookup(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"pb.yml":                    "- hosts: all\n  roles: [r]\n  tasks:\n    - command: echo\n      notify: [h1, h2]\n",
		"roles/r/tasks/main.yml":    "- import_tasks: tasks/root.yml\n- import_tasks: pb.yml\n",
		"roles/r/tasks/root.yml":    "- name: root.yml from the role's root\n  command: echo\n",
		"roles/r/tasks/pb.yml":      "- name: pb.yml in the role's tasks\n  command: echo\n",
		"roles/r/handlers/main.yml": "- name: h1\n  include_tasks: x.yml\n- name: h2\n  include_tasks: tasks/root.yml\n",
		"roles/r/handlers/x.yml":    "- name: x.yml from handlers/\n  command: echo\n",
		"roles/r/tasks/x.yml":       "- name: x.yml from tasks/\n  command: echo\n",
	})
	pb, err := Load(filepath.Join(dir, "pb.yml"), reuseOpts)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range pb.Plays[0].Handlers {
		got = append(got, h.DisplayName())
	}
	if want := []string{"h1", "x.yml from handlers/", "h2", "root.yml from the role's root"}; !slices.Equal(got, want) {
		t.Errorf("handlers %q, want %q", got, want)
	}
	if got, want := taskNames(pb)[:2], []string{"root.yml from the role's root", "pb.yml in the role's tasks"}; !slices.Equal(got, want) {
		t.Errorf("tasks %q, want %q", got, want)
	}
}
