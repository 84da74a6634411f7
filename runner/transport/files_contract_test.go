package transport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

func runFileContract(t *testing.T, newConn func(t *testing.T) Conn) {
	t.Run("ReadStat", func(t *testing.T) { fileReadStat(t, newConn(t)) })
	t.Run("WriteKeepsModeOwnerAndBacksUp", func(t *testing.T) { fileWriteKeeps(t, newConn(t)) })
	t.Run("WriteThroughSymlink", func(t *testing.T) { fileWriteSymlink(t, newConn(t)) })
	t.Run("BackupsDistinctSameSecond", func(t *testing.T) { fileBackupsDistinct(t, newConn(t)) })
	t.Run("Stale", func(t *testing.T) { fileStale(t, newConn(t)) })
	t.Run("NewFile", func(t *testing.T) { fileNew(t, newConn(t)) })
	t.Run("ImmutableTarget", func(t *testing.T) { fileImmutable(t, newConn(t)) })
	t.Run("ReadOnlyDir", func(t *testing.T) { fileReadOnlyDir(t, newConn(t)) })
	t.Run("DiskFull", func(t *testing.T) { fileDiskFull(t, newConn(t)) })
	t.Run("NotRegular", func(t *testing.T) { fileNotRegular(t, newConn(t)) })
	t.Run("Validate", func(t *testing.T) { fileValidate(t, newConn(t)) })
}

// fileValidate: the validate command sees the new content at the temp path
// ("%s" inside a word too); when it fails the file, its mode and its
// directory are as before: no temp file, no backup.
func fileValidate(t *testing.T, c Conn) {
	ctx := context.Background()
	dir := t.TempDir()
	p := filepath.Join(dir, "sshd_config")
	mustWrite(t, p, "old\n", 0o600)
	check := []string{"/bin/sh", "-c", `grep -q '^good$' "$1" && case $2 in --file=*) exit 0;; esac; echo "bad content in $1" >&2; exit 3`, "sh", "%s", "--file=%s"}
	_, err := WriteFileAtomic(ctx, c, p, []byte("bad\n"), WriteOptions{Backup: true, Validate: check})
	var fe *FileError
	if !errors.As(err, &fe) || !strings.Contains(fe.Step, "validat") || !strings.Contains(fe.Stderr, "bad content in "+dir+"/.sshd_config.tend-tmp.") || !strings.Contains(fe.Stderr, "rc:3") {
		t.Fatalf("write of invalid content: %v, want a validate *FileError naming the temp file and rc:3", err)
	}
	mustContent(t, p, "old\n")
	if tmps, backups := leftovers(t, dir); len(tmps)+len(backups) > 0 {
		t.Errorf("left behind: %v %v", tmps, backups)
	}
	res, err := WriteFileAtomic(ctx, c, p, []byte("good\n"), WriteOptions{Backup: true, Validate: check})
	if err != nil {
		t.Fatal(err)
	}
	mustContent(t, p, "good\n")
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 || res.BackupPath == "" {
		t.Errorf("mode %v backup %q, want 0600 and a backup", fi.Mode().Perm(), res.BackupPath)
	}
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func mustWrite(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask-proof
		t.Fatal(err)
	}
}

func mustContent(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s holds %q, want %q", path, got, want)
	}
}

// leftovers lists temp files and backups in dir.
func leftovers(t *testing.T, dir string) (tmps, backups []string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		switch {
		case strings.Contains(e.Name(), ".tend-tmp."):
			tmps = append(tmps, e.Name())
		case strings.Contains(e.Name(), ".tend-backup."):
			backups = append(backups, e.Name())
		}
	}
	return tmps, backups
}

func isRoot() bool { return os.Geteuid() == 0 }

