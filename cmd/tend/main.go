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
	"syscall"
)

// Exit codes, documented in the README and in `tend --help`.
const (
	exitOK              = 0
	exitFailed          = 1 // a task failed on some host (verification included)
	exitChanged         = 2 // --detailed-exitcode: something changed, or would in check mode
	exitUnreachable     = 3 // some host unreachable, nothing failed
	exitBadInput        = 4 // playbook, inventory or flags invalid: no host contacted
	exitHostKeyMismatch = 5 // a host offered a key different from known_hosts
	exitHostKeyUnknown  = 6 // a host's key is not in known_hosts (and --accept-new-host-keys not given)
	exitInterrupted     = 130
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode maps run's error to the process exit code, printing it.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "tend:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "tend:", err)
	return exitFailed
}
