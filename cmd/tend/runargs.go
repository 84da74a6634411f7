package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/spf13/pflag"

	"tend/metrics"
	"tend/runner"
	"tend/runner/connect"
	"tend/views"
)

// runArgs is the command line of `tend run`, parsed and checked for
// consistency: nothing is read from disk and no host is contacted yet.
type runArgs struct {
	runFlags
	// playbook is the PLAYBOOK argument: a path or a shipped name.
	playbook string
	// timeout is --timeout when given, else zero so that ssh_config's
	// ConnectTimeout, then the 10s default, applies.
	timeout time.Duration
	// shard is --shard parsed; the zero Shard runs every host.
	shard runner.Shard
	// help is set by -h/--help: print the usage, run nothing.
	help bool
}

// parseRunArgs parses `tend run`'s arguments. It is a pure function of
// args, so every flag rule is table-tested without running anything; an
// error is bad input (exit 4).
func parseRunArgs(args []string) (runArgs, error) {
	fs, f := newRunFlags()
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return runArgs{help: true}, nil
		}
		return runArgs{}, fmt.Errorf("run: %w (see tend run --help)", err)
	}
	a := runArgs{runFlags: *f}
	if fs.NArg() != 1 {
		return runArgs{}, fmt.Errorf("run: want exactly one PLAYBOOK, got %d (see tend run --help)", fs.NArg())
	}
	a.playbook = fs.Arg(0)
	if fs.Changed("timeout") {
		a.timeout = f.connectTimeout
	}
	var err error
	if err := views.CheckFormat(f.format); err != nil {
		return runArgs{}, fmt.Errorf("run: --format: %w", err)
	}
	if f.metricsFile != "" {
		if err := metrics.CheckFile(f.metricsFile); err != nil {
			return runArgs{}, fmt.Errorf("run: --metrics-file: %w", err)
		}
	}
	if f.metricsPush != "" {
		if u, err := url.Parse(f.metricsPush); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return runArgs{}, fmt.Errorf("run: --metrics-push: %q is not an http(s) URL", f.metricsPush)
		}
	}
	if f.connection != "" {
		if err := connect.CheckType(f.connection); err != nil {
			return runArgs{}, fmt.Errorf("run: --connection: %w", err)
		}
	}
	if f.shard != "" {
		if a.shard, err = runner.ParseShard(f.shard); err != nil {
			return runArgs{}, fmt.Errorf("run: --shard: %w", err)
		}
	}
	switch {
	case f.minInterval < 0:
		return runArgs{}, fmt.Errorf("run: --min-interval must not be negative, not %s", f.minInterval)
	case f.minInterval > 0 && f.check:
		return runArgs{}, errors.New("run: --min-interval skips a repeated applying run: not with --check")
	case f.out != "" && !f.check:
		return runArgs{}, errors.New("run: --out saves a dry run: use it with --check")
	case f.planFile != "" && f.check:
		return runArgs{}, errors.New("run: --plan applies a saved plan: not with --check")
	case f.forks < 1:
		return runArgs{}, fmt.Errorf("run: --forks must be at least 1, not %d", f.forks)
	case f.maxConnecting < 1:
		return runArgs{}, fmt.Errorf("run: --max-connecting must be at least 1, not %d", f.maxConnecting)
	case fs.Changed("timeout") && f.connectTimeout <= 0:
		return runArgs{}, fmt.Errorf("run: --timeout must be positive, not %s", f.connectTimeout)
	}
	return a, nil
}
