package main

import (
	"reflect"
	"testing"
	"time"

	"tend/runner"
	"tend/runner/connect"
)

func TestParseRunArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		// check inspects the parsed arguments when err is "".
		check func(t *testing.T, a runArgs)
		err   string
	}{
		{name: "defaults", args: []string{"site.yml"}, check: func(t *testing.T, a runArgs) {
			if a.playbook != "site.yml" || a.check || a.format != "text" || a.forks != runner.DefaultForks ||
				a.maxConnecting != connect.DefaultMaxConnecting || a.timeout != 0 || a.help {
				t.Errorf("got %+v", a)
			}
		}},
		{name: "ansible-playbook's short flags", args: []string{"-C", "-D", "-i", "a.yml", "-i", "b.ini", "-l", "web*", "-f", "7", "-e", "k=v", "-e", "@x.yml", "-c", "local", "-u", "ops", "-v", "-b", "pb.yml"},
			check: func(t *testing.T, a runArgs) {
				if !a.check || !a.diff || !reflect.DeepEqual(a.inventories, []string{"a.yml", "b.ini"}) || a.limit != "web*" || a.forks != 7 ||
					!reflect.DeepEqual(a.extraVars, []string{"k=v", "@x.yml"}) || a.connection != "local" || a.user != "ops" || !a.verbose || !a.become.become {
					t.Errorf("got %+v", a)
				}
			}},
		{name: "--timeout given wins over ssh_config", args: []string{"--timeout", "3s", "pb.yml"}, check: func(t *testing.T, a runArgs) {
			if a.timeout != 3*time.Second {
				t.Errorf("timeout %s, want 3s", a.timeout)
			}
		}},
		{name: "flags after the playbook", args: []string{"pb.yml", "--check", "--format", "json"}, check: func(t *testing.T, a runArgs) {
			if !a.check || a.format != "json" {
				t.Errorf("got %+v", a)
			}
		}},
		{name: "plan and out", args: []string{"-C", "--out", "p.json", "pb.yml"}, check: func(t *testing.T, a runArgs) {
			if a.out != "p.json" {
				t.Errorf("out %q", a.out)
			}
		}},
		{name: "shard and min-interval", args: []string{"--shard", "2/4", "--min-interval", "10m", "pb.yml"}, check: func(t *testing.T, a runArgs) {
			if a.shard != (runner.Shard{Index: 2, Count: 4}) || a.minInterval != 10*time.Minute {
				t.Errorf("shard %+v, min-interval %s", a.shard, a.minInterval)
			}
		}},
		{name: "no shard", args: []string{"pb.yml"}, check: func(t *testing.T, a runArgs) {
			if a.shard != (runner.Shard{}) {
				t.Errorf("shard %+v", a.shard)
			}
		}},
		{name: "help", args: []string{"--help"}, check: func(t *testing.T, a runArgs) {
			if !a.help {
				t.Error("help not set")
			}
		}},
		{name: "metrics file and push", args: []string{"--metrics-file", "/var/lib/node/tend.prom", "--metrics-push", "http://127.0.0.1:9091", "pb.yml"}, check: func(t *testing.T, a runArgs) {
			if a.metricsFile != "/var/lib/node/tend.prom" || a.metricsPush != "http://127.0.0.1:9091" {
				t.Errorf("metrics %q %q", a.metricsFile, a.metricsPush)
			}
		}},
		{name: "metrics file not .prom", args: []string{"--metrics-file", "tend.txt", "pb.yml"}, err: "run: --metrics-file: tend.txt: node_exporter's textfile collector reads only files named *.prom"},
		{name: "metrics push not a URL", args: []string{"--metrics-push", "gateway:9091", "pb.yml"}, err: `run: --metrics-push: "gateway:9091" is not an http(s) URL`},
		{name: "no playbook", args: nil, err: "run: want exactly one PLAYBOOK, got 0 (see tend run --help)"},
		{name: "two playbooks", args: []string{"a.yml", "b.yml"}, err: "run: want exactly one PLAYBOOK, got 2 (see tend run --help)"},
		{name: "unknown flag", args: []string{"--chek", "pb.yml"}, err: "run: unknown flag: --chek (see tend run --help)"},
		{name: "bad format", args: []string{"--format", "yaml", "pb.yml"}, err: `run: --format: views: unknown format "yaml" (want text, json or markdown)`},
		{name: "bad connection", args: []string{"-c", "locl", "pb.yml"}, err: `run: --connection: connection type "locl" is not supported (did you mean "local"?)`},
		{name: "out without check", args: []string{"--out", "p.json", "pb.yml"}, err: "run: --out saves a dry run: use it with --check"},
		{name: "plan with check", args: []string{"-C", "--plan", "p.json", "pb.yml"}, err: "run: --plan applies a saved plan: not with --check"},
		{name: "zero forks", args: []string{"-f", "0", "pb.yml"}, err: "run: --forks must be at least 1, not 0"},
		{name: "zero max-connecting", args: []string{"--max-connecting", "0", "pb.yml"}, err: "run: --max-connecting must be at least 1, not 0"},
		{name: "non-positive timeout", args: []string{"--timeout", "0s", "pb.yml"}, err: "run: --timeout must be positive, not 0s"},
		{name: "shard out of range", args: []string{"--shard", "4/4", "pb.yml"}, err: `run: --shard: shard "4/4": want 0 <= I < N and N >= 1`},
		{name: "shard not I/N", args: []string{"--shard", "2", "pb.yml"}, err: `run: --shard: shard "2": want I/N, e.g. 0/4`},
		{name: "negative min-interval", args: []string{"--min-interval", "-1m", "pb.yml"}, err: "run: --min-interval must not be negative, not -1m0s"},
		{name: "min-interval with check", args: []string{"-C", "--min-interval", "1m", "pb.yml"}, err: "run: --min-interval skips a repeated applying run: not with --check"},
		{name: "bad duration", args: []string{"--timeout", "soon", "pb.yml"}, err: `run: invalid argument "soon" for "--timeout" flag: must be a duration like "30s" or "5m" (see tend run --help)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := parseRunArgs(tt.args)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error\n got %v\nwant %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, a)
		})
	}
}
