package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/schedule")

// scheduleCases are the golden outputs of tend schedule: absolute paths
// that do not exist, so the output is the same on every machine.
var scheduleCases = []struct {
	name string
	args []string
}{
	{"systemd", []string{"systemd", "--every", "15m", "-i", "/etc/tend/inv.yml", "-l", "web*", "-e", `msg=50% off $HOME "now"`,
		"--detailed-exitcode", "/etc/tend/pb.yml"}},
	{"cron", []string{"cron", "--every", "15m", "--jitter", "10m", "-i", "/etc/tend/inv.yml", "-l", "web*", "-e", `msg=50% off $HOME 'now'`,
		"/etc/tend/pb.yml"}},
	{"kubernetes", []string{"kubernetes", "--cron", "*/10 * * * *", "--shards", "4", "--namespace", "ops", "--image", "registry.example/tend:1.0",
		"-i", "/etc/tend/inv.yml", "--private-key", "/etc/tend/id_ed25519", "--known-hosts", "/etc/tend/known_hosts", "-e", "note=$(date)",
		"/etc/tend/pb.yml"}},
}

func TestScheduleGolden(t *testing.T) {
	for _, tt := range scheduleCases {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if err := run(context.Background(), append([]string{"schedule"}, tt.args...), &out, &errb); err != nil {
				t.Fatalf("%v\n%s", err, errb.String())
			}
			golden := filepath.Join("testdata", "schedule", tt.name+".golden")
			if *updateGolden {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != string(want) {
				t.Errorf("output differs from %s (go test -run TestScheduleGolden -update to accept):\n%s", golden, out.String())
			}
		})
	}
}

// systemd-analyze verify accepts the units: calendar, keys, sections,
// ExecStart's quoting; any warning (an unknown key) fails the test too.
// It needs no running systemd (it works in a container).
func TestScheduleSystemdVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze is needed (Debian package systemd; scripts/test.sh installs it)")
	}
	dir := t.TempDir()
	// ExecStart's program must exist: the test binary stands in for tend.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"schedule"}, scheduleCases[0].args...)
	args = append(args, "--tend", self, "--write-dir", dir, "--name", "tend-verify")
	var out, errb bytes.Buffer
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	cmd := exec.Command(sa, "verify", filepath.Join(dir, "tend-verify.service"), filepath.Join(dir, "tend-verify.timer"))
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=warning")
	got, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(got)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, got)
	}
	// The calendar is the one asked for: systemd normalises it.
	unit, _ := os.ReadFile(filepath.Join(dir, "tend-verify.timer"))
	cal := ""
	for _, l := range strings.Split(string(unit), "\n") {
		if v, ok := strings.CutPrefix(l, "OnCalendar="); ok {
			cal = v
		}
	}
	norm, err := exec.Command(sa, "calendar", cal).CombinedOutput()
	if err != nil || !strings.Contains(string(norm), "Normalized form: *-*-* *:00/15:00") {
		t.Fatalf("systemd-analyze calendar %q: %v\n%s", cal, err, norm)
	}
	// ExecStart splits into the words given, unquoted as systemd does.
	svc, _ := os.ReadFile(filepath.Join(dir, "tend-verify.service"))
	if !strings.Contains(string(svc), `"--extra-vars=msg=50%% off $$HOME \"now\""`) {
		t.Errorf("ExecStart quoting:\n%s", svc)
	}
}

// The cron line, run as cron runs it (% unescaped, then /bin/sh -c),
// passes tend exactly the words given: quoting survives $, ', %, *, spaces.
func TestScheduleCronQuoting(t *testing.T) {
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	stub := filepath.Join(dir, "tend stub")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$ARGS_FILE\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	extra := `msg=50% off $HOME 'now' "x" \n *`
	line := mustSchedule(t, []string{"cron", "--every", "5m", "--jitter", "1s", "--tend", stub, "-i", "/etc/tend/inv.yml", "-l", "web*", "-e", extra, "/etc/tend/pb.yml"})
	var cmdline string
	for _, l := range strings.Split(line, "\n") {
		if strings.HasPrefix(l, "*/5 * * * * ") {
			cmdline = strings.TrimPrefix(l, "*/5 * * * * ")
		}
	}
	if cmdline == "" {
		t.Fatalf("no */5 line in\n%s", line)
	}
	if strings.Contains(strings.ReplaceAll(cmdline, `\%`, ""), "%") {
		t.Fatalf("an unescaped %% (a newline to cron) in %s", cmdline)
	}
	cmd := exec.Command("/bin/sh", "-c", strings.ReplaceAll(cmdline, `\%`, "%"))
	cmd.Env = append(os.Environ(), "ARGS_FILE="+argsFile)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmdline, err, out)
	}
	got, _ := os.ReadFile(argsFile)
	want := strings.Join([]string{"run", "/etc/tend/pb.yml", "--inventory=/etc/tend/inv.yml", "--limit=web*", "--extra-vars=" + extra, "--min-interval=2m30s"}, "\n") + "\n"
	if string(got) != want {
		t.Errorf("tend got\n%s\nwant\n%s", got, want)
	}
}

