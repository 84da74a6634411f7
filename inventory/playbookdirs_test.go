package inventory

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// group_vars/ and host_vars/ beside the playbook merge as Ansible's
// VARIABLE_PRECEDENCE has it: at each level (group_vars/all, other
// groups, host_vars) the playbook's win over the inventory's, and a more
// specific level of the inventory still beats a less specific one of the
// playbook. The implicit localhost gets them too.
func TestPlaybookVarDirs(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"inv/hosts":                "[web]\nh1 d=inv-host\n",
		"inv/group_vars/all.yml":   "a: inv-all\nb: inv-all\n",
		"inv/group_vars/web.yml":   "c: inv-web\ne: inv-web\n",
		"inv/host_vars/h1.yml":     "f: inv-host_vars\n",
		"play/group_vars/all.yml":  "a: play-all\ne: play-all\n",
		"play/group_vars/web.yml":  "c: play-web\n",
		"play/host_vars/h1.yml":    "d: play-host_vars\nf: play-host_vars\n",
		"play/host_vars/localhost": "g: play-localhost\n",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := LoadPlaybookContext(context.Background(), []string{filepath.Join(dir, "play")}, filepath.Join(dir, "inv", "hosts"))
	if err != nil {
		t.Fatal(err)
	}
	h, _ := inv.Host("h1")
	want := map[string]any{"a": "play-all", "b": "inv-all", "c": "play-web", "d": "play-host_vars", "e": "inv-web", "f": "play-host_vars"}
	for k, v := range want {
		if h.Vars[k] != v {
			t.Errorf("%s = %v, want %v", k, h.Vars[k], v)
		}
	}
	// The oracle: ansible-inventory --playbook-dir on the same files.
	if bin, err := exec.LookPath("ansible-inventory"); err == nil && !testing.Short() {
		out, err := exec.Command(bin, "-i", filepath.Join(dir, "inv", "hosts"), "--playbook-dir", filepath.Join(dir, "play"), "--host", "h1").Output()
		if err != nil {
			t.Fatalf("ansible-inventory: %v", err)
		}
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ansible-inventory says %v (%v), tend's test wants %v", got, err, want)
		}
	}
	imp, err := ImplicitWithPlaybookDirs(filepath.Join(dir, "play"))
	if err != nil {
		t.Fatal(err)
	}
	lh, _ := imp.Host("localhost")
	if lh.Vars["a"] != "play-all" || lh.Vars["g"] != "play-localhost" || lh.Vars["ansible_connection"] != "local" {
		t.Errorf("implicit localhost vars %v", lh.Vars)
	}
}
