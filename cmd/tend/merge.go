package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"tend/runner"
	"tend/views"
)

const mergeUsage = `Usage: tend merge [--format text|json] FILE...

Combines the --format json outputs of the shards of one run (tend run --shard I/N) into one
recap; exits as that run would have (1 if a host failed, 3 if one was unreachable, ...).
Files from different playbooks, or from check and applying runs, are refused (exit 4).
`

// shardOutput is what merge reads from one shard's JSON lines.
type shardOutput struct {
	file  string
	start runner.RunStart
	sum   runner.Summary
}

// mergedStart is the run_start of a merged recap: the shards it combines.
type mergedStart struct {
	Schema   int      `json:"schema"`
	Playbook string   `json:"playbook"`
	Check    bool     `json:"check"`
	Shards   []string `json:"shards,omitempty"`
}

// runMerge is `tend merge`.
func (c *cli) runMerge(ctx context.Context, args []string) error {
	fs := pflag.NewFlagSet("merge", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "text", "output: text or json")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(c.stdout, mergeUsage)
			return nil
		}
		return badInput(fmt.Errorf("merge: %w (see tend merge --help)", err))
	}
	if *format != "text" && *format != "json" {
		return badInput(fmt.Errorf("merge: --format: want text or json, not %q", *format))
	}
	if fs.NArg() == 0 {
		return badInput(errors.New("merge: want at least one FILE (see tend merge --help)"))
	}
	var outs []shardOutput
	for _, file := range fs.Args() {
		o, err := readShardOutput(file)
		if err != nil {
			return badInput(err)
		}
		outs = append(outs, o)
	}
	start, sum, warnings, err := mergeShards(outs)
	if err != nil {
		return badInput(err)
	}
	for _, w := range warnings {
		fmt.Fprintln(c.stderr, "tend: warning:", w)
	}
	if *format == "json" {
		enc := json.NewEncoder(c.stdout)
		// The events tend run --format json writes, in its field order.
		type event struct {
			Event string `json:"event"`
			Data  any    `json:"data"`
		}
		_ = enc.Encode(event{"run_start", start})
		_ = enc.Encode(event{"summary", sum})
	} else {
		view, err := views.New("text", views.Options{Stdout: c.stdout, Stderr: c.stderr})
		if err != nil {
			return err
		}
		view.RunStarted(runner.RunStart{Schema: start.Schema, Playbook: start.Playbook, Check: start.Check})
		view.RunDone(sum)
	}
	return outcome(ctx, nil, &sum, false, false)
}

