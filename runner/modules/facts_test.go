package modules

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"tend/internal/memhost"
	"tend/runner/transport"
)

// TestParseFacts parses real (debian12-docker: this machine's output of
// FactsScript) and hand-written outputs into Ansible's fact names and
// shapes; the values are what ansible-core's setup reports for the same
// machine (see facts_lab_test.go for the live comparison).
func TestParseFacts(t *testing.T) {
	tests := []struct {
		file string
		want map[string]any
	}{
		{"debian12-docker.txt", map[string]any{
			"hostname": "vm", "nodename": "vm", "fqdn": "localhost", "domain": "",
			"distribution": "Debian", "distribution_version": "12.11", "distribution_major_version": "12",
			"distribution_release": "bookworm", "os_family": "Debian", "kernel": "6.18.44-fc-v1272",
			"architecture": "x86_64", "system": "Linux", "processor_vcpus": 2, "memtotal_mb": 24105,
			"swaptotal_mb": 0, "service_mgr": "process_api", "virtualization_type": "docker",
			"virtualization_role": "guest", "pkg_mgr": "apt", "user_id": "root",
			"all_ipv4_addresses": []any{"192.0.2.2"},
			"default_ipv4": map[string]any{"address": "192.0.2.2", "alias": "eth0", "broadcast": "192.0.2.255",
				"gateway": "192.0.2.1", "interface": "eth0", "netmask": "255.255.255.0", "network": "192.0.2.0", "prefix": "24"},
		}},
		{"ubuntu-systemd-noip.txt", map[string]any{
			"hostname": "web1", "nodename": "web1.example.com", "fqdn": "web1.example.com", "domain": "example.com",
			"distribution": "Ubuntu", "distribution_version": "22.04", "distribution_major_version": "22",
			"distribution_release": "jammy", "os_family": "Debian", "architecture": "aarch64",
			"processor_vcpus": 4, "memtotal_mb": 3931, "swaptotal_mb": 2047, "service_mgr": "systemd",
			"virtualization_type": "kvm", "virtualization_role": "guest", "user_id": "deploy", "user_uid": 1000,
			"default_ipv4":       map[string]any{"interface": "ens3", "alias": "ens3", "gateway": "10.0.0.1"},
			"all_ipv4_addresses": []any{},
			"mounts": []any{
				map[string]any{"device": "/dev/sda1", "mount": "/", "fstype": "ext4", "options": "rw,relatime", "size_total": int64(20509264 * 1024), "size_available": int64(14444552 * 1024)},
				map[string]any{"device": "/dev/sda2", "mount": "/srv/my data", "fstype": "xfs", "options": "rw"},
			},
			"env": map[string]any{"HOME": "/home/deploy", "MULTI": "line one\nline two"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out, err := os.ReadFile("testdata/facts/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got := ParseFacts(string(out))
			for k, want := range tt.want {
				if !reflect.DeepEqual(got[k], want) {
					t.Errorf("%s = %#v, want %#v", k, got[k], want)
				}
			}
		})
	}
}

// TestDateTimeFacts checks date_time's fields in the host's zone.
func TestDateTimeFacts(t *testing.T) {
	got := dateTimeFacts("1700000000 -0500 EST")
	want := map[string]string{"date": "2023-11-14", "time": "17:13:20", "hour": "17", "weekday": "Tuesday",
		"weekday_number": "2", "weeknumber": "46", "iso8601": "2023-11-14T22:13:20Z", "tz": "EST", "tz_offset": "-0500",
		"epoch": "1700000000", "iso8601_basic_short": "20231114T171320"}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %s", k, got[k], w)
		}
	}
}

// TestSetupSubsetsAndFilter runs setup on an in-memory host answering
// FactsScript with a recorded output: gather_subset and filter keep what
// Ansible's would, named ansible_X; the host sees one command.
func TestSetupSubsetsAndFilter(t *testing.T) {
	out, err := os.ReadFile("testdata/facts/debian12-docker.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, args    string
		want, notWant []string
		err           string
	}{
		{"default is all", ``, []string{"ansible_hostname", "ansible_memtotal_mb", "ansible_default_ipv4", "ansible_virtualization_type"}, nil, ""},
		{"min only", `gather_subset: ["!all"]`, []string{"ansible_hostname", "ansible_distribution", "ansible_pkg_mgr"}, []string{"ansible_memtotal_mb", "ansible_default_ipv4", "ansible_virtualization_type"}, ""},
		{"min plus network", `gather_subset: "!all,network"`, []string{"ansible_default_ipv4", "ansible_os_family"}, []string{"ansible_mounts"}, ""},
		{"all but hardware", `gather_subset: ["!hardware"]`, []string{"ansible_default_ipv4"}, []string{"ansible_memtotal_mb", "ansible_mounts"}, ""},
		{"filter", `filter: ["ansible_distribution*", "kernel"]`, []string{"ansible_distribution", "ansible_distribution_major_version", "ansible_kernel"}, []string{"ansible_hostname", "ansible_kernel_version"}, ""},
		{"facter and ohai gather nothing", `gather_subset: ["!all", facter, ohai]`, []string{"ansible_hostname", "ansible_pkg_mgr"}, []string{"ansible_memtotal_mb", "ansible_default_ipv4"}, ""},
		{"unknown subset", `gather_subset: [hardwar]`, nil, nil, `gather_subset: unknown subset "hardwar"`},
		{"unknown arg", `gather: all`, nil, nil, `unknown argument "gather"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tt.args), &doc); err != nil {
				t.Fatal(err)
			}
			var node *yaml.Node
			if len(doc.Content) > 0 {
				node = doc.Content[0]
			}
			m, err := setupSpec.New(Args{Node: node, File: "play.yml"})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "play.yml:1:") {
					t.Fatalf("err = %v, want play.yml:1:...%s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			h := memhost.New("h1")
			h.Handle(memhost.Script(FactsScript), func(context.Context, *memhost.Host, transport.Command) (transport.Result, error) {
				return memhost.OK(string(out)), nil
			})
			c, err := m.Check(context.Background(), h)
			if err != nil || c.Failed {
				t.Fatalf("Check: %v %+v", err, c)
			}
			facts := c.Data["ansible_facts"].(map[string]any)
			for _, k := range tt.want {
				if _, ok := facts[k]; !ok {
					t.Errorf("%s missing; got %d facts", k, len(facts))
				}
			}
			for _, k := range tt.notWant {
				if _, ok := facts[k]; ok {
					t.Errorf("%s present, want it left out", k)
				}
			}
			if n := len(h.Calls()); n != 1 {
				t.Errorf("%d commands, want one", n)
			}
		})
	}
}
