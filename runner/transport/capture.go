package transport

import (
	"io"
	"sync"
	"time"
)

// capWriter keeps the first max bytes written to it and discards the rest,
// so a command printing gigabytes costs at most max bytes of memory while
// it still runs to completion (its pipe is always drained).
type capWriter struct {
	mu        sync.Mutex
	max       int
	buf       []byte
	truncated bool
}

func newCapWriter(max int) *capWriter {
	if max <= 0 {
		max = DefaultMaxOutput
	}
	return &capWriter{max: max}
}

// Write never fails: bytes past the cap are counted as truncated and dropped.
func (w *capWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	room := w.max - len(w.buf)
	if room >= len(p) {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	if room > 0 {
		w.buf = append(w.buf, p[:room]...)
	}
	w.truncated = true
	return len(p), nil
}

// snapshot returns a copy of what was kept so far and whether bytes were dropped.
func (w *capWriter) snapshot() ([]byte, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]byte(nil), w.buf...), w.truncated
}

// captured is the Result of a command whose output went to stdout and
// stderr, started at start (ExitCode left to the caller).
func captured(start time.Time, stdout, stderr *capWriter) Result {
	r := Result{Duration: time.Since(start)}
	var t1, t2 bool
	r.Stdout, t1 = stdout.snapshot()
	r.Stderr, t2 = stderr.snapshot()
	r.Truncated = t1 || t2
	return r
}

// tapStderr returns w, or w and tap both when tap is set (Command.StderrTap).
func tapStderr(w *capWriter, tap io.Writer) io.Writer {
	if tap == nil {
		return w
	}
	return io.MultiWriter(w, tap)
}

// copyInput copies a Command.Input to the command's stdin and closes it at
// EOF (or when the command is gone and writing fails).
func copyInput(w io.WriteCloser, in io.Reader) {
	_, _ = io.Copy(w, in)
	_ = w.Close()
}
