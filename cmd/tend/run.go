package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"tend/internal/ansiblecfg"
	"tend/metrics"
	"tend/playbooks"
	"tend/runner"
	"tend/runner/connect"
	"tend/runner/modules"
	"tend/runner/playbook"
	"tend/runner/savedplan"
	"tend/runner/template"
	"tend/views"
)

// runFlags are the flags of `tend run`; names follow ansible-playbook.
type runFlags struct {
	inventories    []string
	limit          string
	check          bool
	syntaxCheck    bool
	diff           bool
	forks          int
	maxConnecting  int
	extraVars      []string
	connection     string
	user           string
	privateKey     string
	knownHosts     string
	sshConfig      string
	acceptNew      bool
	format         string
	detailedExit   bool
	connectTimeout time.Duration
	verbose        bool
	lockFile       string
	shard          string
	minInterval    time.Duration
	out            string
	planFile       string
	metricsFile    string
	metricsPush    string
	control        controlFlags
	become         becomeFlags
}

func newRunFlags() (*pflag.FlagSet, *runFlags) {
	f := &runFlags{}
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringArrayVarP(&f.inventories, "inventory", "i", nil, "inventory: Ansible YAML or INI file, executable script, directory, or host,list; repeatable (see tend inventory). Without it: localhost over the local connection")
	fs.StringVarP(&f.limit, "limit", "l", "", "further limit the hosts, in Ansible's pattern syntax: host, group, web*, ~regex, !exclude, &intersect, a,b or a:b lists, @retry-file")
	fs.BoolVarP(&f.check, "check", "C", false, "dry run: change nothing, show what would change (diffs, live values, restarts)")
	fs.BoolVar(&f.syntaxCheck, "syntax-check", false, "only read and check the playbook (and the inventory, when given): every error with file:line:col, exit 4; no host is contacted")
	fs.BoolVarP(&f.diff, "diff", "D", false, "show file diffs and live value changes when applying too")
	fs.IntVarP(&f.forks, "forks", "f", runner.DefaultForks, "how many hosts run at once (a play's serial: batches run within this)")
	fs.IntVar(&f.maxConnecting, "max-connecting", connect.DefaultMaxConnecting, "how many SSH handshakes run at once; the --timeout deadline starts when one begins")
	fs.StringArrayVarP(&f.extraVars, "extra-vars", "e", nil, "variable KEY=VALUE, @FILE.yml, or a JSON/YAML map; repeatable; wins over every other variable")
	fs.StringVarP(&f.connection, "connection", "c", "", "force the connection for every host: "+strings.Join(connect.Types(), " or "))
	fs.StringVarP(&f.user, "user", "u", "", "remote user when the inventory gives none (default root)")
	fs.StringVar(&f.privateKey, "private-key", "", "SSH identity file when the inventory gives none")
	fs.StringVar(&f.knownHosts, "known-hosts", "", "known_hosts file (default ~/.ssh/known_hosts)")
	fs.StringVarP(&f.sshConfig, "ssh-config", "F", "", "OpenSSH client config (default ~/.ssh/config, then /etc/ssh/ssh_config; none: read none)")
	fs.BoolVar(&f.acceptNew, "accept-new-host-keys", false, "trust and record keys of hosts not yet in known_hosts (a changed key is still refused)")
	fs.StringVar(&f.format, "format", views.Formats()[0], "output: "+views.FormatHelp())
	fs.BoolVar(&f.detailedExit, "detailed-exitcode", false, "exit 2 when something changed (or would change with --check)")
	fs.DurationVar(&f.connectTimeout, "timeout", 10*time.Second, "SSH dial and handshake timeout (when not given: ssh_config ConnectTimeout if set)")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "print the output of every command, a service's restart command's too")
	fs.StringVar(&f.lockFile, "lock-file", "", "lock taken by an applying run, so overlapping runs (cron) never interleave (default: one per user, playbook, inventory and limit, in $TMPDIR; --check takes none)")
	fs.StringVar(&f.shard, "shard", "", "run only shard I of N (I/N, 0 <= I < N) of the selected hosts, after --limit: a stable split by host name; each shard has its own lock (see tend merge)")
	fs.DurationVar(&f.minInterval, "min-interval", 0, "an applying run within this long of the last successful identical run (same lock) does nothing and exits 8: schedulers fire twice")
	fs.StringVar(&f.out, "out", "", "with --check: save the dry run as a plan file for review; apply exactly it later with --plan")
	fs.StringVar(&f.planFile, "plan", "", "apply a plan saved by --check --out: only its changes, and a host whose state moved since (a file edited, a change that differs) is refused, untouched")
	fs.StringVar(&f.metricsFile, "metrics-file", "", "write the run's metrics for node_exporter's textfile collector to this .prom file (replaced atomically)")
	fs.StringVar(&f.metricsPush, "metrics-push", "", "push the run's metrics to this Prometheus Pushgateway URL (job=\"tend\", playbook=NAME)")
	addControlFlags(fs, &f.control)
	addBecomeFlags(fs, &f.become)
	return fs, f
}

