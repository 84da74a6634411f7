package main

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

const scheduleUsage = `Usage: tend schedule systemd|cron|kubernetes PLAYBOOK [run flags] [schedule flags]

Prints what runs PLAYBOOK unattended on a schedule, with the given flags of tend run:
  systemd     a service and a timer (OnCalendar, RandomizedDelaySec, Persistent=true); the lock and
              the --min-interval record in /var/lib/tend (StateDirectory=tend); exit 8 is a success
  cron        a crontab line: a fixed per-playbook delay in [0, --jitter), then tend run with tend's
              own lock
  kubernetes  a batch/v1 CronJob: concurrencyPolicy Forbid, an Indexed Job of --shards pods each
              running --shard $(JOB_COMPLETION_INDEX)/N; the inventory, playbook and known_hosts
              from ConfigMaps, the SSH key from a Secret (the kubectl commands that create them
              are in the comments)
Relative paths are made absolute. With --every and no --min-interval (systemd, cron), a run
within half the period of the last successful identical one does nothing (exit 8).

Schedule flags:
`

// scheduleFlags are tend schedule's own flags; every other flag is one of
// tend run's and is passed through to the scheduled run.
type scheduleFlags struct {
	every      time.Duration
	onCalendar string
	cron       string
	jitter     time.Duration
	name       string
	tend       string
	image      string
	namespace  string
	shards     int
	writeDir   string
}

func addScheduleFlags(fs *pflag.FlagSet, s *scheduleFlags) {
	fs.DurationVar(&s.every, "every", 0, "how often: a number of minutes dividing an hour (5m, 15m, 1h), of hours dividing a day (2h, 6h), or 24h")
	fs.StringVar(&s.onCalendar, "on-calendar", "", "systemd: an OnCalendar= expression (see systemd.time(7)) instead of --every")
	fs.StringVar(&s.cron, "cron", "", "cron, kubernetes: a five-field schedule (\"*/10 * * * *\") instead of --every")
	fs.DurationVar(&s.jitter, "jitter", 0, "spread the start: systemd RandomizedDelaySec, cron a fixed per-playbook delay below it (default a tenth of --every, at most 5m; 1m otherwise)")
	fs.StringVar(&s.name, "name", "", "unit, cron comment or CronJob name (default tend-PLAYBOOK)")
	fs.StringVar(&s.tend, "tend", "", "the tend program the schedule runs (default /usr/local/bin/tend; kubernetes: tend on the image's PATH)")
	fs.StringVar(&s.image, "image", "tend:latest", "kubernetes: the container image that has tend")
	fs.StringVar(&s.namespace, "namespace", "", "kubernetes: the CronJob's namespace")
	fs.IntVar(&s.shards, "shards", 1, "kubernetes: how many pods split the hosts, each --shard $(JOB_COMPLETION_INDEX)/N")
	fs.StringVar(&s.writeDir, "write-dir", "", "systemd: write the .service and .timer into this directory instead of printing them")
}

// schedule is a parsed `tend schedule` command line.
type schedule struct {
	kind     string
	playbook string
	// runArgs are tend run's flags as given, canonical (--name=value), in
	// the order tend run --help lists them.
	runArgs []string
	scheduleFlags
	// calendar is the OnCalendar= or five-field cron schedule.
	calendar string
}

var unitNameUnsafe = regexp.MustCompile(`[^A-Za-z0-9:_.-]+`)

