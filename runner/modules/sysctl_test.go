package modules

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"tend/runner/modules/sysctlconf"
)

// updateGolden rewrites golden files in testdata instead of comparing with
// them (go test ./runner/modules -run Golden -update). The -update flag is
// shared by every test file of the package: the first to register it wins.
var updateGolden = sharedUpdateFlag()

func sharedUpdateFlag() func() bool {
	if f := flag.Lookup("update"); f != nil {
		return func() bool { return f.Value.String() == "true" }
	}
	b := flag.Bool("update", false, "rewrite golden files in testdata")
	return func() bool { return *b }
}

// sysctlNode parses a task's argument mapping.
func sysctlNode(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

func newSysctlT(t *testing.T, src string) *sysctlModule {
	t.Helper()
	m, err := newSysctl(Args{Node: sysctlNode(t, src), File: "play.yml"})
	if err != nil {
		t.Fatalf("newSysctl: %v", err)
	}
	return m.(*sysctlModule)
}

func TestSysctlArgs(t *testing.T) {
	m := newSysctlT(t, "settings:\n  net.ipv4.tcp_fin_timeout: 30\n  net/ipv4/tcp_syn_retries: 0755\n  net.ipv4.tcp_syncookies: yes\n  net.ipv4.tcp_rmem: \"4096\\t87380 6291456\"\n")
	want := []sysctlconf.Setting{{Key: "net.ipv4.tcp_fin_timeout", Value: "30"}, {Key: "net/ipv4/tcp_syn_retries", Value: "0755"},
		{Key: "net.ipv4.tcp_syncookies", Value: "yes"}, {Key: "net.ipv4.tcp_rmem", Value: "4096\t87380 6291456"}}
	if len(m.want) != len(want) {
		t.Fatalf("want = %+v", m.want)
	}
	for i := range want {
		if m.want[i] != want[i] {
			t.Errorf("setting %d = %+v, want %+v (values stay literal, order kept)", i, m.want[i], want[i])
		}
	}
	if m.file != "/etc/sysctl.conf" || !m.reload || !m.liveSet {
		t.Errorf("defaults: file=%q reload=%v sysctl_set=%v", m.file, m.reload, m.liveSet)
	}

	m = newSysctlT(t, "name: net.ipv4.tcp_fin_timeout\nvalue: 30\nsysctl_file: /etc/sysctl.d/90-tend.conf\nreload: false\nsysctl_set: false\n")
	if m.file != "/etc/sysctl.d/90-tend.conf" || m.reload || m.liveSet || len(m.want) != 1 {
		t.Errorf("got %+v", m)
	}
	m = newSysctlT(t, "name: net.ipv4.tcp_tw_recycle\nstate: absent\n")
	if len(m.absent) != 1 || len(m.want) != 0 {
		t.Errorf("absent: %+v", m)
	}
	if m.strict {
		t.Errorf("persist defaults to strict")
	}
	if m = newSysctlT(t, "name: net.ipv4.x\nvalue: 1\npersist: strict\n"); !m.strict {
		t.Errorf("persist: strict not taken")
	}
	// Validation before rendering must accept templates anywhere.
	newSysctlT(t, "name: \"{{ key }}\"\nvalue: \"{{ v }}\"\nreload: \"{{ r }}\"\nfile: \"{{ f }}\"\npersist: \"{{ p }}\"\n")
}

func TestSysctlArgErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"name: net.ipv4.x\nvalue: 1\nreloda: true\n", `play.yml:3:1: reloda: unknown key; did you mean "reload"?`},
		{"name: net.ipv4.x\nvalue: 1\nname: net.ipv4.y\n", "duplicate key"},
		{"name: net.ipv4.x\nvalue: 1\nsettings:\n  a.b: 1\n", "give name (and value) or settings, not both"},
		{"value: 1\n", "nothing to set"},
		{"name: net.ipv4.x\n", "empty value"},
		{"name: net.ipv4.x\nvalue: 1\nstate: gone\n", "state must be present or absent"},
		{"name: net.ipv4.x\nvalue: 1\nstate: absent\n", "value has no meaning with state: absent"},
		{"settings:\n  net.ipv4.x: 1\n  net/../kernel/x: 1\n", `play.yml:3:3: sysctl: key "net/../kernel/x"`},
		{"settings:\n  net.ipv4.x: 1\n  net/ipv4/x: 2\n", `"net.ipv4.x" and "net/ipv4/x" are the same key`},
		{"settings:\n  net.ipv4.x: \"1\\n2\"\n", "play.yml:2:15: sysctl: net.ipv4.x: value"},
		{"settings:\n  'net.ipv4.x;id': 1\n", "not allowed in a sysctl key"},
		{"name: net.ipv4.x\nvalue: 1\nfile: etc/sysctl.conf\n", "must be an absolute path"},
		{"name: net.ipv4.x\nvalue: 1\nreload: maybe\n", "reload"},
		{"name: net.ipv4.x\nvalue: [1, 2]\n", "value"},
		{"name: net.ipv4.x\nvalue: 1\npersist: always\n", `play.yml:3:10: sysctl: persist must be warn or strict, not "always"`},
	}
	for _, tt := range tests {
		_, err := newSysctl(Args{Node: sysctlNode(t, tt.src), File: "play.yml"})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want it to contain %q", tt.src, err, tt.want)
		}
	}
}

