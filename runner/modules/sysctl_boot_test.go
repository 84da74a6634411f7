package modules

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"tend/runner/modules/sysctlconf"
)

// bootFile is a regular sysctl.d file with content.
func bootFile(p, content string) sysctlBootFile {
	return sysctlBootFile{path: p, regular: true, content: []byte(content)}
}

// bootOurs is the module's file as listed (directly, or through a link).
func bootOurs(p string) sysctlBootFile { return sysctlBootFile{path: p, regular: true, ours: true} }

// bootConf is procps's last file; ours when it is the module's file.
func bootConf(p string, ours bool, content string) sysctlBootFile {
	return sysctlBootFile{path: p, conf: true, regular: true, ours: ours, content: []byte(content)}
}

// bootKeyPlans are supported wanted keys from "key=value" pairs.
func bootKeyPlans(kvs ...string) []sysctlKeyPlan {
	var out []sysctlKeyPlan
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		out = append(out, sysctlKeyPlan{Setting: sysctlconf.Setting{Key: k, Value: v}, id: sysctlconf.Canonical(k), supported: true})
	}
	return out
}

const keepalive = "net.ipv4.tcp_keepalive_time"

// The boot-time order and who wins each key, as systemd-sysctl and procps
// apply the files: names sorted across directories, masks, links to the
// module's file, the last line of a file, procps's /etc/sysctl.conf last.
func TestSysctlBootReport(t *testing.T) {
	const (
		conf    = "/etc/sysctl.conf"
		link    = "/etc/sysctl.d/99-sysctl.conf" // → ../sysctl.conf (Debian, RHEL)
		ourConf = "# tuning\nnet.ipv4.tcp_keepalive_time = 1200\nnet.ipv4.tcp_fin_timeout = 30\n"
	)
	tests := []struct {
		name    string
		systemd bool
		file    string // the module's file; default conf
		planned string // its content after Apply; default ourConf
		files   []sysctlBootFile
		keys    []string // default keepalive=1200
		reverts []string
		boot    map[string]string // key → "value file:line", "" for not set
		read    bool
		warn    []string // substrings of the warnings, in order
	}{
		{
			name: "systemd: a later file overrides the linked sysctl.conf", systemd: true,
			files: []sysctlBootFile{
				bootOurs(link),
				bootFile("/etc/sysctl.d/zz-local.conf", "# local\n\nnet.ipv4.tcp_keepalive_time=7200\n"),
				bootFile("/usr/lib/sysctl.d/50-pid-max.conf", "kernel.pid_max = 4194304\n"),
				bootConf(conf, true, ""),
			},
			reverts: []string{keepalive},
			boot:    map[string]string{keepalive: "7200 /etc/sysctl.d/zz-local.conf:3"},
			read:    true,
			warn:    []string{"/etc/sysctl.d/zz-local.conf:3 sets net.ipv4.tcp_keepalive_time=7200 after /etc/sysctl.conf: it reverts at boot (systemd-sysctl's order)"},
		},
		{
			name: "Debian: 99-local.conf sorts before 99-sysctl.conf and does not override", systemd: true,
			files: []sysctlBootFile{
				bootFile("/etc/sysctl.d/99-local.conf", "net.ipv4.tcp_keepalive_time = 7200\n"),
				bootOurs(link),
				bootConf(conf, true, ""),
			},
			boot: map[string]string{keepalive: "1200 /etc/sysctl.conf:2"},
			read: true,
		},
		{
			name: "names sort across directories: /usr/lib's zz file comes after /etc's 99", systemd: true,
			files: []sysctlBootFile{
				bootOurs(link),
				bootFile("/run/sysctl.d/10-early.conf", "net.ipv4.tcp_keepalive_time = 10\n"),
				bootFile("/usr/lib/sysctl.d/zz-vendor.conf", "net.ipv4.tcp_fin_timeout = 60\n"),
				bootConf(conf, true, ""),
			},
			keys:    []string{"net.ipv4.tcp_keepalive_time=1200", "net.ipv4.tcp_fin_timeout=30"},
			reverts: []string{"net.ipv4.tcp_fin_timeout"},
			boot:    map[string]string{keepalive: "1200 /etc/sysctl.conf:2", "net.ipv4.tcp_fin_timeout": "60 /usr/lib/sysctl.d/zz-vendor.conf:1"},
			read:    true,
			warn:    []string{"/usr/lib/sysctl.d/zz-vendor.conf:1 sets net.ipv4.tcp_fin_timeout=60 after /etc/sysctl.conf"},
		},
		{
			name: "a name in /etc masks the vendor's file of the same name", systemd: true,
			files: []sysctlBootFile{
				bootOurs(link),
				bootFile("/etc/sysctl.d/zz-vendor.conf", "# emptied by the admin\n"),
				bootFile("/usr/lib/sysctl.d/zz-vendor.conf", "net.ipv4.tcp_keepalive_time = 7200\n"),
				bootConf(conf, true, ""),
			},
			boot: map[string]string{keepalive: "1200 /etc/sysctl.conf:2"},
			read: true,
		},
		{
			name: "a link to /dev/null in /etc masks too", systemd: true,
			files: []sysctlBootFile{
				bootOurs(link),
				{path: "/etc/sysctl.d/zz-vendor.conf"}, // not a regular file
				bootFile("/lib/sysctl.d/zz-vendor.conf", "net.ipv4.tcp_keepalive_time = 7200\n"),
				bootConf(conf, true, ""),
			},
			boot: map[string]string{keepalive: "1200 /etc/sysctl.conf:2"},
			read: true,
		},
		{
			name: "inside one file the last line wins (the override is undone)", systemd: true,
			files: []sysctlBootFile{
				bootOurs(link),
				bootFile("/etc/sysctl.d/zz-local.conf", "net.ipv4.tcp_keepalive_time = 7200\nnet/ipv4/tcp_keepalive_time = 1200\n"),
				bootConf(conf, true, ""),
			},
			boot: map[string]string{keepalive: "1200 /etc/sysctl.d/zz-local.conf:2"},
			read: true,
		},
		{
			name: "inside one file the last line wins (the override stands)", systemd: true,
			files: []sysctlBootFile{
				bootOurs(link),
				bootFile("/etc/sysctl.d/zz-local.conf", "net.ipv4.tcp_keepalive_time = 1200\n-net.ipv4.tcp_keepalive_time=7200\nnet.ipv4.*.x = 1\n"),
				bootConf(conf, true, ""),
			},
			reverts: []string{keepalive},
			boot:    map[string]string{keepalive: "7200 /etc/sysctl.d/zz-local.conf:2"},
			read:    true,
			warn:    []string{"zz-local.conf:2 sets net.ipv4.tcp_keepalive_time=7200 after"},
		},
		{
			name: "and in the module's own file too (its planned content)", systemd: true,
			planned: "net.ipv4.tcp_keepalive_time = 7200\nnet.ipv4.tcp_keepalive_time = 1200\n",
			files:   []sysctlBootFile{bootOurs(link), bootConf(conf, true, "")},
			boot:    map[string]string{keepalive: "1200 /etc/sysctl.conf:2"},
			read:    true,
		},
		{
			name:  "procps: the same files, but /etc/sysctl.conf is applied again, last",
			files: []sysctlBootFile{bootOurs(link), bootFile("/etc/sysctl.d/zz-local.conf", "net.ipv4.tcp_keepalive_time = 7200\n"), bootConf(conf, true, "")},
			boot:  map[string]string{keepalive: "1200 /etc/sysctl.conf:2"},
			read:  true,
		},
		{
			name:  "procps reads /etc/sysctl.conf even when nothing links it",
			files: []sysctlBootFile{bootFile("/etc/sysctl.d/zz-local.conf", "net.ipv4.tcp_keepalive_time = 7200\n"), bootConf(conf, true, "")},
			boot:  map[string]string{keepalive: "1200 /etc/sysctl.conf:2"},
			read:  true,
		},
		{
			name: "systemd without the 99-sysctl.conf link never reads /etc/sysctl.conf", systemd: true,
			files:   []sysctlBootFile{bootFile("/etc/sysctl.d/zz-local.conf", "net.ipv4.tcp_keepalive_time = 7200\n"), bootConf(conf, true, "")},
			keys:    []string{"net.ipv4.tcp_keepalive_time=1200", "net.ipv4.tcp_fin_timeout=30"},
			reverts: []string{keepalive, "net.ipv4.tcp_fin_timeout"},
			boot:    map[string]string{keepalive: "7200 /etc/sysctl.d/zz-local.conf:1", "net.ipv4.tcp_fin_timeout": ""},
			warn: []string{"/etc/sysctl.conf is not read at boot (systemd-sysctl reads *.conf in /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d, /lib/sysctl.d, and none of them is or links to it): " +
				"at boot net.ipv4.tcp_keepalive_time → 7200 (/etc/sysctl.d/zz-local.conf:1), net.ipv4.tcp_fin_timeout → the kernel's default"},
		},
		{
			name: "a later file with the same value is no revert", systemd: true,
			files: []sysctlBootFile{bootOurs(link), bootFile("/etc/sysctl.d/zz-local.conf", "net.ipv4.tcp_keepalive_time =  1200 \n")},
			boot:  map[string]string{keepalive: "1200 /etc/sysctl.d/zz-local.conf:1"},
			read:  true,
		},
		{
			name: "the module's sysctl.d file masked by /etc", systemd: true,
			file: "/usr/lib/sysctl.d/60-tend.conf", planned: "net.ipv4.tcp_keepalive_time = 1200\n",
			files:   []sysctlBootFile{bootFile("/etc/sysctl.d/60-tend.conf", "net.ipv4.tcp_keepalive_time = 7200\n"), bootOurs("/usr/lib/sysctl.d/60-tend.conf")},
			reverts: []string{keepalive},
			boot:    map[string]string{keepalive: "7200 /etc/sysctl.d/60-tend.conf:1"},
			warn:    []string{"/usr/lib/sysctl.d/60-tend.conf is not read at boot (/etc/sysctl.d/60-tend.conf masks /usr/lib/sysctl.d/60-tend.conf for systemd-sysctl)"},
		},
		{
			name: "a sysctl.d file Apply creates takes part where it will stand", systemd: true,
			file: "/etc/sysctl.d/zz-tend.conf", planned: "net.ipv4.tcp_keepalive_time = 1200\n",
			files: []sysctlBootFile{bootFile(link, ourConf), bootFile("/etc/sysctl.d/zz-local.conf", "net.ipv4.tcp_keepalive_time = 7200\n")},
			boot:  map[string]string{keepalive: "1200 /etc/sysctl.d/zz-tend.conf:1"},
			read:  true,
		},
		{
			name: "a file outside the directories is not read", systemd: true,
			file: "/etc/tend/sysctl.conf", planned: "net.ipv4.tcp_keepalive_time = 1200\n",
			files:   []sysctlBootFile{bootFile(link, "# nothing\n"), bootConf(conf, false, "")},
			reverts: []string{keepalive},
			boot:    map[string]string{keepalive: ""},
			warn:    []string{"/etc/tend/sysctl.conf is not read at boot"},
		},
		{
			name: "an unreadable file is named, and left out", systemd: true,
			files: []sysctlBootFile{bootOurs(link), {path: "/etc/sysctl.d/zz-secret.conf", regular: true, unreadable: true}},
			boot:  map[string]string{keepalive: "1200 /etc/sysctl.conf:2"},
			read:  true,
			warn:  []string{"/etc/sysctl.d/zz-secret.conf could not be read: the boot-time report leaves it out"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file, planned := conf, ourConf
			if tt.file != "" {
				file = tt.file
			}
			if tt.planned != "" {
				planned = tt.planned
			}
			keys := tt.keys
			if keys == nil {
				keys = []string{keepalive + "=1200"}
			}
			l := &sysctlBootListing{systemd: tt.systemd, files: tt.files}
			b := sysctlBootReport(l, defaultSysctlBoot, file, []byte(planned), true, bootKeyPlans(keys...))
			if !reflect.DeepEqual(b.reverts, tt.reverts) || b.read != tt.read {
				t.Errorf("reverts %q read %v, want %q %v", b.reverts, b.read, tt.reverts, tt.read)
			}
			for k, want := range tt.boot {
				set := b.values[k]
				got := ""
				if set.file != "" {
					got = fmt.Sprintf("%s %s:%d", set.value, set.file, set.line)
				}
				if got != want {
					t.Errorf("%s at boot: %q, want %q", k, got, want)
				}
			}
			w := b.warnings()
			if len(w) != len(tt.warn) {
				t.Fatalf("warnings %q, want %d", w, len(tt.warn))
			}
			for i := range w {
				if !strings.Contains(w[i], tt.warn[i]) {
					t.Errorf("warning %q lacks %q", w[i], tt.warn[i])
				}
			}
		})
	}
}

