package capwriter

import "testing"

// TestWriterKeepsTheFirstBytes: writes past the cap are accepted whole
// (the pipe is drained) and only the first max bytes are kept.
func TestWriterKeepsTheFirstBytes(t *testing.T) {
	for _, tc := range []struct {
		writes    []string
		want      string
		truncated bool
	}{
		{[]string{"ab", "c"}, "abc", false},
		{[]string{"abcd"}, "abcd", false},
		{[]string{"abc", "def"}, "abcd", true},
		{[]string{"abcdef", "g"}, "abcd", true},
	} {
		w := New(4)
		for _, s := range tc.writes {
			if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
				t.Fatalf("Write(%q) = %d, %v", s, n, err)
			}
		}
		got, truncated := w.Snapshot()
		if string(got) != tc.want || truncated != tc.truncated {
			t.Errorf("%q: kept %q truncated %v, want %q %v", tc.writes, got, truncated, tc.want, tc.truncated)
		}
	}
}
