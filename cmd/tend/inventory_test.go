package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// ansibleOnlyKeys are variables ansible-inventory could show that tend
// does not model; the oracle comparison drops them from both sides.
var ansibleOnlyKeys = []string{"ansible_python_interpreter", "inventory_file", "inventory_dir", "playbook_dir", "groups", "group_names", "omit"}

// TestInventoryOracle runs `tend inventory` and `ansible-inventory` on
// the same sources and compares: --list and --list --export as parsed
// JSON (groups, their hosts and children in order, vars), --graph and
// --host byte for byte.
func TestInventoryOracle(t *testing.T) {
	bin, err := exec.LookPath("ansible-inventory")
	if err != nil {
		t.Skip("ansible-inventory not installed; oracle comparison skipped")
	}
	td := "../../inventory/testdata/"
	for _, tc := range []struct {
		sources []string
		host    string
	}{
		{[]string{td + "ini/hosts"}, "web3.example.com"},
		{[]string{td + "dir"}, "vm-1"},
		{[]string{td + "scripts/nometa.sh"}, "d1"},
		{[]string{td + "site.yml", td + "override.yml"}, "web2.example.com"},
		{[]string{td + "ini/hosts", td + "dir", td + "types.yml"}, "app01.example.com"},
	} {
		t.Run(strings.Join(tc.sources, "+"), func(t *testing.T) {
			t.Parallel()
			var src []string
			for _, s := range tc.sources {
				src = append(src, "-i", s)
			}
			for _, action := range [][]string{{"--list"}, {"--list", "--export"}, {"--graph"}, {"--graph", "prod"}, {"--host", tc.host}} {
				if action[0] == "--graph" && len(action) == 2 && !strings.Contains(tc.sources[0], "ini") {
					continue
				}
				args := append(append([]string{}, src...), action...)
				cmd := exec.Command(bin, args...)
				cmd.Env = oracleEnv(t)
				var oerr bytes.Buffer
				cmd.Stderr = &oerr
				want, err := cmd.Output()
				if err != nil {
					t.Fatalf("ansible-inventory %v: %v\n%s", args, err, oerr.String())
				}
				var out, errb bytes.Buffer
				if err := run(context.Background(), append([]string{"inventory"}, args...), &out, &errb); err != nil {
					t.Fatalf("tend inventory %v: %v\n%s", args, err, errb.String())
				}
				if action[0] == "--graph" {
					if out.String() != string(want) {
						t.Errorf("%v:\ntend:\n%s\nansible:\n%s", action, out.String(), want)
					}
					continue
				}
				if got, exp := parseDropping(t, out.Bytes()), parseDropping(t, want); !reflect.DeepEqual(got, exp) {
					g, _ := json.MarshalIndent(got, "", " ")
					e, _ := json.MarshalIndent(exp, "", " ")
					t.Errorf("%v differs:\ntend:\n%s\nansible:\n%s", action, g, e)
				}
			}
		})
	}
}

// parseDropping parses JSON and drops ansibleOnlyKeys at every level.
func parseDropping(t *testing.T, data []byte) any {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%v:\n%s", err, data)
	}
	var drop func(any)
	drop = func(v any) {
		if m, ok := v.(map[string]any); ok {
			for _, k := range ansibleOnlyKeys {
				delete(m, k)
			}
			for _, e := range m {
				drop(e)
			}
		}
	}
	drop(v)
	return v
}

// oracleEnv isolates Ansible from the machine's configuration.
func oracleEnv(t *testing.T) []string {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ansible.cfg")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return append(os.Environ(), "HOME="+dir, "ANSIBLE_CONFIG="+cfg, "ANSIBLE_LOCAL_TEMP="+dir,
		"ANSIBLE_INVENTORY_ENABLED=host_list,script,yaml,ini", "ANSIBLE_INVENTORY_UNPARSED_FAILED=True",
		"ANSIBLE_NOCOLOR=1", "ANSIBLE_DEPRECATION_WARNINGS=False", "ANSIBLE_LOCALHOST_WARNING=False")
}