func fileReadStat(t *testing.T, c Conn) {
	ctx := context.Background()
	dir := t.TempDir()
	p := filepath.Join(dir, "f.conf")
	content := "a = 1\n\x00bin\xff\nno final newline"
	mustWrite(t, p, content, 0o640)
	if isRoot() {
		os.Chown(p, 1234, 2345)
	}
	got, err := ReadFile(ctx, c, p)
	if err != nil || string(got) != content {
		t.Fatalf("ReadFile = %q, %v", got, err)
	}
	fi, err := Stat(ctx, c, p)
	if err != nil {
		t.Fatal(err)
	}
	want := FileInfo{Exists: true, Path: p, Target: p, Mode: 0o640, UID: os.Geteuid(), GID: os.Getegid(), Size: int64(len(content))}
	if isRoot() {
		want.UID, want.GID = 1234, 2345
	}
	if fi != want {
		t.Errorf("Stat = %+v\nwant   %+v", fi, want)
	}
	link := filepath.Join(dir, "link")
	os.Symlink("f.conf", link)
	fi, err = Stat(ctx, c, link)
	if err != nil || !fi.Exists || !fi.IsSymlink || fi.Target != p || fi.Mode != 0o640 {
		t.Errorf("Stat(link) = %+v, %v", fi, err)
	}
	fi, err = Stat(ctx, c, filepath.Join(dir, "missing"))
	if err != nil || fi.Exists {
		t.Errorf("Stat(missing) = %+v, %v", fi, err)
	}
	dangling := filepath.Join(dir, "dangling")
	os.Symlink("nowhere", dangling)
	fi, err = Stat(ctx, c, dangling)
	if err != nil || fi.Exists || !fi.IsSymlink || fi.Target != filepath.Join(dir, "nowhere") {
		t.Errorf("Stat(dangling) = %+v, %v", fi, err)
	}
	fi, err = Stat(ctx, c, dir)
	if err != nil || !fi.Mode.IsDir() {
		t.Errorf("Stat(dir) = %+v, %v", fi, err)
	}
	if _, err := ReadFile(ctx, c, filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(missing) = %v, want fs.ErrNotExist", err)
	}
	// A path that is also shell syntax is just a path.
	odd := filepath.Join(dir, "it's $(x) `y`; z\nw")
	mustWrite(t, odd, "odd", 0o600)
	if got, err := ReadFile(ctx, c, odd); err != nil || string(got) != "odd" {
		t.Errorf("ReadFile(odd name) = %q, %v", got, err)
	}
}

var backupName = regexp.MustCompile(`^sysctl\.conf\.tend-backup\.\d{8}T\d{6}\.\d{9}(\.\d+)?$`)

func fileWriteKeeps(t *testing.T, c Conn) {
	ctx := context.Background()
	dir := t.TempDir()
	p := filepath.Join(dir, "sysctl.conf")
	mustWrite(t, p, "old\n", 0o640)
	if isRoot() {
		os.Chown(p, 1234, 2345)
	}
	before, _ := os.Stat(p)
	res, err := WriteFileAtomic(ctx, c, p, []byte("new\n"), WriteOptions{Backup: true})
	if err != nil {
		t.Fatal(err)
	}
	mustContent(t, p, "new\n")
	after, _ := os.Stat(p)
	if after.Mode() != 0o640 {
		t.Errorf("mode %v, want 0640", after.Mode())
	}
	if isRoot() {
		st := after.Sys().(*syscall.Stat_t)
		if st.Uid != 1234 || st.Gid != 2345 {
			t.Errorf("owner %d:%d, want 1234:2345", st.Uid, st.Gid)
		}
	}
	if os.SameFile(before, after) || res.InPlace {
		t.Errorf("file was rewritten in place (InPlace=%v), want a rename", res.InPlace)
	}
	if res.Path != p {
		t.Errorf("Path = %q", res.Path)
	}
	if filepath.Dir(res.BackupPath) != dir || !backupName.MatchString(filepath.Base(res.BackupPath)) {
		t.Errorf("backup %q does not match %v", res.BackupPath, backupName)
	}
	if m, _ := filepath.Match("*.conf", filepath.Base(res.BackupPath)); m {
		t.Errorf("backup %q matches *.conf", res.BackupPath)
	}
	mustContent(t, res.BackupPath, "old\n")
	if bi, err := os.Stat(res.BackupPath); err != nil || bi.Mode() != 0o640 {
		t.Errorf("backup mode: %v %v", bi.Mode(), err)
	} else {
		// The backup is a copy of its own: owner kept, no inode shared with
		// the new content nor another name.
		st := bi.Sys().(*syscall.Stat_t)
		if isRoot() && (st.Uid != 1234 || st.Gid != 2345) {
			t.Errorf("backup owner %d:%d, want 1234:2345", st.Uid, st.Gid)
		}
		if os.SameFile(bi, after) || st.Nlink != 1 || after.Sys().(*syscall.Stat_t).Nlink != 1 {
			t.Errorf("backup and file share an inode or have other links (backup nlink %d, file nlink %d)", st.Nlink, after.Sys().(*syscall.Stat_t).Nlink)
		}
	}
	if tmps, _ := leftovers(t, dir); len(tmps) > 0 {
		t.Errorf("temp files left: %v", tmps)
	}
}