// parseSchedule parses tend schedule's arguments: a pure function of args.
func parseSchedule(args []string) (*schedule, error) {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		return nil, pflag.ErrHelp
	}
	s := &schedule{kind: args[0]}
	switch s.kind {
	case "systemd", "cron", "kubernetes":
	default:
		return nil, fmt.Errorf("schedule: unknown scheduler %q (want systemd, cron or kubernetes)", s.kind)
	}
	fs, _ := newRunFlags()
	fs.SetOutput(io.Discard)
	runNames := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) { runNames[f.Name] = true })
	addScheduleFlags(fs, &s.scheduleFlags)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("schedule: %w (see tend schedule --help)", err)
	}
	if fs.NArg() != 1 {
		return nil, fmt.Errorf("schedule: want exactly one PLAYBOOK, got %d (see tend schedule --help)", fs.NArg())
	}
	s.playbook = fs.Arg(0)
	var bad error
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Changed || !runNames[f.Name] {
			return
		}
		switch f.Name {
		case "ask-become-pass":
			bad = errors.New("schedule: --ask-become-pass prompts on a terminal: an unattended run has none (give ansible_become_password in a vars file)")
		case "shard":
			bad = errors.New("schedule: --shard: kubernetes --shards N gives each pod its shard; a systemd or cron schedule runs every host")
		}
		s.runArgs = append(s.runArgs, flagArgs(f)...)
	})
	if bad != nil {
		return nil, bad
	}
	// Check the run's flags as tend run will.
	ra, err := parseRunArgs(append(append([]string{}, s.runArgs...), s.playbook))
	if err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	if err := s.check(ra); err != nil {
		return nil, err
	}
	if s.name == "" {
		base := filepath.Base(s.playbook)
		s.name = "tend-" + strings.TrimSuffix(base, filepath.Ext(base))
	}
	s.name = strings.Trim(unitNameUnsafe.ReplaceAllString(s.name, "-"), "-")
	if s.kind == "kubernetes" {
		s.name = strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(s.name, "_", "-"), ".", "-"))
	}
	if s.jitter == 0 {
		s.jitter = time.Minute
		if s.every > 0 {
			s.jitter = min(s.every/10, 5*time.Minute)
		}
	}
	if s.every > 0 && ra.minInterval == 0 && s.kind != "kubernetes" {
		s.runArgs = append(s.runArgs, "--min-interval="+(s.every/2).String())
	}
	if s.kind != "kubernetes" {
		s.absPaths()
	}
	return s, nil
}

// check validates the schedule flags against the scheduler.
func (s *schedule) check(ra runArgs) error {
	given := 0
	for _, v := range []bool{s.every != 0, s.onCalendar != "", s.cron != ""} {
		if v {
			given++
		}
	}
	switch {
	case given != 1:
		return errors.New("schedule: give exactly one of --every, --on-calendar (systemd) or --cron (cron, kubernetes)")
	case s.onCalendar != "" && s.kind != "systemd":
		return fmt.Errorf("schedule: --on-calendar is systemd's: use --cron for %s", s.kind)
	case s.cron != "" && s.kind == "systemd":
		return errors.New("schedule: --cron is cron's: use --on-calendar for systemd")
	case s.jitter < 0:
		return fmt.Errorf("schedule: --jitter must not be negative, not %s", s.jitter)
	case s.shards < 1:
		return fmt.Errorf("schedule: --shards must be at least 1, not %d", s.shards)
	case s.shards > 1 && s.kind != "kubernetes":
		return fmt.Errorf("schedule: --shards is kubernetes': %s runs on one controller", s.kind)
	case s.writeDir != "" && s.kind != "systemd":
		return fmt.Errorf("schedule: --write-dir writes systemd units, not %s", s.kind)
	case strings.ContainsAny(s.onCalendar+s.cron, "\n\r"):
		return errors.New("schedule: a schedule is one line")
	}
	var err error
	switch {
	case s.onCalendar != "":
		s.calendar = s.onCalendar
	case s.cron != "":
		if len(strings.Fields(s.cron)) != 5 {
			return fmt.Errorf("schedule: --cron %q: want five fields (minute hour day month weekday)", s.cron)
		}
		s.calendar = s.cron
	case s.kind == "systemd":
		s.calendar, err = everyCalendar(s.every)
	default:
		s.calendar, err = everyCron(s.every)
	}
	return err
}

// everyParts splits a period into minutes dividing an hour or hours
// dividing a day, which both calendars express exactly.
func everyParts(d time.Duration) (minutes, hours int, err error) {
	switch {
	case d >= time.Minute && d < time.Hour && d%time.Minute == 0 && 60%int(d/time.Minute) == 0:
		return int(d / time.Minute), 0, nil
	case d >= time.Hour && d <= 24*time.Hour && d%time.Hour == 0 && 24%int(d/time.Hour) == 0:
		return 0, int(d / time.Hour), nil
	}
	return 0, 0, fmt.Errorf("schedule: --every %s: want minutes dividing an hour (1m, 5m, 15m, 30m), hours dividing a day (1h, 2h, 6h) or 24h; else use --on-calendar or --cron", d)
}

