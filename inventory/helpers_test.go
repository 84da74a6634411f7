package inventory

import (
	"os"
	"path/filepath"
	"testing"
)

// write stores an inventory in a temporary file and returns its path.
func write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustLoad loads inventories given as contents, failing the test on error.
func mustLoad(t *testing.T, contents ...string) *Inventory {
	t.Helper()
	var paths []string
	for _, c := range contents {
		paths = append(paths, write(t, "inv.yml", c))
	}
	inv, err := Load(paths...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return inv
}

// names returns the hosts' names.
func names(hs []*Host) []string {
	out := []string{}
	for _, h := range hs {
		out = append(out, h.Name)
	}
	return out
}
