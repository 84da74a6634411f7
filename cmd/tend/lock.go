package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/gofrs/flock"
)

var lockNameUnsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// defaultLockPath is where an applying run of a playbook takes its lock:
// one per user and playbook, so overlapping cron runs of the same
// procedure never interleave, while different procedures may run at once.
func defaultLockPath(playbook string) string {
	name := strings.TrimSuffix(filepath.Base(playbook), filepath.Ext(playbook))
	return filepath.Join(os.TempDir(), fmt.Sprintf("tend-%d-%s.lock", os.Getuid(), lockNameUnsafe.ReplaceAllString(name, "_")))
}

// acquireRunLock takes the run lock without waiting. The lock is flock(2):
// the kernel releases it when its holder dies, even by kill -9, so a stale
// lock file never blocks the next run.
func acquireRunLock(path string) (release func(), err error) {
	l := flock.New(path)
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		return nil, &exitError{code: exitLocked, err: fmt.Errorf("another tend run holds %s: not touching any host (use --lock-file to separate unrelated runs)", path)}
	}
	return func() { _ = l.Unlock() }, nil
}
