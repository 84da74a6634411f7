// Package memhost is an in-memory host for tests: a transport.Conn that
// holds files, answers commands from a table of handlers, and records every
// call. Engine tests give it to runner.Run through a Connector, so the
// engine's promises (a dry run writes nothing, a change that did not hold
// fails the host, ...) are checked in milliseconds, without root or sshd.
//
// Commands are matched, not compared: a handler is chosen by a Matcher over
// the argv (a program name, a fixed script run through /bin/sh -c, or any
// predicate), so a test states what a command means for the host rather than
// repeating its exact argv. A command no handler matches exits 127, like a
// missing program, and is listed by Unhandled so a test can insist on none.
//
// New hosts answer three commands on their files: `cat PATH` prints a file
// (exit 1 when it is missing), `tee PATH` stores its stdin as the file, and
// `rm -f PATH...` removes files. Tests add handlers for anything else.
package memhost

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"tend/runner/transport"
)

// Call is one command a Host was asked to run, as it was asked.
type Call struct {
	Argv       []string
	Stdin      []byte
	OwnSession bool
	// Handled is false when no handler matched (the command exited 127).
	Handled bool
}

// Matcher says whether a handler answers argv.
type Matcher func(argv []string) bool

// Handler answers one command on h. A non-nil error is a transport error
// (return a *transport.UnreachableError to simulate a lost connection); a
// command that fails on the host is a Result with a non-zero ExitCode.
type Handler func(ctx context.Context, h *Host, cmd transport.Command) (transport.Result, error)

type route struct {
	match Matcher
	fn    Handler
}

// Host is one in-memory host. It is itself the transport.Conn the engine
// uses; its methods are safe for concurrent use. Close marks it closed (a
// Run after Close is an error) but keeps its files and calls for the test.
type Host struct {
	name string

	mu     sync.Mutex
	files  map[string][]byte
	routes []route
	calls  []Call
	closed int
}

var _ transport.Conn = (*Host)(nil)

// New returns an empty host named name that answers cat, tee and rm -f on
// its files.
func New(name string) *Host {
	h := &Host{name: name, files: map[string][]byte{}}
	h.Handle(Argv("cat"), catHandler)
	h.Handle(Argv("tee"), teeHandler)
	h.Handle(Argv("rm", "-f"), rmHandler)
	return h
}

// Name is the host's name, as given to New.
func (h *Host) Name() string { return h.name }

// Handle adds a handler for the commands match accepts. Handlers added
// later are tried first, so a test can override a default for one file
// (Argv("tee", "/etc/x")) or for every command.
func (h *Host) Handle(match Matcher, fn Handler) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.routes = append(h.routes, route{match: match, fn: fn})
}

// Run records the command and answers it from the handler table. It fails
// when ctx is done or the host is closed, as a real connection would; the
// output is capped at cmd.MaxOutput (default transport.DefaultMaxOutput).
// Handlers answer at once, so Timeout is not enforced; Input (stdin fed as
// it runs) is not supported.
func (h *Host) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if err := ctx.Err(); err != nil {
		return transport.Result{}, err
	}
	h.mu.Lock()
	if h.closed > 0 {
		h.mu.Unlock()
		return transport.Result{}, fmt.Errorf("memhost: %s: run after close", h.name)
	}
	var fn Handler
	for i := len(h.routes) - 1; i >= 0; i-- {
		if h.routes[i].match(cmd.Argv) {
			fn = h.routes[i].fn
			break
		}
	}
	h.calls = append(h.calls, Call{Argv: slices.Clone(cmd.Argv), Stdin: slices.Clone(cmd.Stdin), OwnSession: cmd.OwnSession, Handled: fn != nil})
	h.mu.Unlock()
	if cmd.Input != nil && cmd.Stdin == nil {
		return transport.Result{}, errors.New("memhost: Command.Input is not supported; use Stdin")
	}
	if fn == nil {
		return transport.Result{ExitCode: 127, Stderr: []byte(fmt.Sprintf("memhost: %s: no handler for %q\n", h.name, cmd.Argv))}, nil
	}
	res, err := fn(ctx, h, cmd)
	if err != nil {
		return transport.Result{}, err
	}
	max := cmd.MaxOutput
	if max <= 0 {
		max = transport.DefaultMaxOutput
	}
	for _, out := range []*[]byte{&res.Stdout, &res.Stderr} {
		if len(*out) > max {
			*out, res.Truncated = (*out)[:max], true
		}
	}
	return res, nil
}

