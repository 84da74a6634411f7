package ansiblecfg

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestLoadPrecedence: the configuration file is ANSIBLE_CONFIG's (a file,
// or a directory's ansible.cfg), else ./ansible.cfg, else
// ~/.ansible.cfg; roles_path is $ANSIBLE_ROLES_PATH over the file's, its
// relative entries from the file's directory (the environment's from the
// working directory), an empty variable meaning the default.
func TestLoadPrecedence(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("cwd/ansible.cfg", "[defaults]\nroles_path = ../shared/roles:~/r ; a comment\n[galaxy]\nroles_path = /no\n")
	write("env/ansible.cfg", "# x\n[defaults]\nROLES_PATH: /env/roles\ncollections_path = colls\n")
	write("home/.ansible.cfg", "[defaults]\nroles_path = /home/roles\n")
	t.Setenv("HOME", filepath.Join(dir, "home"))
	for _, k := range []string{"ANSIBLE_CONFIG", "ANSIBLE_ROLES_PATH", "ANSIBLE_HOME", "ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
	t.Chdir(filepath.Join(dir, "cwd"))

	c := Load()
	if want := filepath.Join(dir, "cwd/ansible.cfg"); c.File != want {
		t.Errorf("file %q, want %q", c.File, want)
	}
	if got, want := c.RolesPath(), []string{filepath.Join(dir, "shared/roles"), filepath.Join(dir, "home/r")}; !reflect.DeepEqual(got, want) {
		t.Errorf("roles_path %q, want %q", got, want)
	}
	if got, want := c.CollectionsPath(), []string{filepath.Join(dir, "home/.ansible/collections"), "/usr/share/ansible/collections"}; !reflect.DeepEqual(got, want) {
		t.Errorf("default collections_path %q, want %q", got, want)
	}

	t.Setenv("ANSIBLE_ROLES_PATH", "rel:/abs")
	if got, want := Load().RolesPath(), []string{filepath.Join(dir, "cwd/rel"), "/abs"}; !reflect.DeepEqual(got, want) {
		t.Errorf("env roles_path %q, want %q", got, want)
	}
	t.Setenv("ANSIBLE_ROLES_PATH", "")
	if got, want := Load().RolesPath(), []string{filepath.Join(dir, "home/.ansible/roles"), "/usr/share/ansible/roles", "/etc/ansible/roles"}; !reflect.DeepEqual(got, want) {
		t.Errorf("empty env roles_path %q, want the default %q", got, want)
	}
	os.Unsetenv("ANSIBLE_ROLES_PATH")

	t.Setenv("ANSIBLE_CONFIG", filepath.Join(dir, "env"))
	c = Load()
	if got, want := c.RolesPath(), []string{"/env/roles"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ANSIBLE_CONFIG dir: roles_path %q, want %q", got, want)
	}
	if got, want := c.CollectionsPath(), []string{filepath.Join(dir, "env/colls")}; !reflect.DeepEqual(got, want) {
		t.Errorf("collections_path %q, want %q", got, want)
	}

	os.Unsetenv("ANSIBLE_CONFIG")
	t.Chdir(dir) // no ansible.cfg here
	if got := Load().File; got != filepath.Join(dir, "home/.ansible.cfg") {
		t.Errorf("file %q, want ~/.ansible.cfg", got)
	}
}
