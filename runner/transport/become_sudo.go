package transport

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// sudoMarkers are the random strings one sudo invocation prints: PROMPT is
// sudo's password prompt (sudo -p), READY is printed once sudo has started
// the command.
type sudoMarkers struct{ prompt, ready string }

func newSudoMarkers() sudoMarkers {
	tok := newRunID()
	// sudo -p expands %-escapes; the token is hex, so there are none.
	return sudoMarkers{prompt: "[tend-become-prompt-" + tok + "]", ready: "[tend-become-ready-" + tok + "]"}
}

// maxSudoChatter bounds how much of stderr is scanned for the markers:
// sudo's own messages before the command starts are short.
const maxSudoChatter = 64 << 10

// sudoAction is what the feeder writes to sudo's stdin next.
type sudoAction int

const (
	actAnswer sudoAction = iota // first prompt: the password, or EOF if none
	actRefuse                   // second prompt: EOF, so sudo gives up
	actReady                    // the command runs: its own stdin, then EOF
)

// sudoExchange is the StderrTap of one sudo invocation and the feeder of
// its stdin. Write scans stderr for the markers and queues actions; the
// feeder goroutine performs them on a pipe the transport copies to stdin.
type sudoExchange struct {
	m        sudoMarkers
	password string
	cmd      Command // Stdin or Input: the command's own input

	pr   *io.PipeReader
	pw   *io.PipeWriter
	acts chan sudoAction // at most one of each: never blocks
	done chan struct{}   // closed by finish
	fed  chan struct{}   // closed when the feeder returns

	mu  sync.Mutex
	buf []byte
	st  sudoState
}

// sudoState is what the exchange saw on stderr.
type sudoState struct {
	m       sudoMarkers
	prompts int  // password prompts seen (capped at 2)
	ready   bool // sudo started the command
}

func newSudoExchange(m sudoMarkers, password string, cmd Command) *sudoExchange {
	x := &sudoExchange{m: m, password: password, cmd: cmd,
		acts: make(chan sudoAction, 3), done: make(chan struct{}), fed: make(chan struct{})}
	x.pr, x.pw = io.Pipe()
	x.st.m = m
	go x.feed()
	return x
}

// input is the stdin the transport copies to sudo.
func (x *sudoExchange) input() io.Reader { return x.pr }

// Write scans stderr until READY, then passes the command's own stderr to
// its StderrTap; it never blocks and never fails.
func (x *sudoExchange) Write(p []byte) (int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.st.ready {
		x.tap(p)
		return len(p), nil
	}
	if len(x.buf) > maxSudoChatter {
		return len(p), nil
	}
	x.buf = append(x.buf, p...)
	for n := bytes.Count(x.buf, []byte(x.m.prompt)); x.st.prompts < min(n, 2); {
		x.st.prompts++
		if x.st.prompts == 1 {
			x.acts <- actAnswer
		} else {
			x.acts <- actRefuse
		}
	}
	if i := bytes.Index(x.buf, []byte(x.m.ready+"\n")); i >= 0 {
		x.st.ready = true
		x.acts <- actReady
		x.tap(x.buf[i+len(x.m.ready)+1:])
	} else if len(x.buf) > maxSudoChatter {
		x.acts <- actRefuse // not sudo talking: give it no input
	}
	return len(p), nil
}

// tap passes what the command wrote on stderr to the caller's StderrTap.
func (x *sudoExchange) tap(p []byte) {
	if x.cmd.StderrTap != nil && len(p) > 0 {
		_, _ = x.cmd.StderrTap.Write(p)
	}
}

// feed writes to sudo's stdin what the markers call for: the password only
// after the first prompt, nothing after a second one, and the command's own
// input only once it runs.
func (x *sudoExchange) feed() {
	defer close(x.fed)
	for {
		var a sudoAction
		select {
		case a = <-x.acts:
		case <-x.done:
			return
		}
		switch {
		case a == actAnswer && x.password != "":
			if _, err := io.WriteString(x.pw, x.password+"\n"); err != nil {
				return
			}
			continue
		case a == actReady && x.cmd.Input != nil:
			// The caller closes Input after Run returns (Command.Input),
			// so this copy is not waited for.
			go copyInput(x.pw, x.cmd.Input)
			return
		case a == actReady && len(x.cmd.Stdin) > 0:
			_, _ = x.pw.Write(x.cmd.Stdin)
		}
		_ = x.pw.Close() // EOF: no password, a refused one, or the end of stdin
		return
	}
}

// finish ends the exchange once the transport's Run has returned: a pending
// write or read of the pipe fails, and the feeder is waited for.
func (x *sudoExchange) finish() {
	close(x.done)
	_ = x.pr.CloseWithError(io.ErrClosedPipe)
	<-x.fed
}

// state returns what was seen so far.
func (x *sudoExchange) state() sudoState {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.st
}

// stripReady removes everything up to and including READY from stderr.
func (s sudoState) stripReady(stderr []byte) []byte {
	marker := []byte(s.m.ready + "\n")
	if i := bytes.Index(stderr, marker); i >= 0 {
		return append([]byte(nil), stderr[i+len(marker):]...)
	}
	return stderr
}

// clean returns sudo's stderr without its prompts, trimmed, on one line.
func (s sudoState) clean(stderr []byte) string {
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(string(stderr), s.m.prompt, ""), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}
