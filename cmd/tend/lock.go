package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/gofrs/flock"
)

var lockNameUnsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// defaultLockPath is where an applying run takes its lock: one per user,
// playbook, inventory, limit and shard, so overlapping cron runs of the same
// procedure on the same hosts never interleave, while unrelated runs
// (another playbook, another inventory) go ahead.
func defaultLockPath(playbook string, inventories []string, limit, shard string) string {
	key := []string{absOr(playbook), limit}
	if shard != "" {
		key = append(key, "shard:"+shard)
	}
	for _, inv := range inventories {
		key = append(key, absOr(inv))
	}
	sum := sha256.Sum256([]byte(strings.Join(key, "\x00")))
	name := strings.TrimSuffix(filepath.Base(playbook), filepath.Ext(playbook))
	if shard != "" {
		name += "-shard" + strings.ReplaceAll(shard, "/", "of")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("tend-%d-%s-%s.lock", os.Getuid(),
		lockNameUnsafe.ReplaceAllString(name, "_"), hex.EncodeToString(sum[:6])))
}

// absOr returns the absolute path of p when it names a file, else p (a
// shipped playbook's name).
func absOr(p string) string {
	if _, err := os.Stat(p); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
	}
	return p
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