func fileWriteSymlink(t *testing.T, c Conn) {
	ctx := context.Background()
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "real"), 0o755)
	target := filepath.Join(dir, "real", "sysctl.conf")
	link := filepath.Join(dir, "sysctl.conf")
	mustWrite(t, target, "old\n", 0o644)
	if err := os.Symlink("real/sysctl.conf", link); err != nil {
		t.Fatal(err)
	}
	res, err := WriteFileAtomic(ctx, c, link, []byte("new\n"), WriteOptions{Backup: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Path != target {
		t.Errorf("Path = %q, want %q", res.Path, target)
	}
	li, err := os.Lstat(link)
	if err != nil || li.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("link is no longer a symlink: %v %v", li.Mode(), err)
	}
	if dest, _ := os.Readlink(link); dest != "real/sysctl.conf" {
		t.Errorf("link now points to %q", dest)
	}
	mustContent(t, target, "new\n")
	if filepath.Dir(res.BackupPath) != filepath.Dir(target) {
		t.Errorf("backup %q not beside the target", res.BackupPath)
	}
	mustContent(t, res.BackupPath, "old\n")
}

func fileBackupsDistinct(t *testing.T, c Conn) {
	ctx := context.Background()
	dir := t.TempDir()
	p := filepath.Join(dir, "sysctl.conf")
	mustWrite(t, p, "v0\n", 0o644)
	r1, err := WriteFileAtomic(ctx, c, p, []byte("v1\n"), WriteOptions{Backup: true})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := WriteFileAtomic(ctx, c, p, []byte("v2\n"), WriteOptions{Backup: true})
	if err != nil {
		t.Fatal(err)
	}
	if r1.BackupPath == r2.BackupPath {
		t.Fatalf("same backup path twice: %s", r1.BackupPath)
	}
	mustContent(t, r1.BackupPath, "v0\n")
	mustContent(t, r2.BackupPath, "v1\n")
	mustContent(t, p, "v2\n")
	matches, _ := filepath.Glob(filepath.Join(dir, "*.conf"))
	if len(matches) != 1 {
		t.Errorf("*.conf matches %v, want only the file", matches)
	}
}

func fileStale(t *testing.T, c Conn) {
	ctx := context.Background()
	dir := t.TempDir()
	p := filepath.Join(dir, "f.conf")
	mustWrite(t, p, "changed meanwhile\n", 0o644)
	_, err := WriteFileAtomic(ctx, c, p, []byte("new\n"), WriteOptions{Backup: true, ExpectSHA256: sha([]byte("as planned\n"))})
	var se *StaleError
	if !errors.As(err, &se) || se.Got != sha([]byte("changed meanwhile\n")) {
		t.Fatalf("want *StaleError with the current hash, got %v", err)
	}
	mustContent(t, p, "changed meanwhile\n")
	if tmps, backups := leftovers(t, dir); len(tmps)+len(backups) > 0 {
		t.Errorf("left behind: %v %v", tmps, backups)
	}
	if _, err := WriteFileAtomic(ctx, c, p, []byte("new\n"), WriteOptions{ExpectSHA256: strings.ToUpper(sha([]byte("changed meanwhile\n")))}); err != nil {
		t.Fatalf("matching hash refused: %v", err)
	}
	mustContent(t, p, "new\n")
	if _, err := WriteFileAtomic(ctx, c, p, []byte("x"), WriteOptions{ExpectSHA256: ExpectAbsent}); !errors.As(err, &se) {
		t.Errorf("ExpectAbsent on an existing file: %v", err)
	}
	if _, err := WriteFileAtomic(ctx, c, filepath.Join(dir, "new"), []byte("x"), WriteOptions{ExpectSHA256: ExpectAbsent}); err != nil {
		t.Errorf("ExpectAbsent on a new file: %v", err)
	}
}

func fileNew(t *testing.T, c Conn) {
	ctx := context.Background()
	dir := t.TempDir()
	p := filepath.Join(dir, "new.conf")
	res, err := WriteFileAtomic(ctx, c, p, nil, WriteOptions{Backup: true, Mode: 0o600})
	if err != nil {
		t.Fatal(err)
	}
	if res.BackupPath != "" || res.InPlace {
		t.Errorf("new file: %+v", res)
	}
	mustContent(t, p, "")
	if fi, _ := os.Stat(p); fi.Mode() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode())
	}
	res, err = WriteFileAtomic(ctx, c, filepath.Join(dir, "default"), []byte("\x00\xff"), WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mustContent(t, res.Path, "\x00\xff")
	if fi, _ := os.Stat(res.Path); fi.Mode() != 0o644 {
		t.Errorf("default mode %v, want 0644", fi.Mode())
	}
	_, err = WriteFileAtomic(ctx, c, filepath.Join(dir, "no", "such", "dir"), []byte("x"), WriteOptions{})
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Errorf("missing parent: %v", err)
	}
}

