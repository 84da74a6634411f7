// Package capwriter is an io.Writer that keeps only the first bytes written
// to it, so a command printing gigabytes costs a bounded amount of memory
// while its pipe is still drained to the end. The transports capture remote
// and local commands' output with it; the template package the pipe lookup's.
package capwriter

import "sync"

// Writer keeps the first max bytes written to it and discards the rest.
// It is safe for concurrent use.
type Writer struct {
	mu        sync.Mutex
	max       int
	buf       []byte
	truncated bool
}

// New returns a Writer keeping at most max bytes.
func New(max int) *Writer { return &Writer{max: max} }

// Write never fails: bytes past the cap are counted as truncated and dropped.
func (w *Writer) Write(p []byte) (int, error) {
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

// Snapshot returns a copy of what was kept so far and whether bytes were dropped.
func (w *Writer) Snapshot() ([]byte, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]byte(nil), w.buf...), w.truncated
}
