package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Conn is one open connection to a host. One Conn carries every task of a run
// for that host. Implementations must be safe for concurrent use by several
// goroutines (the runner may run a verification read while nothing else runs,
// but tests run commands in parallel).
type Conn interface {
	// Run executes cmd.Argv on the host without a local shell. Over SSH each
	// argument is quoted for the remote login shell, so no value is ever
	// interpreted by it. A command that exits non-zero is a Result with a
	// non-zero ExitCode, not an error; an error means the command could not be
	// run or its outcome is unknown (connection lost, timeout, cancelled).
	Run(ctx context.Context, cmd Command) (Result, error)
	// Close releases the connection. It is safe to call more than once.
	Close() error
}

// DefaultMaxOutput caps how many bytes of each of stdout and stderr a Result
// keeps, so a command printing gigabytes cannot exhaust memory.
const DefaultMaxOutput = 4 << 20

// Command is one command to run on a host.
type Command struct {
	// Argv is the program and its arguments. Argv[0] is looked up in PATH.
	Argv []string
	// Stdin, when non-nil, is written to the command's standard input, which
	// is then closed.
	Stdin []byte
	// Timeout ends the command (and its remote process) when it runs longer.
	// Zero means no timeout beyond ctx.
	Timeout time.Duration
	// NoRemoteTimeout enforces Timeout from this client only (the command's
	// processes killed by their run ID), without the remote `timeout -s
	// KILL` backstop that would also end them if the client vanished. For
	// tend's own short scripts that end on their own: in the connection's
	// long-lived shell such a script then runs with no exec at all (a
	// `timeout` wrapper execs timeout and /bin/sh, two programs per command).
	NoRemoteTimeout bool
	// MaxOutput caps the bytes kept of each output stream; zero means
	// DefaultMaxOutput. The rest is read and discarded.
	MaxOutput int
	// Input, when non-nil, replaces Stdin: it is copied to the command's
	// standard input as its data becomes readable, and stdin is closed at
	// its EOF. This lets a caller answer what the command prints (Become
	// answers sudo's prompt only once it appears). Run does not wait for
	// Input to end: the caller must make a pending Read return (close its
	// pipe) once Run has returned.
	Input io.Reader
	// StderrTap, when non-nil, also receives the command's standard error
	// as it arrives; Result.Stderr still holds it. Its Write must not block.
	StderrTap io.Writer
	// OwnSession runs the command on an SSH session of its own rather than in
	// the connection's long-lived shell. Set it for commands tend does not
	// control (a user's command, a service's restart command): one may leave
	// a daemon behind that keeps the output open, and in the shared shell
	// that output would mix into later commands'. Local ignores it.
	OwnSession bool
}

// Result is the outcome of a command that ran to completion.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
	// Truncated is true when an output stream exceeded MaxOutput.
	Truncated bool
	Duration  time.Duration
}

// UnreachableError means the host could not be reached, or the connection
// to it was lost: the outcome of whatever was running is unknown.
type UnreachableError struct {
	Host string
	Err  error
}

// Error names the host and the cause.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("transport: host %s unreachable: %v", e.Host, e.Err)
}

// Unwrap returns the cause.
func (e *UnreachableError) Unwrap() error { return e.Err }

// HostKeyError means the host's key could not be trusted: it is unknown and
// new keys are not accepted, or it differs from the known one (Mismatch).
// No credentials have been sent when it is returned.
type HostKeyError struct {
	Host        string
	Fingerprint string // SHA256:... of the key the server offered
	KeyType     string
	Mismatch    bool   // the key differs from a known_hosts entry for the host
	Revoked     bool   // the key is listed as @revoked
	KnownHosts  string // file consulted
	Line        int    // line of the conflicting entry when Mismatch
}

// Error says what is wrong with the key and what to do about it.
func (e *HostKeyError) Error() string {
	if e.Revoked {
		return fmt.Sprintf("transport: host %s: host key %s %s is marked @revoked in %s:%d",
			e.Host, e.KeyType, e.Fingerprint, e.KnownHosts, e.Line)
	}
	if e.Mismatch {
		return fmt.Sprintf("transport: host %s: HOST KEY MISMATCH: server offered %s %s, %s:%d holds a different key (possible man-in-the-middle; remove the stale line only if the change is expected)",
			e.Host, e.KeyType, e.Fingerprint, e.KnownHosts, e.Line)
	}
	return fmt.Sprintf("transport: host %s: unknown host key %s %s (not in %s); verify it and add it, or rerun with --accept-new-host-keys",
		e.Host, e.KeyType, e.Fingerprint, e.KnownHosts)
}

// ErrTimeout is returned (wrapped) when a Command exceeds its Timeout.
var ErrTimeout = errors.New("command timed out")

// IsUnreachable reports whether err means the host is unreachable.
func IsUnreachable(err error) bool {
	var u *UnreachableError
	return errors.As(err, &u)
}
