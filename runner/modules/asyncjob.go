package modules

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"tend/runner/plan"
	"tend/runner/transport"
)

// An async job (a task's async:) runs one program on the host, detached
// from the SSH session: setsid and nohup, its stdin, stdout and stderr in
// files, so it goes on when the connection drops. Its files live in the
// async dir (Ansible's ~/.ansible_async, or the host's ansible_async_dir),
// of the user the task runs as (its become user):
//
//	DIR/JID       the job file, {"started": 1, "finished": 0, ...}: results_file
//	DIR/JID.out   the program's stdout; DIR/JID.err its stderr
//	DIR/JID.rc    written when it ends: its exit code, or "timeout"
//	DIR/JID.in    its stdin (the script's ARGs included), removed once opened
//
// A watchdog kills the job's process group when it outlives the async
// limit, as Ansible's async_wrapper does (at least 5 s after it, so a
// poller waiting exactly the limit sees it unfinished, as Ansible's does).

// AsyncRunner is implemented by the modules whose whole work is one
// program (command, shell): an async task runs that program as a job.
type AsyncRunner interface {
	// AsyncCommand is the program, as Apply would run it.
	AsyncCommand() transport.Command
}

// AsyncCommand is the command Apply runs.
func (m *execModule) AsyncCommand() transport.Command {
	return transport.Command{Argv: m.argv, Stdin: m.stdin}
}

// DefaultAsyncDir is where job files go when ansible_async_dir is not set.
const DefaultAsyncDir = "~/.ansible_async"

// homeDir expands a leading ~ of the shell variable d to $HOME.
const homeDir = `case $d in "~") d=$HOME ;; "~/"*) d=$HOME/${d#"~/"} ;; esac
`

// jobRunner is the detached job: sh -c jobRunner NAME FILE KILLAFTER
// UMASK ARGV...; its own files are private (umask 077), the program runs
// with the umask the task's session had, so what it creates is as a
// normal run would create it.
const jobRunner = `f=$1 k=$2 u=$3; shift 3
exec 0<"$f.in"; rm -f -- "$f.in"
: >"$f.out"; : >"$f.err"
( trap 'kill $s 2>/dev/null; exit 0' TERM
  sleep "$k" & s=$!; wait $s
  printf 'timeout\n' >"$f.rc.tmp" && mv -f -- "$f.rc.tmp" "$f.rc"
  kill -KILL 0 ) </dev/null >/dev/null 2>&1 &
w=$!
(umask "$u" && exec "$@") >"$f.out" 2>"$f.err"
rc=$?
kill $w 2>/dev/null
printf '%s\n' "$rc" >"$f.rc.tmp" && mv -f -- "$f.rc.tmp" "$f.rc"
`

// jobLauncher starts a job: sh -c jobLauncher NAME DIR JIDBASE KILLAFTER
// ARGV..., its stdin the job's; it prints the job ID and its job file.
var jobLauncher = `d=$1 j=$2.$$ k=$3; shift 3
` + homeDir + `command -v setsid >/dev/null 2>&1 || { echo "async: setsid not found on the host" >&2; exit 70; }
u=$(umask)
umask 077
mkdir -p -- "$d" || exit 71
f=$d/$j
cat >"$f.in" || exit 72
printf '{"started": 1, "finished": 0, "ansible_job_id": "%s"}\n' "$j" >"$f" || exit 73
setsid nohup /bin/sh -c ` + transport.ShellQuote(jobRunner) + ` tend-async-job "$f" "$k" "$u" "$@" </dev/null >/dev/null 2>&1 &
printf '%s\n%s\n' "$j" "$f"
`

// jobStatus reads a job: sh -c jobStatus NAME DIR JID. The first line is
// "missing FILE", "running FILE" or "finished RC FILE"; a finished job's
// stdout follows, and its stderr is the status's.
const jobStatus = `d=$1 j=$2
` + homeDir + `f=$d/$j
if [ ! -e "$f" ]; then printf 'missing - %s\n' "$f"
elif [ -e "$f.rc" ]; then
	printf 'finished %s %s\n' "$(cat -- "$f.rc")" "$f"
	cat -- "$f.out" 2>/dev/null
	cat -- "$f.err" >&2 2>/dev/null
else printf 'running - %s\n' "$f"
fi
`

// jobCleanup removes a job's files: sh -c jobCleanup NAME DIR JID; it
// prints the job file.
const jobCleanup = `d=$1 j=$2
` + homeDir + `f=$d/$j
[ -e "$f" ] || { printf 'missing\n'; exit 0; }
rm -f -- "$f" "$f.rc" "$f.rc.tmp" "$f.out" "$f.err" "$f.in"
printf 'erased %s\n' "$f"
`

// validJID is what a job ID may be: it names files in the async dir.
var validJID = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)

// Job is a launched async job.
type Job struct {
	// ID is its ansible_job_id; ResultsFile its job file.
	ID, ResultsFile string
}

// watchdogAfter is when the watchdog kills a job limited to limit:
// as Ansible's async_wrapper, which checks every 5 s, after the first 5 s.
func watchdogAfter(limit int) int {
	return 5 + 5*((limit+4)/5)
}

