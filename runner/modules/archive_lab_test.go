package modules

import (
	"os"
	"testing"
)

// TestLabArchive runs the archive cases over SSH through sudo (a
// password-asking sudoer) in a directory only root may enter, with the
// lab host's own tar, gzip, bzip2, xz and python3: one file compressed,
// a directory as tar.gz with exclusion_patterns and a mode, a zip of a
// glob with exclude_path, remove after a successful archive, two failures
// that leave the sources and dest alone, a missing path (incomplete); each
// dry run writes nothing and each second run is ok.
func TestLabArchive(t *testing.T) {
	_, root := sudoLab(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	archiveScenario(t, root, dir)
}