// Close marks the host closed. It is safe to call more than once.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed++
	return nil
}

// Reopen makes a closed host take commands again, as a new connection to
// the same machine would; its files and calls are kept.
func (h *Host) Reopen() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = 0
}

// Closed reports whether Close was called.
func (h *Host) Closed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed > 0
}

// Calls returns every command run so far, in order.
func (h *Host) Calls() []Call {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

// Ran counts the calls match accepts.
func (h *Host) Ran(match Matcher) int {
	n := 0
	for _, c := range h.Calls() {
		if match(c.Argv) {
			n++
		}
	}
	return n
}

// Unhandled lists the commands no handler matched.
func (h *Host) Unhandled() [][]string {
	var out [][]string
	for _, c := range h.Calls() {
		if !c.Handled {
			out = append(out, c.Argv)
		}
	}
	return out
}

// SetFile stores data as the file at path.
func (h *Host) SetFile(path string, data []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files[path] = slices.Clone(data)
}

// File returns the content of the file at path and whether it exists.
func (h *Host) File(path string) ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, ok := h.files[path]
	return slices.Clone(b), ok
}

// RemoveFile removes the file at path, if any.
func (h *Host) RemoveFile(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.files, path)
}

// Files returns a copy of every file, by path.
func (h *Host) Files() map[string][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string][]byte, len(h.files))
	for p, b := range h.files {
		out[p] = slices.Clone(b)
	}
	return out
}

// Paths lists the paths of every file, sorted.
func (h *Host) Paths() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := slices.Collect(maps.Keys(h.files))
	sort.Strings(out)
	return out
}

// Argv matches a command whose argv starts with prefix.
func Argv(prefix ...string) Matcher {
	return func(argv []string) bool {
		return len(argv) >= len(prefix) && slices.Equal(argv[:len(prefix)], prefix)
	}
}

// Script matches the argv a caller builds to run a fixed script with
// positional parameters: /bin/sh -c SCRIPT NAME ARGS...
func Script(script string) Matcher {
	return func(argv []string) bool {
		return len(argv) >= 4 && argv[0] == "/bin/sh" && argv[1] == "-c" && argv[2] == script
	}
}

// ScriptArgs returns the positional parameters ($1...) of a command
// Script matched.
func ScriptArgs(argv []string) []string {
	if len(argv) < 4 {
		return nil
	}
	return argv[4:]
}

// Any matches every command.
func Any(argv []string) bool { return true }

// OK is a successful Result printing stdout.
func OK(stdout string) transport.Result { return transport.Result{Stdout: []byte(stdout)} }

// Exit is a Result that exits code with stderr.
func Exit(code int, stderr string) transport.Result {
	return transport.Result{ExitCode: code, Stderr: []byte(stderr)}
}

// Unreachable is the error of a connection to h that was lost.
func (h *Host) Unreachable(why string) error {
	return &transport.UnreachableError{Host: h.name, Err: errors.New(why)}
}

func catHandler(_ context.Context, h *Host, cmd transport.Command) (transport.Result, error) {
	var out []byte
	for _, p := range cmd.Argv[1:] {
		b, ok := h.File(p)
		if !ok {
			return Exit(1, "cat: "+p+": No such file or directory\n"), nil
		}
		out = append(out, b...)
	}
	return transport.Result{Stdout: out}, nil
}

func teeHandler(_ context.Context, h *Host, cmd transport.Command) (transport.Result, error) {
	paths := cmd.Argv[1:]
	if len(paths) == 0 || strings.HasPrefix(paths[0], "-") {
		return Exit(2, "memhost: tee takes only paths\n"), nil
	}
	for _, p := range paths {
		h.SetFile(p, cmd.Stdin)
	}
	return transport.Result{Stdout: slices.Clone(cmd.Stdin)}, nil
}

func rmHandler(_ context.Context, h *Host, cmd transport.Command) (transport.Result, error) {
	for _, p := range cmd.Argv[2:] {
		if p != "--" {
			h.RemoveFile(p)
		}
	}
	return transport.Result{}, nil
}
