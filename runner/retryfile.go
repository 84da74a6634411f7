package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// RetryHosts lists, sorted, the hosts a rerun should cover: those that
// failed, were unreachable, were refused for their host key, or were
// stopped before they finished.
func (s *Summary) RetryHosts() []string {
	var out []string
	for _, l := range [][]string{s.Failed, s.Unreachable, s.HostKeyMismatch, s.HostKeyUnknown, s.Stopped} {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// writeRetryFile replaces path with one host name per line (nothing when
// hosts is empty, so a stale list is never retried), atomically: a temp
// file in the same directory, then rename.
func writeRetryFile(path string, hosts []string) error {
	var b strings.Builder
	for _, h := range hosts {
		b.WriteString(h)
		b.WriteByte('\n')
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("retry file: %w", err)
	}
	defer os.Remove(f.Name()) // after a successful rename: nothing to remove
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return fmt.Errorf("retry file: %w", err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("retry file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("retry file: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("retry file: %w", err)
	}
	return nil
}
