package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/pflag"
)

const usage = `tend — run a remediation playbook safely across hosts over SSH

Usage:
  tend run PLAYBOOK [flags]     run a playbook (a path, or the name of a shipped one)
  tend playbooks [NAME]         list the shipped playbooks and their purpose, or print NAME's
                                header (what it does, its variables)
  tend schedule systemd|cron|kubernetes PLAYBOOK [flags]  print what runs PLAYBOOK on a schedule
                                (see tend schedule --help)
  tend merge FILE...            one recap from the --format json outputs of a run's shards (--shard)
  tend inventory -i INV (--list|--graph|--host H)  show hosts, groups and variables as tend resolves them
  tend version                  print the version
  tend help [run]               this help, or the flags of run

Exit codes:
  0    success: every host ok
  1    a task (or its verification) failed on some host
  2    with --detailed-exitcode: something changed, or would change in --check
  3    some host was unreachable, none failed
  4    bad input (playbook, inventory, flags): no host was contacted
  5    HOST KEY MISMATCH: a host's key differs from known_hosts (never accepted)
  6    unknown host key refused (add it, or pass --accept-new-host-keys)
  7    another applying run of this playbook holds the lock: no host was touched
  8    --min-interval: an identical run succeeded less than that long ago (a scheduler
       fired twice): no host was touched
  9    a task's budget: is spent on some host (it changed that host max times within
       per), or its record there is unreadable: not changed again; nothing else failed
  130  interrupted by SIGINT (143: SIGTERM): each host finished its current step and
       started no other; nothing is half-written. A second signal aborts at once.
When several apply, the most severe wins: 4, 5, 1, 9, 6, 3, 2, 0 (7 and 8 come alone: no host
is contacted). With 1, 9, 3 or 6 the text format's last lines on stderr name each host that did not
succeed and why (secrets redacted), one per line.
`

// cli is one invocation of tend: where it writes, and the channel closed on
// the first SIGINT/SIGTERM (nil: never), on which every host finishes the
// step it is in and starts no other.
type cli struct {
	stdout, stderr io.Writer
	stop           <-chan struct{}
}

// run runs tend with no signal handling: the tests' entry point.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return (&cli{stdout: stdout, stderr: stderr}).run(ctx, args)
}

// run dispatches the subcommand. It is main without the process: testable.
func (c *cli) run(ctx context.Context, args []string) error {
	stdout, stderr := c.stdout, c.stderr
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{code: exitBadInput}
	}
	switch args[0] {
	case "run":
		return c.runPlaybook(ctx, args[1:])
	case "merge":
		return c.runMerge(ctx, args[1:])
	case "schedule":
		return c.runSchedule(args[1:])
	case "inventory":
		return runInventory(ctx, args[1:], stdout, stderr)
	case "playbooks":
		return showPlaybooks(args[1:], stdout)
	case "version", "--version":
		fmt.Fprintln(stdout, "tend", version())
		return nil
	case "help", "-h", "--help":
		if len(args) > 1 && args[1] == "run" {
			f, _ := newRunFlags()
			fmt.Fprint(stdout, runUsage(f))
			return nil
		}
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return &exitError{code: exitBadInput, err: fmt.Errorf("unknown command %q", args[0])}
	}
}

func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

func runUsage(f *pflag.FlagSet) string {
	return "Usage: tend run PLAYBOOK [flags]\n\nPLAYBOOK is a file path or the name of a shipped playbook (see `tend playbooks`).\n" +
		"What it imports (task files, playbooks, vars files, roles: roles/ beside it, then $TEND_ROLES_PATH,\n" +
		"else Ansible's roles_path: $ANSIBLE_ROLES_PATH, else ansible.cfg's) and group_vars/, host_vars/ beside it\n" +
		"are read before any host is contacted.\n\nFlags:\n" +
		f.FlagUsages() + "\n" + usage[stringIndex(usage, "Exit codes:"):]
}

func stringIndex(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return 0
}

// badInput wraps an input error for exit code 4.
func badInput(err error) error { return &exitError{code: exitBadInput, err: err} }