func (c *cli) runPlaybook(ctx context.Context, args []string) (result error) {
	stdout, stderr := c.stdout, c.stderr
	a, err := parseRunArgs(args)
	if err != nil {
		return badInput(err)
	}
	if a.help {
		fs, _ := newRunFlags()
		fmt.Fprint(stdout, runUsage(fs))
		return nil
	}
	f := &a.runFlags
	view, err := views.New(f.format, views.Options{Stdout: stdout, Stderr: stderr, ShowDiff: f.diff, Verbose: f.verbose, Progress: isTerminal(stderr)})
	if err != nil {
		return badInput(fmt.Errorf("run: --format: %w", err))
	}
	extra, err := parseExtraVars(f.extraVars)
	if err != nil {
		return badInput(err)
	}
	pb, pbSHA, err := loadPlaybook(a.playbook, extra)
	if err != nil {
		return badInput(err)
	}
	var saved *savedplan.Plan
	if f.planFile != "" {
		if saved, err = savedplan.Load(f.planFile); err != nil {
			return badInput(err)
		}
		if saved.PlaybookSHA256 != pbSHA {
			return badInput(fmt.Errorf("run: plan %s was made from another playbook (%s, sha256 %s; %s has %s): make a new plan", f.planFile, saved.Playbook, saved.PlaybookSHA256, a.playbook, pbSHA))
		}
		if f.limit == "" {
			f.limit = saved.Limit
		}
	}
	if f.syntaxCheck {
		return syntaxCheck(ctx, stdout, pb, a.playbook, f.inventories)
	}
	if err := playbook.MissingPrompts(pb, extra); err != nil {
		return badInput(err) // tend never prompts: refused before any host
	}
	inv, err := loadInventory(ctx, f.inventories, a.playbook)
	if err != nil {
		return badInput(err)
	}
	if !f.check {
		lock := f.lockFile
		if lock == "" {
			lock = defaultLockPath(a.playbook, f.inventories, f.limit, a.shard.String())
		}
		release, err := acquireRunLock(lock)
		if err != nil {
			return err
		}
		defer release()
		last := newLastSuccess(lock, &a)
		if err := last.tooSoon(f.minInterval, time.Now()); err != nil {
			return err
		}
		defer func() {
			if succeeded(result) {
				if err := last.record(time.Now()); err != nil {
					fmt.Fprintln(stderr, "tend: warning:", err)
				}
			}
		}()
	}
	var obs runner.Observer = view
	var rec *savedplan.Recorder
	if f.out != "" {
		rec = savedplan.NewRecorder(a.playbook, pbSHA, f.limit)
		obs = recordPlan{Observer: obs, rec: rec}
	}
	if f.metricsFile != "" || f.metricsPush != "" {
		obs = metrics.NewRecorder(metrics.Name(a.playbook), nil).Observer(obs, metrics.Targets{File: f.metricsFile, Push: f.metricsPush})
	}
	// Connection warnings are events: under --format json they are JSON lines.
	warn := func(msg string) { obs.Warning(runner.Warning{Msg: msg}) }
	conn, err := f.connector(a.timeout, inv.Hosts(), warn)
	if err != nil {
		printUnshown(view, stderr)
		return badInput(err)
	}
	opts := runner.Options{
		Check: f.check, Forks: f.forks, ExtraVars: extra, Limit: f.limit, Shard: a.shard, Observer: obs, Stop: c.stop,
		Connector: conn,
	}
	if f.verbose {
		opts.Verbosity = 1 // debug tasks with verbosity: 1 show
	}
	if saved != nil {
		opts.Approve = saved.Approver()
	}
	f.control.apply(&opts)
	if err := f.become.apply(&opts); err != nil {
		return err
	}
	sum, err := runner.Run(ctx, pb, inv, opts)
	if err != nil {
		printUnshown(view, stderr)
		var ie *runner.InputError
		if errors.As(err, &ie) {
			return badInput(err)
		}
		return err
	}
	if rec != nil {
		if err := rec.Save(f.out); err != nil {
			return err
		}
	}
	// The text view's last lines on stderr name the hosts that did not
	// succeed; JSON and markdown carry them in their own summary.
	return outcome(ctx, c.stop, sum, f.detailedExit, f.format == "text")
}

