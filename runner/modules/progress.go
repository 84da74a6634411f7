package modules

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
)

// Reporter receives what a module is waiting for, while it waits: "waiting
// for :61616 greeting (accepts, no greeting yet)"; "" says it waits no
// longer. The runner puts one in each task's context (WithReporter) and
// paces what reaches the views. It must not block; it may be called from
// any goroutine (a transport's StderrTap calls it).
type Reporter func(msg string)

type reporterKey struct{}

// WithReporter returns ctx carrying r: the modules run under it say there
// what they wait for.
func WithReporter(ctx context.Context, r Reporter) context.Context {
	return context.WithValue(ctx, reporterKey{}, r)
}

// reporterFrom returns ctx's Reporter, or nil: nobody listens.
func reporterFrom(ctx context.Context) Reporter {
	r, _ := ctx.Value(reporterKey{}).(Reporter)
	return r
}

// report says what the module waits for, when someone listens.
func report(ctx context.Context, msg string) {
	if r := reporterFrom(ctx); r != nil {
		r(msg)
	}
}

// portTarget names host:port for a person: ":61616" for the default
// 127.0.0.1, as the runbook's operator thinks of it.
func portTarget(host string, port int) string {
	if host == "127.0.0.1" {
		return ":" + strconv.Itoa(port)
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// waitGoal is what waitPort waits for: ":61616 greeting", ":61616 to accept
// connections", ":61616 to refuse connections".
func waitGoal(host string, port int, greeting, accept bool) string {
	target := portTarget(host, port)
	switch {
	case !accept:
		return target + " to refuse connections"
	case greeting:
		return target + " greeting"
	}
	return target + " to accept connections"
}

// waitState says where a wait stands after a probe that did not end it.
func waitState(r probeResult, greeting, accept bool) string {
	switch {
	case !accept:
		return "still accepts"
	case r.Accepts && greeting:
		return "accepts, no greeting yet"
	case r.Listening:
		return "listens, does not accept yet"
	}
	return "nothing listens"
}

// waitLinePrefix starts the line pollPortScript prints on stderr when a
// probe's outcome changes: "tend-wait listen=1 accept=1 greeting=0".
const waitLinePrefix = "tend-wait "

// waitTap is the StderrTap of a remote wait loop: it reads the loop's
// state lines as they arrive and reports each.
type waitTap struct {
	ctx              context.Context
	goal             string
	greeting, accept bool
	// describe, when set, words a state line's rest instead of waitState
	// (wait_for path: "exists=0").
	describe func(rest string) string

	mu  sync.Mutex
	buf []byte
}

// newWaitTap returns the tap of a wait for goal, or nil when nobody
// listens (the command then needs no tap at all).
func newWaitTap(ctx context.Context, goal string, greeting, accept bool) *waitTap {
	if reporterFrom(ctx) == nil {
		return nil
	}
	return &waitTap{ctx: ctx, goal: goal, greeting: greeting, accept: accept}
}

// Write reports each whole state line; it never blocks nor fails.
func (w *waitTap) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) > 4096 { // not ours: a line that never ends
				w.buf = w.buf[:0]
			}
			return len(p), nil
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		if rest, ok := strings.CutPrefix(line, waitLinePrefix); ok {
			if w.describe != nil {
				report(w.ctx, "waiting for "+w.goal+" ("+w.describe(rest)+")")
			} else {
				report(w.ctx, "waiting for "+w.goal+" ("+waitState(parseProbe(rest), w.greeting, w.accept)+")")
			}
		}
	}
}
