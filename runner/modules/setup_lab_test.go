package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"tend/internal/lab"
	"tend/runner/transport"
)

// oracleFacts are the facts whose values tend's setup must give exactly as
// ansible-core's setup module does on the same host (mounts, env and the
// clock differ by nature or by detail and are compared in shape only).
var oracleFacts = []string{
	"hostname", "nodename", "fqdn", "domain", "system", "kernel", "kernel_version", "machine", "architecture",
	"distribution", "distribution_version", "distribution_major_version", "distribution_release", "os_family",
	"processor_vcpus", "processor_nproc", "memtotal_mb", "swaptotal_mb", "service_mgr", "pkg_mgr",
	"virtualization_type", "virtualization_role", "user_id", "user_uid", "user_gid", "all_ipv4_addresses",
}

// TestSetupMatchesAnsible gathers the facts of a lab host (a real sshd in
// its own network namespace) with tend's one command and with
// `ansible -m setup`, and compares them.
func TestSetupMatchesAnsible(t *testing.T) {
	ansible, err := exec.LookPath("ansible")
	if err != nil {
		t.Skip("ansible not installed; oracle comparison skipped")
	}
	l := lab.New(t, 1)
	h := l.Hosts[0]
	ctx := context.Background()
	conn := dialLab(t, l, h, "root")
	m, err := setupSpec.New(Args{File: "play.yml"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.Check(ctx, conn)
	if err != nil || c.Failed {
		t.Fatalf("setup: %v %+v", err, c)
	}
	ours := normalize(t, c.Data["ansible_facts"])

	dir := t.TempDir()
	cfg := filepath.Join(dir, "ansible.cfg")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	inv := fmt.Sprintf("h1 ansible_host=%s ansible_port=%d ansible_user=root ansible_ssh_private_key_file=%s ansible_ssh_common_args='-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes'\n",
		h.Addr, h.Port, l.ClientKey, l.KnownHosts)
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(inv), 0o600); err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(dir, "tree")
	cmd := exec.Command(ansible, "h1", "-i", filepath.Join(dir, "hosts"), "-m", "setup", "--tree", tree)
	cmd.Env = append(os.Environ(), "HOME="+dir, "ANSIBLE_CONFIG="+cfg, "ANSIBLE_LOCAL_TEMP="+dir,
		"ANSIBLE_NOCOLOR=1", "ANSIBLE_DEPRECATION_WARNINGS=False", "ANSIBLE_PYTHON_INTERPRETER=auto_silent")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ansible -m setup: %v\n%.2000s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(tree, "h1"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Facts map[string]any `json:"ansible_facts"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	theirs := res.Facts
	for _, k := range oracleFacts {
		a, b := ours["ansible_"+k], theirs["ansible_"+k]
		if l, ok := a.([]any); ok {
			a, b = sortedList(l), sortedList(b)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: tend %#v, ansible %#v", k, a, b)
		}
	}
	for _, k := range []string{"address", "interface", "gateway", "netmask", "network", "prefix", "broadcast", "alias"} {
		a := ours["ansible_default_ipv4"].(map[string]any)[k]
		b := theirs["ansible_default_ipv4"].(map[string]any)[k]
		if a != b {
			t.Errorf("default_ipv4.%s: tend %#v, ansible %#v", k, a, b)
		}
	}
	for _, k := range []string{"tz", "tz_offset", "date"} {
		a := ours["ansible_date_time"].(map[string]any)[k]
		b := theirs["ansible_date_time"].(map[string]any)[k]
		if a != b {
			t.Errorf("date_time.%s: tend %#v, ansible %#v", k, a, b)
		}
	}
	// Shapes: every date_time key Ansible has, and mounts as a list of
	// mappings with device, mount, fstype, options, size_total.
	for k := range theirs["ansible_date_time"].(map[string]any) {
		if _, ok := ours["ansible_date_time"].(map[string]any)[k]; !ok {
			t.Errorf("date_time.%s: missing", k)
		}
	}
	for _, mnt := range ours["ansible_mounts"].([]any) {
		m := mnt.(map[string]any)
		for _, k := range []string{"device", "mount", "fstype", "options"} {
			if _, ok := m[k]; !ok {
				t.Errorf("mount %v: no %s", m, k)
			}
		}
	}
	if _, ok := ours["ansible_env"].(map[string]any)["PATH"]; !ok {
		t.Errorf("env has no PATH: %v", ours["ansible_env"])
	}
}

// normalize passes v through JSON, so numbers compare as Ansible's do.
func normalize(t *testing.T, v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, len(l))
	for i, x := range l {
		out[i] = fmt.Sprint(x)
	}
	sort.Strings(out)
	return out
}

// referenceFactsScript is FactsScript as it was before it read small files
// and uname's names with shell builtins, and the user from one id: cat,
// uname, head, awk and id, one program each. TestFactsScriptSameOutput
// holds the two to the same output.
const referenceFactsScript = `LC_ALL=C; export LC_ALL
s() { printf '\n@@tend:%s\n' "$1"; }
s hostname; uname -n
s fqdn; a=$(getent hosts "$(uname -n)" 2>/dev/null | awk '{print $1; exit}'); [ -n "$a" ] && getent hosts "$a" 2>/dev/null | head -n 1
s kernel; uname -r
s kernel_version; uname -v
s machine; uname -m
s system; uname -s
s os_release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
s debian_version; cat /etc/debian_version 2>/dev/null
s redhat_release; cat /etc/redhat-release 2>/dev/null
s init; cat /proc/1/comm 2>/dev/null
s dockerenv; test -f /.dockerenv && echo docker; grep -oE 'docker|lxc' /proc/1/cgroup 2>/dev/null | head -n 1
s user; id -un; id -u; id -g
`

// TestFactsScriptSameOutput runs FactsScript and the programs it replaced
// with shell builtins (referenceFactsScript) on a lab host: every section
// the reference prints must come out byte for byte the same.
func TestFactsScriptSameOutput(t *testing.T) {
	l := lab.New(t, 1)
	h := l.Hosts[0]
	ctx := context.Background()
	conn := dialLab(t, l, h, "root")
	run := func(script string) map[string]string {
		res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", script, "tend-facts"}, MaxOutput: 4 << 20})
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("facts script: %v %+v", err, res)
		}
		return splitSections(string(res.Stdout))
	}
	want, got := run(referenceFactsScript), run(FactsScript)
	if len(want) != 12 {
		t.Fatalf("reference sections: %d, want 12: %v", len(want), want)
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			t.Errorf("section %s: FactsScript printed %q, the programs print %q", name, g, w)
		}
	}
	if got["hostname"] == "" || got["kernel"] == "" || got["system"] != "Linux" || got["init"] == "" || got["os_release"] == "" {
		t.Errorf("empty facts: %v", got)
	}
}