// outcome maps a run's summary to its exit code, most severe first.
func outcome(ctx context.Context, stop <-chan struct{}, sum *runner.Summary, detailed, explain bool) error {
	var hostErrs error
	if explain {
		hostErrs = sum.Err()
	}
	switch {
	case len(sum.HostKeyMismatch) > 0:
		return &exitError{code: exitHostKeyMismatch, err: fmt.Errorf("host key mismatch on %s", strings.Join(sum.HostKeyMismatch, ", "))}
	case ctx.Err() != nil || isClosed(stop):
		return &exitError{code: exitInterrupted, err: errors.New("interrupted: see the recap for what each host changed")}
	case len(sum.Failed) > len(sum.BudgetSpent): // budget-spent hosts are in Failed too
		return &exitError{code: exitFailed, err: hostErrs}
	case len(sum.BudgetSpent) > 0:
		return &exitError{code: exitBudgetSpent, err: hostErrs}
	case len(sum.HostKeyUnknown) > 0:
		return &exitError{code: exitHostKeyUnknown, err: hostErrs}
	case len(sum.Unreachable) > 0:
		return &exitError{code: exitUnreachable, err: hostErrs}
	case detailed && sum.Changed:
		return &exitError{code: exitChanged}
	}
	return nil
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// loadPlaybook reads a playbook file, or a shipped one by name, once, with
// the files it imports (task files, roles, vars files): it returns the
// playbook parsed from those bytes and their hash, which binds a saved plan
// to them. extra (-e) may name imported files.
func loadPlaybook(arg string, extra map[string]any) (*playbook.Playbook, string, error) {
	// Check: module arguments and expressions are reported along with
	// the playbook's own problems, all at once.
	cfg := ansiblecfg.Load()
	roles, rolesFrom := rolesPath(cfg)
	opts := playbook.ParseOptions{Modules: modules.Names(), Check: runner.Validate,
		ExtraVars: extra, Render: template.Render, RolesPath: roles, RolesPathOrigin: rolesFrom,
		CollectionsPath: cfg.CollectionsPath()}
	file, data := arg, []byte(nil)
	if _, err := os.Stat(arg); err == nil {
		if data, err = os.ReadFile(arg); err != nil {
			return nil, "", fmt.Errorf("playbook: %w", err)
		}
	} else if shipped, ok := playbooks.Read(arg); ok {
		file, data = "playbooks/"+strings.TrimSuffix(arg, ".yml")+".yml", shipped
	} else {
		return nil, "", fmt.Errorf("run: %s: no such file, and no shipped playbook of that name (shipped: %s)", arg, strings.Join(playbooks.Names(), ", "))
	}
	pb, err := playbook.Parse(file, data, opts)
	if err != nil {
		return nil, "", err
	}
	return pb, pb.SourceHash(), nil
}

// printUnshown prints the warnings a view held for a run that never
// started (bad input found after they were given): no view showed them.
func printUnshown(view *views.View, stderr io.Writer) {
	for _, w := range view.Unshown() {
		fmt.Fprintln(stderr, "tend: warning:", w.Msg)
	}
}
