// Command tend runs a remediation playbook over SSH across an inventory,
// with honest dry runs and verification afterwards. main only parses flags,
// wires packages together and maps errors to exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"

	"tend/internal/diag"
)

// Exit codes, documented in the README and in `tend --help`.
const (
	exitOK              = 0
	exitFailed          = 1   // a task failed on some host (verification included)
	exitChanged         = 2   // --detailed-exitcode: something changed, or would in check mode
	exitUnreachable     = 3   // some host unreachable, nothing failed
	exitBadInput        = 4   // playbook, inventory or flags invalid: no host contacted
	exitHostKeyMismatch = 5   // a host offered a key different from known_hosts
	exitHostKeyUnknown  = 6   // a host's key is not in known_hosts (and --accept-new-host-keys not given)
	exitLocked          = 7   // another applying run of the same playbook holds the lock: nothing done
	exitTooSoon         = 8   // --min-interval: an identical run succeeded too recently: nothing done
	exitBudgetSpent     = 9   // a task's budget: was spent (or its record unreadable) on some host, nothing else failed
	exitInterrupted     = 130 // SIGINT: stopped after the current step
	exitTerminated      = 143 // SIGTERM: likewise
)

// exitError carries an exit code up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func main() {
	tuneGC(os.Getenv)
	ctx, stop, sig := handleSignals(os.Stderr)
	err := (&cli{stdout: os.Stdout, stderr: os.Stderr, stop: stop}).run(ctx, os.Args[1:])
	code := exitCode(err, os.Stderr)
	if code == exitInterrupted && sig.Load() == int32(syscall.SIGTERM) {
		code = exitTerminated
	}
	os.Exit(code)
}

// handleSignals returns a stop channel closed on the first SIGINT/SIGTERM
// (hosts finish the step they are in and start no other), a context that
// a second signal cancels (aborting the running commands), and the last
// signal received.
func handleSignals(stderr io.Writer) (context.Context, <-chan struct{}, *atomic.Int32) {
	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan struct{})
	var last atomic.Int32
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-ch
		last.Store(int32(s.(syscall.Signal)))
		fmt.Fprintf(stderr, "tend: %v: finishing the current step on each host, then stopping (again to abort)\n", s)
		close(stop)
		s = <-ch
		last.Store(int32(s.(syscall.Signal)))
		fmt.Fprintf(stderr, "tend: %v: aborting\n", s)
		cancel()
	}()
	return ctx, stop, &last
}

// exitCode maps run's error to the process exit code, printing it.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			printError(stderr, ee.err)
		}
		return ee.code
	}
	printError(stderr, err)
	return exitFailed
}

// printError prints err for the user. Several input problems (a
// diag.List) are printed one per line, file:line:col: field: message,
// sorted by position, at most diag.MaxShown of them, then their count.
func printError(w io.Writer, err error) {
	var list diag.List
	if !errors.As(err, &list) || len(list) < 2 {
		fmt.Fprintln(w, "tend:", err)
		return
	}
	list = slices.Clone(list)
	list.Sort()
	for i, e := range list {
		if i == diag.MaxShown {
			fmt.Fprintf(w, "... and %d more\n", len(list)-i)
			break
		}
		fmt.Fprintln(w, e)
	}
	fmt.Fprintf(w, "tend: %d errors in %s\n", len(list), strings.Join(list.Files(), ", "))
}
