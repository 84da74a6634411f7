package modules

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestParseServiceFacts: a real capture of ServiceFactsScript on a Debian
// host without systemd (Ansible's service_facts gave the same on the same
// machine), a systemd host's list-units and list-unit-files read as
// Ansible's reader does (a not-found, masked or failed field is the
// status and shifts the line; a unit file list-units does not name takes
// its ActiveState from systemctl show, "unknown" when that fails), and
// service --status-all exiting 4 without /etc/init.d (nothing, no warning).
func TestParseServiceFacts(t *testing.T) {
	sysv, err := os.ReadFile("testdata/factmods/sysv.out")
	if err != nil {
		t.Fatal(err)
	}
	systemd, err := os.ReadFile("testdata/factmods/systemd.out")
	if err != nil {
		t.Fatal(err)
	}
	sv := func(name, state string) map[string]any {
		return map[string]any{"name": name, "state": state, "source": "sysv"}
	}
	sd := func(name, state, status string) map[string]any {
		return map[string]any{"name": name, "state": state, "status": status, "source": "systemd"}
	}
	for _, tc := range []struct {
		name, out string
		want      map[string]any
		warnings  []string
	}{
		{"sysv", string(sysv), map[string]any{
			"activemq": sv("activemq", "running"), "dbus": sv("dbus", "stopped"), "postgresql": sv("postgresql", "stopped"),
			"procps": sv("procps", "stopped"), "prometheus": sv("prometheus", "stopped"),
			"prometheus-node-exporter": sv("prometheus-node-exporter", "stopped"), "prometheus-pushgateway": sv("prometheus-pushgateway", "stopped"),
			"ssh": sv("ssh", "stopped"), "sudo": sv("sudo", "stopped"), "ufw": sv("ufw", "stopped"), "x11-common": sv("x11-common", "stopped"),
		}, nil},
		{"systemd", string(systemd), map[string]any{
			"cron": sv("cron", "running"), "rsync": sv("rsync", "stopped"),
			"cron.service":              sd("cron.service", "running", "enabled"),
			"nginx.service":             sd("nginx.service", "stopped", "failed"),
			"foo.service":               sd("foo.service", "stopped", "not-found"),
			"ssh.service":               sd("ssh.service", "running", "enabled"),
			"systemd-fsck-root.service": sd("systemd-fsck-root.service", "stopped", "inactive"),
			"sshd.service":              sd("sshd.service", "active", "alias"),
			"getty@.service":            sd("getty@.service", "unknown", "enabled"),
			"rsync.service":             sd("rsync.service", "inactive", "disabled"),
		}, nil},
		{"no init.d", "@@tend sysv 4 0\n", map[string]any{}, nil},
		{"service fails", "@@tend sysv 1 1\n [ + ]  a\n", map[string]any{"a": sv("a", "running")}, []string{"Unable to query 'service' tool (1)"}},
		{"units fail", "@@tend units 1\n@@tend files 0\nx.service enabled\n@@tend show 0 x.service\nActiveState=failed\n",
			map[string]any{"x.service": sd("x.service", "failed", "enabled")}, []string{"Could not list units from systemd (exit 1)"}},
		{"chkconfig", "@@tend other chkconfig\n", map[string]any{},
			[]string{"service_facts: the host has chkconfig; tend reads only SysV (service --status-all) and systemd services, as Ansible on Debian"}},
	} {
		got, warnings := ParseServiceFacts(tc.out)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, got, tc.want)
		}
		if !reflect.DeepEqual(warnings, tc.warnings) {
			t.Errorf("%s: warnings %q, want %q", tc.name, warnings, tc.warnings)
		}
	}
}

// TestServiceFactsArgs: service_facts takes no argument.
func TestServiceFactsArgs(t *testing.T) {
	if _, err := newServiceFacts(Args{File: "pb.yml"}); err != nil {
		t.Errorf("no arguments: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("{}"), &doc); err != nil {
		t.Fatal(err)
	}
	if _, err := newServiceFacts(Args{Node: doc.Content[0], File: "pb.yml"}); err != nil {
		t.Errorf("{}: %v", err)
	}
	if err := yaml.Unmarshal([]byte("x: 1"), &doc); err != nil {
		t.Fatal(err)
	}
	_, err := newServiceFacts(Args{Node: doc.Content[0], File: "pb.yml"})
	if err == nil || !strings.Contains(err.Error(), `pb.yml:1:1: service_facts: unknown argument "x"`) {
		t.Errorf("x: 1: %v", err)
	}
}
