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

	"tend/inventory"
	"tend/playbooks"
	"tend/runner"
	"tend/runner/connect"
	"tend/runner/modules"
	"tend/runner/playbook"
	"tend/runner/savedplan"
	"tend/views"
)

// runFlags are the flags of `tend run`; names follow ansible-playbook.
type runFlags struct {
	inventories    []string
	limit          string
	check          bool
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
	out            string
	planFile       string
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
	fs.StringVar(&f.format, "format", "text", "output: text, json (JSON lines, one event per line) or markdown (a change-review document, written at the end)")
	fs.BoolVar(&f.detailedExit, "detailed-exitcode", false, "exit 2 when something changed (or would change with --check)")
	fs.DurationVar(&f.connectTimeout, "timeout", 10*time.Second, "SSH dial and handshake timeout (when not given: ssh_config ConnectTimeout if set)")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "print the output of every command")
	fs.StringVar(&f.lockFile, "lock-file", "", "lock taken by an applying run, so overlapping runs (cron) never interleave (default: one per user, playbook, inventory and limit, in $TMPDIR; --check takes none)")
	fs.StringVar(&f.out, "out", "", "with --check: save the dry run as a plan file for review; apply exactly it later with --plan")
	fs.StringVar(&f.planFile, "plan", "", "apply a plan saved by --check --out: only its changes, and a host whose state moved since (a file edited, a change that differs) is refused, untouched")
	addControlFlags(fs, &f.control)
	addBecomeFlags(fs, &f.become)
	return fs, f
}

func runPlaybook(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newRunFlags()
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, runUsage(fs))
			return nil
		}
		return badInput(fmt.Errorf("run: %w (see tend run --help)", err))
	}
	if fs.NArg() != 1 {
		return badInput(fmt.Errorf("run: want exactly one PLAYBOOK, got %d (see tend run --help)", fs.NArg()))
	}
	if f.format != "text" && f.format != "json" && f.format != "markdown" {
		return badInput(fmt.Errorf("run: --format must be text, json or markdown, not %q", f.format))
	}
	if f.connection != "" {
		if err := connect.CheckType(f.connection); err != nil {
			return badInput(fmt.Errorf("run: --connection: %w", err))
		}
	}
	if f.out != "" && !f.check {
		return badInput(errors.New("run: --out saves a dry run: use it with --check"))
	}
	if f.planFile != "" && f.check {
		return badInput(errors.New("run: --plan applies a saved plan: not with --check"))
	}
	pb, err := loadPlaybook(fs.Arg(0))
	if err != nil {
		return badInput(err)
	}
	pbSHA, err := playbookSHA(fs.Arg(0))
	if err != nil {
		return badInput(err)
	}
	var saved *savedplan.Plan
	if f.planFile != "" {
		if saved, err = savedplan.Load(f.planFile); err != nil {
			return badInput(err)
		}
		if saved.PlaybookSHA256 != pbSHA {
			return badInput(fmt.Errorf("run: plan %s was made from another playbook (%s, sha256 %s; %s has %s): make a new plan", f.planFile, saved.Playbook, saved.PlaybookSHA256, fs.Arg(0), pbSHA))
		}
		if f.limit == "" {
			f.limit = saved.Limit
		}
	}
	inv := inventory.Implicit()
	if len(f.inventories) > 0 {
		if inv, err = inventory.LoadContext(ctx, f.inventories...); err != nil {
			return badInput(err)
		}
	}
	if !f.check {
		lock := f.lockFile
		if lock == "" {
			lock = defaultLockPath(fs.Arg(0), f.inventories, f.limit)
		}
		release, err := acquireRunLock(lock)
		if err != nil {
			return err
		}
		defer release()
	}
	extra, err := parseExtraVars(f.extraVars)
	if err != nil {
		return badInput(err)
	}
	var obs runner.Observer
	switch f.format {
	case "json":
		obs = views.NewJSONLines(stdout)
	case "markdown":
		obs = views.NewMarkdown(stdout)
	default:
		h := views.NewHuman(stdout, f.diff)
		h.Verbose = f.verbose
		humanOnTerminal(h, stderr)
		obs = h
	}
	warn := warner(obs, stderr) // the view's own, before any wrapping
	var rec *savedplan.Recorder
	if f.out != "" {
		rec = savedplan.NewRecorder(obs, fs.Arg(0), pbSHA, f.limit)
		obs = rec
	}
	conn, err := f.connector(fs, inv.Hosts(), warn)
	if err != nil {
		return badInput(err)
	}
	opts := runner.Options{
		Check: f.check, Forks: f.forks, ExtraVars: extra, Limit: f.limit, Observer: obs, Stop: gracefulStop,
		Connector: conn,
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
	return outcome(ctx, sum, f.detailedExit)
}

// explicitTimeout is --timeout when given; otherwise zero, so that
// ssh_config's ConnectTimeout, then the 10s default, applies.
func explicitTimeout(fs *pflag.FlagSet, d time.Duration) time.Duration {
	if fs.Changed("timeout") {
		return d
	}
	return 0
}

// outcome maps a run's summary to its exit code, most severe first.
func outcome(ctx context.Context, sum *runner.Summary, detailed bool) error {
	switch {
	case len(sum.HostKeyMismatch) > 0:
		return &exitError{code: exitHostKeyMismatch, err: fmt.Errorf("host key mismatch on %s", strings.Join(sum.HostKeyMismatch, ", "))}
	case ctx.Err() != nil || isClosed(gracefulStop):
		return &exitError{code: exitInterrupted, err: errors.New("interrupted: see the recap for what each host changed")}
	case len(sum.Failed) > 0:
		return &exitError{code: exitFailed}
	case len(sum.HostKeyUnknown) > 0:
		return &exitError{code: exitHostKeyUnknown}
	case len(sum.Unreachable) > 0:
		return &exitError{code: exitUnreachable}
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

// loadPlaybook reads a playbook file, or a shipped one by name.
func loadPlaybook(arg string) (*playbook.Playbook, error) {
	opts := playbook.ParseOptions{Modules: modules.Names()}
	if _, err := os.Stat(arg); err == nil {
		return playbook.Load(arg, opts)
	}
	if data, ok := playbooks.Read(arg); ok {
		return playbook.Parse("playbooks/"+strings.TrimSuffix(arg, ".yml")+".yml", data, opts)
	}
	return nil, fmt.Errorf("run: %s: no such file, and no shipped playbook of that name (shipped: %s)", arg, strings.Join(playbooks.Names(), ", "))
}

// playbookSHA hashes the playbook's content (a file, or a shipped one), to
// bind a saved plan to it.
func playbookSHA(arg string) (string, error) {
	if data, err := os.ReadFile(arg); err == nil {
		return savedplan.HashFile(data), nil
	}
	if data, ok := playbooks.Read(arg); ok {
		return savedplan.HashFile(data), nil
	}
	return "", fmt.Errorf("run: %s: cannot read the playbook", arg)
}

func listPlaybooks(stdout io.Writer) error {
	for _, n := range playbooks.Names() {
		fmt.Fprintln(stdout, n)
	}
	return nil
}
