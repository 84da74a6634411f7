package inventory

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The oracle tests compare Load and Select with Ansible itself
// (ansible-core's ansible-inventory and ansible --list-hosts). They are
// skipped only when Ansible is not installed; CI installs it.

// ansibleEnv isolates Ansible from the machine's configuration and limits
// it to the inventory plugins tend mirrors (host lists, scripts, YAML,
// INI), failing on anything it cannot parse.
func ansibleEnv(t *testing.T) []string {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ansible.cfg")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		panic(err) // a fresh temporary directory is always writable
	}
	return append(os.Environ(),
		"HOME="+dir, "ANSIBLE_CONFIG="+cfg, "ANSIBLE_LOCAL_TEMP="+dir,
		"ANSIBLE_INVENTORY_ENABLED=host_list,script,yaml,ini", "ANSIBLE_INVENTORY_UNPARSED_FAILED=True",
		"ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=True", "ANSIBLE_NOCOLOR=1",
		"ANSIBLE_DEPRECATION_WARNINGS=False", "ANSIBLE_LOCALHOST_WARNING=False")
}

// lookPath returns the named Ansible program or skips the test.
func lookPath(t *testing.T, name string) string {
	bin, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed; oracle comparison skipped", name)
	}
	return bin
}

// oracleInventory is the part of `ansible-inventory --list` compared.
type oracleInventory struct {
	hostvars map[string]map[string]any
	groups   map[string][]string // host -> every group, sorted
}

func runInventoryOracle(t *testing.T, files []string) oracleInventory {
	args := []string{"--list"}
	for _, f := range files {
		args = append(args, "-i", f)
	}
	cmd := exec.Command(lookPath(t, "ansible-inventory"), args...)
	cmd.Env = ansibleEnv(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ansible-inventory %v: %v\n%s", args, err, stderrOf(err))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Hostvars map[string]map[string]any `json:"hostvars"`
	}
	if err := json.Unmarshal(raw["_meta"], &meta); err != nil {
		t.Fatal(err)
	}
	type groupJSON struct{ Hosts, Children []string }
	groups := map[string]groupJSON{}
	for name, msg := range raw {
		if name != "_meta" {
			var g groupJSON
			if err := json.Unmarshal(msg, &g); err != nil {
				t.Fatal(err)
			}
			groups[name] = g
		}
	}
	// --list shows direct hosts and children; close membership over them.
	var members func(string) []string
	members = func(g string) []string {
		hs := slices.Clone(groups[g].Hosts)
		for _, c := range groups[g].Children {
			hs = append(hs, members(c)...)
		}
		return hs
	}
	o := oracleInventory{hostvars: meta.Hostvars, groups: map[string][]string{}}
	for g := range groups {
		for _, h := range members(g) {
			if !slices.Contains(o.groups[h], g) {
				o.groups[h] = append(o.groups[h], g)
			}
		}
	}
	for h := range o.groups {
		if !slices.Contains(o.groups[h], "all") {
			o.groups[h] = append(o.groups[h], "all")
		}
		slices.Sort(o.groups[h])
	}
	return o
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// normalize round-trips v through JSON, as the oracle's output was.
func normalize(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOracleInventory(t *testing.T) {
	lookPath(t, "ansible-inventory")
	for _, files := range [][]string{
		{"testdata/site.yml"},
		{"testdata/site.yml", "testdata/override.yml"},
		{"testdata/override.yml", "testdata/site.yml"},
		{"testdata/types.yml"},
		{"testdata/shadow.yml"},
		{"testdata/ini/hosts"},
		{"testdata/dir"},
		{"testdata/scripts/nometa.sh"},
		{"testdata/site.yml", "testdata/ini/hosts"},
		{"testdata/ini/hosts", "testdata/dir", "testdata/scripts/nometa.sh"},
		{"a.example.com,b.example.com:2200,[2001:db8::1]:22,"},
	} {
		t.Run(strings.Join(files, "+"), func(t *testing.T) {
			t.Parallel()
			want := runInventoryOracle(t, files)
			inv, err := Load(files...)
			if err != nil {
				t.Fatal(err)
			}
			var gotHosts, wantHosts []string
			for _, h := range inv.Hosts() {
				gotHosts = append(gotHosts, h.Name)
			}
			for h := range want.groups {
				wantHosts = append(wantHosts, h)
			}
			slices.Sort(gotHosts)
			slices.Sort(wantHosts)
			if !reflect.DeepEqual(gotHosts, wantHosts) {
				t.Fatalf("hosts = %v, ansible %v", gotHosts, wantHosts)
			}
			for _, h := range inv.Hosts() {
				groups := slices.Sorted(slices.Values(h.Groups))
				if !reflect.DeepEqual(groups, want.groups[h.Name]) {
					t.Errorf("%s groups = %v, ansible %v", h.Name, groups, want.groups[h.Name])
				}
				wantVars := want.hostvars[h.Name]
				if wantVars == nil {
					wantVars = map[string]any{}
				}
				if got := normalize(t, h.Vars); !reflect.DeepEqual(got, normalize(t, wantVars)) {
					t.Errorf("%s vars =\n  %v\nansible\n  %v", h.Name, got, wantVars)
				}
			}
		})
	}
}

// listHosts runs `ansible PATTERN --list-hosts` and returns the host names,
// sorted. It may run outside the test goroutine, so it reports errors
// rather than failing t.
func listHosts(t *testing.T, file, pattern, limit string) ([]string, error) {
	args := []string{pattern, "-i", file, "--list-hosts"}
	if limit != "" {
		args = append(args, "--limit", limit)
	}
	cmd := exec.Command("ansible", args...)
	cmd.Env = ansibleEnv(t)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ansible %v: %v\n%s", args, err, stderrOf(err))
	}
	hosts := []string{}
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "hosts (") {
			hosts = append(hosts, line)
		}
	}
	slices.Sort(hosts)
	return hosts, nil
}