// The order itself: masks by name (earlier directory wins), sorts by file
// name across directories, procps's conf last (a linked conf twice, as procps applies it).
func TestSysctlBootOrder(t *testing.T) {
	files := []sysctlBootFile{
		bootFile("/usr/lib/sysctl.d/50-default.conf", ""),
		bootFile("/etc/sysctl.d/50-default.conf", ""),
		bootOurs("/etc/sysctl.d/99-sysctl.conf"),
		bootFile("/run/sysctl.d/10-run.conf", ""),
		bootFile("/usr/local/lib/sysctl.d/99-protect.conf", ""),
		bootFile("/lib/sysctl.d/99-protect.conf", ""),
		bootConf("/etc/sysctl.conf", true, ""),
	}
	names := func(fs []sysctlBootFile) string {
		var out []string
		for _, f := range fs {
			out = append(out, f.path)
		}
		return strings.Join(out, " ")
	}
	for _, tt := range []struct {
		systemd bool
		want    string
	}{
		{true, "/run/sysctl.d/10-run.conf /etc/sysctl.d/50-default.conf /usr/local/lib/sysctl.d/99-protect.conf /etc/sysctl.d/99-sysctl.conf"},
		{false, "/run/sysctl.d/10-run.conf /etc/sysctl.d/50-default.conf /usr/local/lib/sysctl.d/99-protect.conf /etc/sysctl.d/99-sysctl.conf /etc/sysctl.conf"},
	} {
		order, masked := sysctlBootOrder(tt.systemd, files, defaultSysctlBoot)
		if got := names(order); got != tt.want {
			t.Errorf("systemd=%v: order\n%s\nwant\n%s", tt.systemd, got, tt.want)
		}
		want := map[string]string{
			"/usr/lib/sysctl.d/50-default.conf": "/etc/sysctl.d/50-default.conf",
			"/lib/sysctl.d/99-protect.conf":     "/usr/local/lib/sysctl.d/99-protect.conf",
		}
		if !reflect.DeepEqual(masked, want) {
			t.Errorf("masked %v", masked)
		}
	}
}