// checkFailedWrite asserts a write failed with a *FileError and left the
// original file and its directory as they were, as seen by the host.
func checkFailedWrite(t *testing.T, c Conn, p, original string, opts WriteOptions) *FileError {
	t.Helper()
	ctx := context.Background()
	_, err := WriteFileAtomic(ctx, c, p, []byte(strings.Repeat("new content\n", 1000)), opts)
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("want *FileError, got %v", err)
	}
	t.Logf("error: %v", err)
	if got, err := ReadFile(ctx, c, p); err != nil || string(got) != original {
		t.Errorf("original now %q, %v", got, err)
	}
	res, err := c.Run(ctx, Command{Argv: []string{"ls", "-A", filepath.Dir(p)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Fields(string(res.Stdout)) {
		if strings.Contains(name, ".tend-") {
			t.Errorf("left behind: %s", name)
		}
	}
	return fe
}

func fileImmutable(t *testing.T, c Conn) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.conf")
	mustWrite(t, p, "original\n", 0o644)
	if out, err := exec.Command("chattr", "+i", p).CombinedOutput(); err != nil {
		t.Skipf("chattr +i unsupported here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", p).Run() })
	fe := checkFailedWrite(t, c, p, "original\n", WriteOptions{Backup: true})
	if fe.ExitCode != 93 {
		t.Errorf("failed step %q, want the rename", fe.Step)
	}
}

// hostRun runs a shell snippet on the host and fails the test if it fails.
func hostRun(t *testing.T, c Conn, script string, args ...string) {
	t.Helper()
	res, err := c.Run(context.Background(), Command{Argv: shScript(script, args...)})
	if err != nil || res.ExitCode != 0 {
		t.Skipf("on the host: %s: exit %d %v: %s", script, res.ExitCode, err, res.Stderr)
	}
}

// hostTmpfs mounts a tmpfs holding f.conf ("original\n") on the host, in
// the host's own mount namespace (the lab's sshd has its own), and
// unmounts it at cleanup. It skips when the host will not mount.
func hostTmpfs(t *testing.T, c Conn, opts string) string {
	t.Helper()
	if !isRoot() {
		t.Skip("needs root to mount")
	}
	dir := t.TempDir()
	hostRun(t, c, `mount -t tmpfs -o "$2" tend-test "$1" && printf 'original\n' > "$1/f.conf"`, dir, opts)
	t.Cleanup(func() {
		c.Run(context.Background(), Command{Argv: []string{"umount", "-l", dir}})
	})
	return dir
}

func fileReadOnlyDir(t *testing.T, c Conn) {
	dir := hostTmpfs(t, c, "size=1m,mode=0755")
	hostRun(t, c, `mount -o remount,ro "$1"`, dir)
	p := filepath.Join(dir, "f.conf")
	fe := checkFailedWrite(t, c, p, "original\n", WriteOptions{Backup: true})
	if fe.ExitCode != 87 {
		t.Errorf("failed step %q, want the backup", fe.Step)
	}
	fe = checkFailedWrite(t, c, p, "original\n", WriteOptions{})
	if fe.ExitCode != 88 {
		t.Errorf("failed step %q, want mktemp", fe.Step)
	}
}

func fileDiskFull(t *testing.T, c Conn) {
	dir := hostTmpfs(t, c, "size=64k,mode=0755")
	// Fill the filesystem, leaving less room than the new content needs.
	c.Run(context.Background(), Command{Argv: []string{"dd", "if=/dev/zero", "of=" + dir + "/fill", "bs=4k"}})
	fe := checkFailedWrite(t, c, filepath.Join(dir, "f.conf"), "original\n", WriteOptions{})
	if fe.ExitCode != 89 {
		t.Errorf("failed step %q, want writing the temp file", fe.Step)
	}
}

func fileNotRegular(t *testing.T, c Conn) {
	dir := t.TempDir()
	_, err := WriteFileAtomic(context.Background(), c, dir, []byte("x"), WriteOptions{})
	var fe *FileError
	if !errors.As(err, &fe) || fe.ExitCode != 82 {
		t.Errorf("writing a directory: %v", err)
	}
}