func TestOracleSelect(t *testing.T) {
	lookPath(t, "ansible")
	type tc struct{ file, pattern, limit string }
	var cases []tc
	for _, c := range selectCases {
		cases = append(cases, tc{"testdata/site.yml", c.pattern, ""})
	}
	for _, p := range []string{"dup", "all:!dup", "&dup", "web.tier", "*.tier", "localhost"} {
		cases = append(cases, tc{"testdata/shadow.yml", p, ""})
	}
	for _, c := range iniSelectCases {
		cases = append(cases, tc{"testdata/ini/hosts", c.pattern, ""})
	}
	retry := filepath.Join(t.TempDir(), "site.retry")
	if err := os.WriteFile(retry, []byte("web3.example.com\n\n  dba.example.com  \nstaging\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases = append(cases,
		tc{"testdata/site.yml", "all", "db"},
		tc{"testdata/site.yml", "prod", "!web"},
		tc{"testdata/site.yml", "web", "nosuch,web1.example.com"},
		tc{"testdata/site.yml", "all", "web2.example.com:stage1.example.com"},
		tc{"testdata/ini/hosts", "all", "@" + retry},
		tc{"testdata/ini/hosts", "prod", "@" + retry + ",bastion.example.com"},
		tc{"testdata/ini/hosts", "all", "~web[23]:!web3*"},
		tc{"testdata/ini/hosts", "eu", "web[0]:db[-1]"},
	)
	// ansible spends most of its time waiting, so run the oracle calls
	// together rather than one per CPU.
	wants := make([][]string, len(cases))
	errs := make([]error, len(cases))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, c := range cases {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			wants[i], errs[i] = listHosts(t, c.file, c.pattern, c.limit)
		})
	}
	wg.Wait()
	for i, c := range cases {
		t.Run(c.file+" "+c.pattern+" "+c.limit, func(t *testing.T) {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			inv, err := Load(c.file)
			if err != nil {
				t.Fatal(err)
			}
			hs, _, err := inv.Select(c.pattern)
			if err == nil && c.limit != "" {
				hs, err = inv.Limit(hs, c.limit)
			}
			if err != nil {
				t.Fatal(err)
			}
			got := names(hs)
			slices.Sort(got)
			if !reflect.DeepEqual(got, wants[i]) {
				t.Errorf("got %v, ansible %v", got, wants[i])
			}
		})
	}
}