// LaunchJob starts cmd detached on the host, limited to limit seconds.
func LaunchJob(ctx context.Context, conn transport.Conn, dir string, cmd transport.Command, limit int) (Job, error) {
	if err := transport.ValidateArgv(cmd.Argv); err != nil {
		return Job{}, fmt.Errorf("async: %w", err)
	}
	cmd = transport.ArgsToStdin(cmd) // the job's argv shows no more than a normal run would
	n, err := rand.Int(rand.Reader, big.NewInt(1e12))
	if err != nil {
		return Job{}, fmt.Errorf("async: job id: %w", err)
	}
	argv := append([]string{"/bin/sh", "-c", jobLauncher, "tend-async", dir, "j" + n.String(), strconv.Itoa(watchdogAfter(limit))}, cmd.Argv...)
	res, err := conn.Run(ctx, transport.Command{Argv: argv, Stdin: cmd.Stdin, OwnSession: true, Timeout: time.Minute, MaxOutput: 64 << 10})
	if err != nil {
		return Job{}, fmt.Errorf("async: start the job: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(res.Stdout), "\n"), "\n")
	if res.ExitCode != 0 || len(lines) != 2 {
		return Job{}, fmt.Errorf("async: start the job in %s: exit %d: %s", dir, res.ExitCode,
			firstNonEmptyStr(strings.TrimSpace(string(res.Stderr)), strings.TrimSpace(string(res.Stdout)), "no output"))
	}
	return Job{ID: lines[0], ResultsFile: lines[1]}, nil
}

// JobState is what reading a job found.
type JobState struct {
	// Missing: no such job; Finished: it ended (TimedOut: killed at the
	// limit), with RC, Stdout and Stderr.
	Missing, Finished, TimedOut bool
	RC                          int
	Stdout, Stderr              string
	ResultsFile                 string
}

// ReadJob reads job jid's state.
func ReadJob(ctx context.Context, conn transport.Conn, dir, jid string) (JobState, error) {
	if !validJID.MatchString(jid) {
		return JobState{}, fmt.Errorf("async_status: %q is not a job id", jid)
	}
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", jobStatus, "tend-async-status", dir, jid}, Timeout: time.Minute})
	if err != nil {
		return JobState{}, fmt.Errorf("async_status: read job %s: %w", jid, err)
	}
	head, body, _ := strings.Cut(string(res.Stdout), "\n")
	f := strings.SplitN(head, " ", 3)
	if res.ExitCode != 0 || len(f) != 3 {
		return JobState{}, fmt.Errorf("async_status: read job %s: exit %d: %s", jid, res.ExitCode,
			firstNonEmptyStr(strings.TrimSpace(string(res.Stderr)), "unexpected output "+strconv.Quote(head)))
	}
	st := JobState{ResultsFile: f[2]}
	switch f[0] {
	case "missing":
		st.Missing = true
	case "finished":
		st.Finished = true
		st.Stdout = strings.TrimRight(body, "\n")
		st.Stderr = strings.TrimRight(string(res.Stderr), "\n")
		if f[1] == "timeout" {
			st.TimedOut = true
		} else if st.RC, err = strconv.Atoi(f[1]); err != nil {
			return JobState{}, fmt.Errorf("async_status: job %s: bad exit code %q", jid, f[1])
		}
	}
	return st, nil
}

// CleanupJob removes job jid's files; it returns the job file erased, ""
// when there was no such job.
func CleanupJob(ctx context.Context, conn transport.Conn, dir, jid string) (string, error) {
	if !validJID.MatchString(jid) {
		return "", fmt.Errorf("async_status: %q is not a job id", jid)
	}
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", jobCleanup, "tend-async-cleanup", dir, jid}, Timeout: time.Minute})
	if err != nil {
		return "", fmt.Errorf("async_status: clean up job %s: %w", jid, err)
	}
	out := strings.TrimSpace(string(res.Stdout))
	if res.ExitCode != 0 {
		return "", errors.New("async_status: clean up job " + jid + ": " + firstNonEmptyStr(strings.TrimSpace(string(res.Stderr)), out))
	}
	erased, _ := strings.CutPrefix(out, "erased ")
	if out == "missing" {
		erased = ""
	}
	return erased, nil
}

// JobChange is a job's state as a task's result, as Ansible's
// async_status reports it: a finished job's is the module's own result
// (command: changed, failed on a non-zero exit code), with finished: 1.
func JobChange(jid string, st JobState) plan.Change {
	data := map[string]any{"ansible_job_id": jid, "started": 1, "finished": 0, "results_file": st.ResultsFile,
		"stdout": "", "stderr": "", "stdout_lines": []any{}, "stderr_lines": []any{}}
	c := plan.Change{Action: plan.None, Data: data}
	switch {
	case st.Missing:
		data["finished"] = 1
		c.Failed, c.Msg = true, "could not find job"
	case st.TimedOut:
		data["finished"] = 1
		c.Failed, c.Msg = true, "Timeout exceeded"
	case st.Finished:
		data["finished"], data["rc"] = 1, st.RC
		data["stdout"], data["stderr"] = st.Stdout, st.Stderr
		data["stdout_lines"], data["stderr_lines"] = splitLines(st.Stdout), splitLines(st.Stderr)
		c.Action, c.Summary = plan.Run, fmt.Sprintf("async job %s finished: exit %d", jid, st.RC)
		if st.RC != 0 {
			c.Failed, c.Msg = true, fmt.Sprintf("non-zero return code %d", st.RC)
		}
	default:
		c.Summary = "async job " + jid + " still running"
	}
	return c
}
