package sysctlconf

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseLines(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		kind   Kind
		key    string
		value  string
		ignore bool
		glob   bool
	}{
		{"spaced", "net.ipv4.tcp_fin_timeout = 30\n", Assign, "net.ipv4.tcp_fin_timeout", "30", false, false},
		{"tight", "net.ipv4.tcp_syn_retries=2\n", Assign, "net.ipv4.tcp_syn_retries", "2", false, false},
		{"tabs and indent", "\t net.ipv4.tcp_rmem\t=\t4096\t87380\t6291456 \t\n", Assign, "net.ipv4.tcp_rmem", "4096\t87380\t6291456", false, false},
		{"crlf", "net.ipv4.tcp_fin_timeout = 30\r\n", Assign, "net.ipv4.tcp_fin_timeout", "30", false, false},
		{"no final newline", "net.ipv4.tcp_fin_timeout=30", Assign, "net.ipv4.tcp_fin_timeout", "30", false, false},
		{"ignore errors", "-net.ipv4.tcp_tw_recycle = 1\n", Assign, "net.ipv4.tcp_tw_recycle", "1", true, false},
		{"value keeps = and #", "kernel.core_pattern = |/bin/x a=b # not a comment\n", Assign, "kernel.core_pattern", "|/bin/x a=b # not a comment", false, false},
		{"empty value", "net.ipv4.tcp_fin_timeout =\n", Assign, "net.ipv4.tcp_fin_timeout", "", false, false},
		{"empty key", "=5\n", Assign, "", "5", false, false},
		{"glob", "net.ipv4.conf.*.rp_filter = 2\n", Assign, "net.ipv4.conf.*.rp_filter", "2", false, true},
		{"exclude", "-net.ipv4.conf.lo.rp_filter  \n", Exclude, "net.ipv4.conf.lo.rp_filter", "", false, false},
		{"hash comment", "  # net.ipv4.tcp_fin_timeout = 30\n", Comment, "", "", false, false},
		{"semicolon comment", ";net.ipv4.tcp_fin_timeout = 30\n", Comment, "", "", false, false},
		{"blank", "   \n", Blank, "", "", false, false},
		{"one byte", "x", Blank, "", "", false, false},
		{"newline only", "\n", Blank, "", "", false, false},
		{"invalid", "net.ipv4.tcp_fin_timeout 30\n", Invalid, "", "", false, false},
		{"nul ends the line", "net.ipv4.tcp_fin_timeout = 3\x000\n", Assign, "net.ipv4.tcp_fin_timeout", "3", false, false},
		{"key keeps inner space after -", "- net.ipv4.x = 1\n", Assign, " net.ipv4.x", "1", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls := Parse([]byte(tt.line))
			if len(ls) != 1 {
				t.Fatalf("got %d lines", len(ls))
			}
			l := ls[0]
			if l.Kind != tt.kind || l.Key != tt.key || l.Value != tt.value || l.IgnoreErrors != tt.ignore || l.Glob != tt.glob {
				t.Errorf("got kind=%v key=%q value=%q ignore=%v glob=%v", l.Kind, l.Key, l.Value, l.IgnoreErrors, l.Glob)
			}
		})
	}
}

func TestParseKeepsBytes(t *testing.T) {
	in := "a = 1\r\n\n# c\nb=2"
	var got strings.Builder
	for _, l := range Parse([]byte(in)) {
		got.Write(l.Text)
		if l.NL {
			got.WriteByte('\n')
		}
	}
	if got.String() != in {
		t.Fatalf("round trip: %q", got.String())
	}
}

func TestKeys(t *testing.T) {
	tests := []struct{ key, path, canonical string }{
		{"net.ipv4.tcp_fin_timeout", "/proc/sys/net/ipv4/tcp_fin_timeout", "net.ipv4.tcp_fin_timeout"},
		{"net/ipv4/tcp_fin_timeout", "/proc/sys/net/ipv4/tcp_fin_timeout", "net.ipv4.tcp_fin_timeout"},
		{"net/ipv4/conf/eth0.100/rp_filter", "/proc/sys/net/ipv4/conf/eth0.100/rp_filter", "net.ipv4.conf.eth0/100.rp_filter"},
		{"net.ipv4.conf.eth0/100.rp_filter", "/proc/sys/net/ipv4/conf/eth0.100/rp_filter", "net.ipv4.conf.eth0/100.rp_filter"},
		{"-net.ipv4.tcp_syncookies", "/proc/sys/net/ipv4/tcp_syncookies", "net.ipv4.tcp_syncookies"},
		{"net..ipv4.tcp_syncookies", "/proc/sys/net//ipv4/tcp_syncookies", "net.ipv4.tcp_syncookies"},
		{"kernel", "/proc/sys/kernel", "kernel"},
	}
	for _, tt := range tests {
		if got := KeyToProcPath(tt.key); got != tt.path {
			t.Errorf("KeyToProcPath(%q) = %q, want %q", tt.key, got, tt.path)
		}
		if got := Canonical(tt.key); got != tt.canonical {
			t.Errorf("Canonical(%q) = %q, want %q", tt.key, got, tt.canonical)
		}
	}
}