func TestSysctlStderrKey(t *testing.T) {
	tests := map[string]string{
		"sysctl: cannot stat /proc/sys/net/ipv4/tcp_tw_recycle: No such file or directory": "net.ipv4.tcp_tw_recycle",
		`sysctl: setting key "net.ipv4.tcp_syncookies": Invalid argument`:                  "net.ipv4.tcp_syncookies",
		`sysctl: permission denied on key "net.core.rmem_max", ignoring`:                   "net.core.rmem_max",
		"sysctl: /etc/sysctl.conf(5): invalid syntax, continuing...":                       "",
		`sysctl: "net/ipv4/conf/eth0.100/rp_filter" is an unknown key`:                     "net.ipv4.conf.eth0/100.rp_filter",
	}
	for line, want := range tests {
		if got := sysctlStderrKey(line); got != want {
			t.Errorf("sysctlStderrKey(%q) = %q, want %q", line, got, want)
		}
	}
}

// sysctlMessyConf has duplicates, comments, odd spacing, CRLF, a dead key and no
// final newline: the diff must touch only the lines that decide our keys.
const sysctlMessyConf = "# /etc/sysctl.conf - tuned by hand\n" +
	"net.ipv4.tcp_fin_timeout = 60\n" +
	"; old keepalive\n" +
	"net.ipv4.tcp_keepalive_time=7200\n" +
	"\n" +
	"  net.ipv4.tcp_syn_retries\t=\t6   \r\n" +
	"net.ipv4.tcp_tw_recycle = 1\n" +
	"net.ipv4.tcp_fin_timeout=45\n" +
	"net.ipv4.tcp_rmem = 4096\t87380\t6291456\n" +
	"net.ipv4.tcp_orphan_retries = 0"

var sysctlMessyWant = []sysctlconf.Setting{
	{Key: "net.ipv4.tcp_fin_timeout", Value: "30"},
	{Key: "net.ipv4.tcp_keepalive_time", Value: "1200"},
	{Key: "net.ipv4.tcp_syn_retries", Value: "2"},
	{Key: "net.ipv4.tcp_rmem", Value: "4096 87380 6291456"},
	{Key: "net.ipv4.tcp_keepalive_probes", Value: "5"},
}

func TestSysctlDiffGolden(t *testing.T) {
	after, _ := sysctlconf.Edit([]byte(sysctlMessyConf), sysctlMessyWant, nil)
	got := sysctlDiff("/etc/sysctl.conf", []byte(sysctlMessyConf), true, after)
	golden := filepath.Join("testdata", "sysctl_messy.diff.golden")
	if updateGolden() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("diff differs from %s (run with -update after checking it):\n%s", golden, got)
	}
}

func TestSysctlDiffNewFile(t *testing.T) {
	got := sysctlDiff("/etc/sysctl.d/90-tend.conf", nil, false, []byte("# added by tend\na = 1\n"))
	want := "--- /dev/null\n+++ /etc/sysctl.d/90-tend.conf (tend)\n@@ -0,0 +1,2 @@\n+# added by tend\n+a = 1\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