func everyCalendar(d time.Duration) (string, error) {
	m, h, err := everyParts(d)
	switch {
	case err != nil:
		return "", err
	case m > 0:
		return fmt.Sprintf("*-*-* *:00/%d:00", m), nil
	case h == 24:
		return "*-*-* 00:00:00", nil
	default:
		return fmt.Sprintf("*-*-* 00/%d:00:00", h), nil
	}
}

func everyCron(d time.Duration) (string, error) {
	m, h, err := everyParts(d)
	switch {
	case err != nil:
		return "", err
	case m == 1:
		return "* * * * *", nil
	case m > 0:
		return fmt.Sprintf("*/%d * * * *", m), nil
	case h == 1:
		return "0 * * * *", nil
	case h == 24:
		return "0 0 * * *", nil
	default:
		return fmt.Sprintf("0 */%d * * *", h), nil
	}
}

// flagArgs renders a given flag canonically, as --name=value (one per
// value of a repeatable flag).
func flagArgs(f *pflag.Flag) []string {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		var out []string
		for _, v := range sv.GetSlice() {
			out = append(out, "--"+f.Name+"="+v)
		}
		return out
	}
	if f.Value.Type() == "bool" && f.Value.String() == "true" {
		return []string{"--" + f.Name}
	}
	return []string{"--" + f.Name + "=" + f.Value.String()}
}

// pathFlags are tend run's flags that name a local file.
var pathFlags = map[string]bool{"inventory": true, "private-key": true, "known-hosts": true, "ssh-config": true,
	"lock-file": true, "out": true, "plan": true, "retry-file": true, "metrics-file": true}

// absPaths makes the playbook's and the files' paths absolute: cron starts
// in $HOME, systemd in /.
func (s *schedule) absPaths() {
	s.playbook = absOr(s.playbook)
	for i, a := range s.runArgs {
		name, val, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		switch {
		case name == "inventory":
			val = absOr(val) // a host list ("a,b") stays one
		case name == "extra-vars" && strings.HasPrefix(val, "@"):
			val = "@" + absPath(val[1:])
		case pathFlags[name] && !(name == "ssh-config" && val == "none"):
			val = absPath(val)
		default:
			continue
		}
		s.runArgs[i] = "--" + name + "=" + val
	}
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// hasRunFlag says whether the scheduled run is given the flag name.
func (s *schedule) hasRunFlag(name string) bool {
	for _, a := range s.runArgs {
		if a == "--"+name || strings.HasPrefix(a, "--"+name+"=") {
			return true
		}
	}
	return false
}

// offset is the cron schedule's fixed delay: a hash of the name and the
// playbook below the jitter, so playbooks scheduled alike start apart.
func (s *schedule) offset() int {
	n := int(s.jitter / time.Second)
	if n <= 0 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(s.name + "\x00" + s.playbook))
	return int(h.Sum32() % uint32(n))
}

// runSchedule is `tend schedule`.
func (c *cli) runSchedule(args []string) error {
	s, err := parseSchedule(args)
	if errors.Is(err, pflag.ErrHelp) {
		fs := pflag.NewFlagSet("schedule", pflag.ContinueOnError)
		addScheduleFlags(fs, &scheduleFlags{})
		fmt.Fprint(c.stdout, scheduleUsage+fs.FlagUsages())
		return nil
	}
	if err != nil {
		return badInput(err)
	}
	switch s.kind {
	case "systemd":
		files := s.systemdUnits()
		if s.writeDir == "" {
			for i, f := range files {
				if i > 0 {
					fmt.Fprintln(c.stdout)
				}
				fmt.Fprintf(c.stdout, "# /etc/systemd/system/%s\n%s", f.name, f.text)
			}
			return nil
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(s.writeDir, f.name), []byte(f.text), 0o644); err != nil {
				return fmt.Errorf("schedule: %w", err)
			}
		}
		return nil
	case "cron":
		fmt.Fprint(c.stdout, s.cronText())
	default:
		text, err := s.kubernetesYAML()
		if err != nil {
			return err
		}
		fmt.Fprint(c.stdout, text)
	}
	return nil
}