func TestValidateKey(t *testing.T) {
	good := []string{"net.ipv4.tcp_fin_timeout", "net/ipv4/conf/eth0.100/rp_filter", "net.ipv4.conf.eth0/100.rp_filter", "net.ipv6.conf.br-lan.forwarding", "fs.protected_fifos"}
	bad := []string{"", "-net.ipv4.x", "/net/ipv4/x", ".net.ipv4", "net..ipv4", "net.ipv4.", "net/../kernel/x", "net/ipv4/./x", "net.ipv4.*", "a b", "a=b", "a;id", "a$(id)", "a\nb", "net.ipv4.conf.eth0/../x"}
	for _, k := range good {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v", k, err)
		}
	}
	for _, k := range bad {
		if err := ValidateKey(k); err == nil {
			t.Errorf("ValidateKey(%q) accepted", k)
		}
	}
}

func TestEffectiveLastWins(t *testing.T) {
	in := "net.ipv4.tcp_fin_timeout = 10\n" +
		"net/ipv4/tcp_fin_timeout=20\n" +
		"# net.ipv4.tcp_fin_timeout = 99\n" +
		"net.ipv4.conf.*.rp_filter = 2\n" +
		"-net.ipv4.tcp_syncookies =  1 \n" +
		"bogus\n"
	got := Effective([]byte(in))
	want := map[string]string{
		"net.ipv4.tcp_fin_timeout":  "20",
		"net.ipv4.conf.*.rp_filter": "2",
		"net.ipv4.tcp_syncookies":   "1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Effective = %v, want %v", got, want)
	}
}

func TestBadLines(t *testing.T) {
	in := "ok = 1\nno equals here\n=5\nnet..x = 1\n# fine\n"
	got := BadLines([]byte(in))
	if len(got) != 3 || got[0].Line != 2 || got[1].Line != 3 || got[2].Line != 4 {
		t.Fatalf("BadLines = %+v", got)
	}
}

// TestEffectiveMatchesProcps runs the real sysctl parser in --dry-run mode
// (it writes nothing) and checks that Effective agrees with the last value
// it would apply per key. Only keys that exist on every Linux are used.
func TestEffectiveMatchesProcps(t *testing.T) {
	sysctl, err := exec.LookPath("sysctl")
	if err != nil {
		t.Skip("sysctl not installed")
	}
	if out, err := exec.Command(sysctl, "--dry-run", "-n", "-p", os.DevNull).CombinedOutput(); err != nil {
		t.Skipf("this sysctl has no --dry-run: %v %s", err, out)
	}
	content := "  net.ipv4.tcp_fin_timeout\t=  31 \r\n" +
		";net.ipv4.tcp_fin_timeout = 1\n" +
		"-net/ipv4/tcp_syn_retries=3\n" +
		"net.ipv4.tcp_keepalive_time = 1200\n" +
		"x\n" +
		"net.ipv4.tcp_keepalive_time=1201\n" +
		"net.ipv4.tcp_rmem = 4096\t87380   6291456\n" +
		"net.ipv4.tcp_keepalive_probes = 5 # five"
	file := filepath.Join(t.TempDir(), "t.conf")
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(sysctl, "--dry-run", "-p", file).Output()
	procps := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, ok := strings.Cut(line, " = ")
		if !ok {
			t.Fatalf("unexpected sysctl output line %q", line)
		}
		procps[k] = v
	}
	if got := Effective([]byte(content)); !reflect.DeepEqual(got, procps) {
		t.Fatalf("Effective = %q\nsysctl --dry-run -p = %q", got, procps)
	}
}
