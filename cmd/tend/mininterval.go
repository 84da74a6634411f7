package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// lastSuccess is the record of the last successful applying run under one
// lock, kept in a small JSON file beside the lock (LOCK.last-success) so a
// scheduler that fires twice gets a no-op (--min-interval, exit 8).
type lastSuccess struct {
	path string
	key  string
}

// lastSuccessFile is what the file holds: when the run finished and the
// key of what it ran, so that only an identical run is skipped.
type lastSuccessFile struct {
	Finished time.Time `json:"finished"`
	Key      string    `json:"key"`
}

// newLastSuccess is the record beside lock for a run of a: identical runs
// have the same playbook, inventories, --limit, --shard and -e.
func newLastSuccess(lock string, a *runArgs) lastSuccess {
	key := []string{absOr(a.playbook), a.limit, a.shard.String()}
	for _, inv := range a.inventories {
		key = append(key, "i:"+absOr(inv))
	}
	for _, e := range a.extraVars {
		key = append(key, "e:"+e)
	}
	sum := sha256.Sum256([]byte(strings.Join(key, "\x00")))
	return lastSuccess{path: lock + ".last-success", key: hex.EncodeToString(sum[:])}
}

// tooSoon returns an exit-8 error when an identical run succeeded less
// than minInterval before now; nil when the run should go ahead (no
// record, another run's record, an unreadable one, or long enough ago).
func (l lastSuccess) tooSoon(minInterval time.Duration, now time.Time) error {
	if minInterval <= 0 {
		return nil
	}
	data, err := os.ReadFile(l.path)
	if err != nil {
		return nil
	}
	var rec lastSuccessFile
	if json.Unmarshal(data, &rec) != nil || rec.Key != l.key {
		return nil
	}
	ago := now.Sub(rec.Finished)
	if ago < 0 || ago >= minInterval {
		return nil
	}
	return &exitError{code: exitTooSoon, err: fmt.Errorf("skipped: an identical run succeeded %s ago (at %s), within --min-interval %s: not touching any host",
		ago.Round(time.Second), rec.Finished.UTC().Format(time.RFC3339), minInterval)}
}

// record writes the record atomically: a temporary file in the same
// directory, synced, then renamed over the old one.
func (l lastSuccess) record(finished time.Time) error {
	data, err := json.Marshal(lastSuccessFile{Finished: finished.UTC(), Key: l.key})
	if err != nil {
		return fmt.Errorf("last success: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(l.path), filepath.Base(l.path)+".tmp*")
	if err != nil {
		return fmt.Errorf("last success: %w", err)
	}
	_, werr := tmp.Write(append(data, '\n'))
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("last success: %w", err)
	}
	if err := os.Rename(tmp.Name(), l.path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("last success: %w", err)
	}
	return nil
}

// succeeded says whether a run's outcome counts as a success for
// --min-interval: every host ok (changed or not).
func succeeded(err error) bool {
	var ee *exitError
	return err == nil || (errors.As(err, &ee) && ee.code == exitChanged)
}