// readShardOutput reads one run's JSON lines: its run_start and summary.
func readShardOutput(file string) (shardOutput, error) {
	o := shardOutput{file: file}
	f, err := os.Open(file)
	if err != nil {
		return o, fmt.Errorf("merge: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	var started, done bool
	for line := 1; sc.Scan(); line++ {
		var ev struct {
			Event string          `json:"event"`
			Data  json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return o, fmt.Errorf("merge: %s:%d: not a --format json event: %w", file, line, err)
		}
		switch ev.Event {
		case "run_start":
			started = true
			err = json.Unmarshal(ev.Data, &o.start)
		case "summary":
			done = true
			err = json.Unmarshal(ev.Data, &o.sum)
		}
		if err != nil {
			return o, fmt.Errorf("merge: %s:%d: %s: %w", file, line, ev.Event, err)
		}
	}
	if err := sc.Err(); err != nil {
		return o, fmt.Errorf("merge: %s: %w", file, err)
	}
	switch {
	case !started:
		return o, fmt.Errorf("merge: %s: no run_start event: not the output of tend run --format json", file)
	case o.start.Schema != runner.EventSchema:
		return o, fmt.Errorf("merge: %s: event schema %d, this tend reads %d", file, o.start.Schema, runner.EventSchema)
	case !done:
		return o, fmt.Errorf("merge: %s: no summary event: the run did not finish", file)
	}
	return o, nil
}

// mergeShards combines the shards' recaps into one, refusing outputs of
// different playbooks or modes, a host or a shard given twice; missing
// shards are warnings.
func mergeShards(outs []shardOutput) (mergedStart, runner.Summary, []string, error) {
	first := outs[0]
	start := mergedStart{Schema: runner.EventSchema, Playbook: first.start.Playbook, Check: first.start.Check}
	var sum runner.Summary
	hostFile := map[string]string{}
	shardFile := map[string]string{}
	count := 0
	var aborted []string
	for _, o := range outs {
		switch {
		case o.start.Playbook != first.start.Playbook:
			return start, sum, nil, fmt.Errorf("merge: %s ran playbook %s, %s ran %s: not shards of one run", o.file, o.start.Playbook, first.file, first.start.Playbook)
		case o.start.Check != first.start.Check:
			return start, sum, nil, fmt.Errorf("merge: %s and %s: one is a dry run (--check), the other is not", first.file, o.file)
		}
		if s := o.start.Shard; s != "" {
			sh, err := runner.ParseShard(s)
			if err != nil {
				return start, sum, nil, fmt.Errorf("merge: %s: %w", o.file, err)
			}
			if count != 0 && sh.Count != count {
				return start, sum, nil, fmt.Errorf("merge: %s is shard %s, another file is of %d shards", o.file, s, count)
			}
			count = sh.Count
			if prev, ok := shardFile[s]; ok {
				return start, sum, nil, fmt.Errorf("merge: shard %s is in both %s and %s", s, prev, o.file)
			}
			shardFile[s] = o.file
			start.Shards = append(start.Shards, s)
		}
		for _, h := range o.sum.Hosts {
			if prev, ok := hostFile[h.Host]; ok {
				return start, sum, nil, fmt.Errorf("merge: host %s is in both %s and %s", h.Host, prev, o.file)
			}
			hostFile[h.Host] = o.file
		}
		sum.Hosts = append(sum.Hosts, o.sum.Hosts...)
		sum.Changed = sum.Changed || o.sum.Changed
		sum.Failed = append(sum.Failed, o.sum.Failed...)
		sum.BudgetSpent = append(sum.BudgetSpent, o.sum.BudgetSpent...)
		sum.Unreachable = append(sum.Unreachable, o.sum.Unreachable...)
		sum.HostKeyMismatch = append(sum.HostKeyMismatch, o.sum.HostKeyMismatch...)
		sum.HostKeyUnknown = append(sum.HostKeyUnknown, o.sum.HostKeyUnknown...)
		sum.Stopped = append(sum.Stopped, o.sum.Stopped...)
		if o.sum.Aborted != "" && !slices.Contains(aborted, o.sum.Aborted) {
			aborted = append(aborted, o.sum.Aborted)
		}
		sum.Duration = max(sum.Duration, o.sum.Duration)
	}
	slices.SortFunc(sum.Hosts, func(a, b runner.HostRecap) int { return strings.Compare(a.Host, b.Host) })
	for _, l := range [][]string{sum.Failed, sum.BudgetSpent, sum.Unreachable, sum.HostKeyMismatch, sum.HostKeyUnknown, sum.Stopped} {
		slices.Sort(l)
	}
	sum.Aborted = strings.Join(aborted, "; ")
	slices.SortFunc(start.Shards, func(a, b string) int {
		x, _ := runner.ParseShard(a)
		y, _ := runner.ParseShard(b)
		return x.Index - y.Index
	})
	var warnings []string
	if count > 0 && len(shardFile) < count {
		var missing []string
		for i := range count {
			if s := (runner.Shard{Index: i, Count: count}).String(); shardFile[s] == "" {
				missing = append(missing, s)
			}
		}
		warnings = append(warnings, fmt.Sprintf("merge: shard %s missing: the recap covers %d of %d shards", strings.Join(missing, ", "), len(shardFile), count))
	}
	return start, sum, warnings, nil
}
