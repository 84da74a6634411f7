package transport

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// chunkReader returns its data n bytes per Read, so that a mark can be
// split across reads.
type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	k := min(r.n, len(p), len(r.data))
	copy(p, r.data[:k])
	r.data = r.data[k:]
	return k, nil
}

func TestCopyUntilMark(t *testing.T) {
	const mark = "tend-end-0123456789abcdef"
	tests := []struct {
		name, in  string
		trailer   bool
		out, tail string
		wantErr   error
	}{
		{"stdout with status", "hello\nworld" + mark + " 3\n", true, "hello\nworld", " 3", nil},
		{"empty output", mark + " 0\n", true, "", " 0", nil},
		{"stderr, no trailer", "warn\n" + mark, false, "warn\n", "", nil},
		{"stray bytes after the trailer are dropped", "x" + mark + " 0\nlate daemon output", true, "x", " 0", nil},
		{"a prefix of the mark in the output", "tend-end-01" + mark + " 1\n", true, "tend-end-01", " 1", nil},
		{"binary output", "\x00\xff\n" + mark + " 0\n", true, "\x00\xff\n", " 0", nil},
		{"shell ended before the mark", "partial", true, "", "", io.ErrUnexpectedEOF},
		{"shell ended inside the trailer", "ok" + mark + " 1", true, "", "", io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		for _, chunk := range []int{1, 3, 7, 1 << 20} {
			var out bytes.Buffer
			tail, err := copyUntilMark(&out, &chunkReader{data: []byte(tc.in), n: chunk}, []byte(mark), tc.trailer)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("%s (chunks of %d): err %v, want %v", tc.name, chunk, err, tc.wantErr)
			}
			if err != nil {
				continue
			}
			if out.String() != tc.out || string(tail) != tc.tail {
				t.Errorf("%s (chunks of %d): out %q tail %q, want %q %q", tc.name, chunk, out.String(), tail, tc.out, tc.tail)
			}
		}
	}
	// A reader error is returned as is.
	if _, err := copyUntilMark(io.Discard, iotest.ErrReader(io.ErrClosedPipe), []byte(mark), false); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("reader error: %v", err)
	}
}