func TestParseScheduleErrors(t *testing.T) {
	tests := []struct {
		args []string
		err  string
	}{
		{[]string{"at", "pb.yml"}, `schedule: unknown scheduler "at" (want systemd, cron or kubernetes)`},
		{[]string{"cron", "pb.yml"}, "schedule: give exactly one of --every, --on-calendar (systemd) or --cron (cron, kubernetes)"},
		{[]string{"cron", "--every", "5m", "--cron", "* * * * *", "pb.yml"}, "schedule: give exactly one of --every, --on-calendar (systemd) or --cron (cron, kubernetes)"},
		{[]string{"cron", "--every", "7m", "pb.yml"}, "schedule: --every 7m0s: want minutes dividing an hour (1m, 5m, 15m, 30m), hours dividing a day (1h, 2h, 6h) or 24h; else use --on-calendar or --cron"},
		{[]string{"cron", "--on-calendar", "daily", "pb.yml"}, "schedule: --on-calendar is systemd's: use --cron for cron"},
		{[]string{"systemd", "--cron", "* * * * *", "pb.yml"}, "schedule: --cron is cron's: use --on-calendar for systemd"},
		{[]string{"cron", "--cron", "* * * *", "pb.yml"}, `schedule: --cron "* * * *": want five fields (minute hour day month weekday)`},
		{[]string{"systemd", "--every", "1h", "--shards", "2", "pb.yml"}, "schedule: --shards is kubernetes': systemd runs on one controller"},
		{[]string{"kubernetes", "--every", "1h", "--shards", "0", "pb.yml"}, "schedule: --shards must be at least 1, not 0"},
		{[]string{"kubernetes", "--every", "1h", "--shard", "0/2", "pb.yml"}, "schedule: --shard: kubernetes --shards N gives each pod its shard; a systemd or cron schedule runs every host"},
		{[]string{"cron", "--every", "1h", "-K", "pb.yml"}, "schedule: --ask-become-pass prompts on a terminal: an unattended run has none (give ansible_become_password in a vars file)"},
		{[]string{"cron", "--every", "1h", "--forks", "0", "pb.yml"}, "schedule: run: --forks must be at least 1, not 0"},
		{[]string{"cron", "--every", "1h", "pb.yml", "x.yml"}, "schedule: want exactly one PLAYBOOK, got 2 (see tend schedule --help)"},
		{[]string{"cron", "--every", "1h", "--write-dir", "/tmp", "pb.yml"}, "schedule: --write-dir writes systemd units, not cron"},
	}
	for _, tt := range tests {
		_, err := parseSchedule(tt.args)
		if err == nil || err.Error() != tt.err {
			t.Errorf("%q:\n got %v\nwant %s", tt.args, err, tt.err)
		}
	}
}

func TestScheduleEvery(t *testing.T) {
	tests := []struct {
		every         string
		systemd, cron string
	}{
		{"1m", "*-*-* *:00/1:00", "* * * * *"},
		{"15m", "*-*-* *:00/15:00", "*/15 * * * *"},
		{"1h", "*-*-* 00/1:00:00", "0 * * * *"},
		{"6h", "*-*-* 00/6:00:00", "0 */6 * * *"},
		{"24h", "*-*-* 00:00:00", "0 0 * * *"},
	}
	for _, tt := range tests {
		s, err := parseSchedule([]string{"systemd", "--every", tt.every, "pb.yml"})
		if err != nil || s.calendar != tt.systemd {
			t.Errorf("systemd --every %s: %q %v, want %q", tt.every, s.calendar, err, tt.systemd)
		}
		// systemd parses it (systemd-analyze needs no running systemd).
		if out, err := exec.Command("systemd-analyze", "calendar", tt.systemd).CombinedOutput(); err != nil {
			t.Errorf("systemd-analyze calendar %q: %v\n%s", tt.systemd, err, out)
		}
		c, err := parseSchedule([]string{"cron", "--every", tt.every, "pb.yml"})
		if err != nil || c.calendar != tt.cron {
			t.Errorf("cron --every %s: %q %v, want %q", tt.every, c.calendar, err, tt.cron)
		}
	}
}
