package transport

import (
	"io"
	"time"

	"tend/internal/capwriter"
)

// capWriter is the capture of a command's stdout or stderr: the first
// MaxOutput bytes (capwriter.Writer).
type capWriter = capwriter.Writer

func newCapWriter(max int) *capWriter {
	if max <= 0 {
		max = DefaultMaxOutput
	}
	return capwriter.New(max)
}

// captured is the Result of a command whose output went to stdout and
// stderr, started at start (ExitCode left to the caller).
func captured(start time.Time, stdout, stderr *capWriter) Result {
	r := Result{Duration: time.Since(start)}
	var t1, t2 bool
	r.Stdout, t1 = stdout.Snapshot()
	r.Stderr, t2 = stderr.Snapshot()
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
