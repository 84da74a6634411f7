package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// FileInfo describes a remote path as seen by Stat.
type FileInfo struct {
	Exists bool
	// Path is the path that was asked for; Target is where it resolves after
	// following symlinks (equal to Path when it is not a symlink).
	Path, Target string
	IsSymlink    bool
	Mode         fs.FileMode // permission bits (and type bits) of the target
	UID, GID     int
	Size         int64
}

// WriteOptions controls WriteFileAtomic.
type WriteOptions struct {
	// Backup keeps a copy of the previous content beside the file, named
	// NAME.tend-backup.YYYYMMDDTHHMMSS.NNNNNNNNN so that no *.conf glob picks it up.
	Backup bool
	// ExpectSHA256, when set, refuses the write if the current content's
	// SHA-256 (hex) differs: the file changed since it was read (stale plan).
	// ExpectAbsent requires that the file does not exist yet.
	ExpectSHA256 string
	// Mode is used when the file does not exist yet (default 0644).
	Mode fs.FileMode
	// Validate, when set, is a command (argv) run on the new content before
	// it replaces the file, as Ansible's validate: each "%s" in its words
	// becomes the temp file's path. A non-zero exit is a *FileError (step
	// "validating the new content"; Stderr holds its output and "rc:N") and
	// leaves the file untouched. It runs with stdin from /dev/null, on a
	// session of its own (Command.OwnSession), as the write's user.
	Validate []string
}

// ExpectAbsent, as WriteOptions.ExpectSHA256, means the plan saw no file:
// the write is refused as stale if one exists now.
const ExpectAbsent = "absent"

// WriteResult says how a file was written.
type WriteResult struct {
	// Path actually written (the symlink target when the path was a link).
	Path string
	// BackupPath is the backup's path, empty when no backup was made (new file).
	BackupPath string
	// InPlace is true when rename was impossible (the file is a bind mount,
	// EBUSY) and the content was rewritten into the same inode instead.
	InPlace bool
}

// StaleError means WriteFileAtomic refused to write because the file's
// content is no longer what the plan was computed from.
type StaleError struct {
	Path string
	Want string // expected SHA-256, or ExpectAbsent
	Got  string // current SHA-256, or ExpectAbsent
}

// Error names the file and both hashes.
func (e *StaleError) Error() string {
	return fmt.Sprintf("transport: %s changed since it was read (sha256 %s, expected %s): plan is stale", e.Path, e.Got, e.Want)
}

// FileError says which step of a file operation failed on the host. The
// file itself is untouched (for writes: the original content is intact and
// no temp file is left).
type FileError struct {
	Op       string // "read", "stat", "write"
	Path     string
	Step     string // what was being done, e.g. "creating the temp file (mktemp)"
	ExitCode int    // exit code of the script
	Stderr   string // trimmed stderr of the failing command
}

// Error names the operation, the path, the failed step and the host's message.
func (e *FileError) Error() string {
	msg := fmt.Sprintf("transport: %s %s: %s failed", e.Op, e.Path, e.Step)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// Unwrap lets errors.Is(err, fs.ErrNotExist) work for a missing file.
func (e *FileError) Unwrap() error {
	if e.ExitCode == 83 {
		return fs.ErrNotExist
	}
	return nil
}

// MaxReadFile caps what ReadFile returns; a larger file is an error rather
// than silently truncated content.
const MaxReadFile = 64 << 20

// ReadFileCommand is the one read-only command ReadFile runs for path, so
// that a caller can run it ahead, with others (the runner's loop batching),
// and answer ReadFile from that result.
func ReadFileCommand(path string) Command {
	return Command{Argv: shScript(readScript, path), MaxOutput: MaxReadFile}
}

// shScript builds the argv that runs script with args as $1...
func shScript(script string, args ...string) []string {
	return append([]string{"/bin/sh", "-c", script, "sh"}, args...)
}

func fileError(op, path string, res Result) error {
	step, ok := scriptSteps[res.ExitCode]
	if !ok {
		step = fmt.Sprintf("the %s script (exit %d)", op, res.ExitCode)
	}
	return &FileError{Op: op, Path: path, Step: step, ExitCode: res.ExitCode,
		Stderr: strings.TrimSpace(string(res.Stderr))}
}

// ReadFile returns the content of path on the host. A missing file is an
// error matching fs.ErrNotExist.
func ReadFile(ctx context.Context, c Conn, path string) ([]byte, error) {
	res, err := c.Run(ctx, ReadFileCommand(path))
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, fileError("read", path, res)
	}
	if res.Truncated {
		return nil, fmt.Errorf("transport: read %s: larger than %d bytes", path, MaxReadFile)
	}
	return res.Stdout, nil
}

// Stat describes path on the host; a missing path is FileInfo{Exists:false}, not an error.
func Stat(ctx context.Context, c Conn, path string) (FileInfo, error) {
	fi := FileInfo{Path: path}
	res, err := c.Run(ctx, Command{Argv: shScript(statScript, path)})
	if err != nil {
		return fi, err
	}
	switch res.ExitCode {
	case 0:
	case 83:
		return fi, nil
	default:
		return fi, fileError("stat", path, res)
	}
	parts := strings.SplitN(string(res.Stdout), "\n", 3)
	if len(parts) != 3 {
		return fi, fmt.Errorf("transport: stat %s: unexpected output %q", path, res.Stdout)
	}
	fi.IsSymlink = parts[0] == "1"
	fi.Target = parts[2]
	if parts[1] == "-" { // dangling symlink
		return fi, nil
	}
	var raw uint32
	if _, err := fmt.Sscanf(parts[1], "%x %d %d %d", &raw, &fi.UID, &fi.GID, &fi.Size); err != nil {
		return fi, fmt.Errorf("transport: stat %s: unexpected output %q: %v", path, parts[1], err)
	}
	fi.Exists = true
	fi.Mode = unixMode(raw)
	return fi, nil
}

// unixMode converts a st_mode value to an fs.FileMode.
func unixMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	switch m & 0o170000 {
	case 0o040000:
		mode |= fs.ModeDir
	case 0o120000:
		mode |= fs.ModeSymlink
	case 0o020000:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case 0o060000:
		mode |= fs.ModeDevice
	case 0o010000:
		mode |= fs.ModeNamedPipe
	case 0o140000:
		mode |= fs.ModeSocket
	}
	return mode
}

// maxInlineWrite is the largest content WriteFileAtomic passes as an
// argument rather than on stdin.
const maxInlineWrite = 16 << 10

// WriteFileAtomic replaces path's content with data on the host: temp file in
// the same directory, fsync, mode and owner of the old file kept, rename,
// directory fsync; symlinks followed and kept. Never leaves a half-written file.
//
// When the target is a mount point (a file bind-mounted by `ip netns exec`),
// rename fails with EBUSY and the content is rewritten into the same inode
// instead (WriteResult.InPlace). A stale ExpectSHA256 is a *StaleError; a
// failed step is a *FileError naming it, with the original left intact.
func WriteFileAtomic(ctx context.Context, c Conn, path string, data []byte, opts WriteOptions) (WriteResult, error) {
	mode := opts.Mode.Perm()
	if opts.Mode == 0 {
		mode = 0o644
	}
	backup := "0"
	if opts.Backup {
		backup = "1"
	}
	want := strings.ToLower(opts.ExpectSHA256)
	now := time.Now().UTC()
	stamp := now.Format("20060102T150405") + fmt.Sprintf(".%09d", now.Nanosecond())
	if data == nil {
		data = []byte{} // stdin must be closed, not absent
	}
	// Small content that a shell word can hold goes as an argument: in the
	// connection's shell the printf builtin writes it (no cat); elsewhere it
	// reaches the script on stdin with the other arguments (scriptargs.go),
	// read a byte at a time, hence the bound. A validate command gets a
	// session of its own anyway: its content goes on stdin to cat.
	inline, content, stdin := "", "", data
	if len(data) <= maxInlineWrite && bytes.IndexByte(data, 0) < 0 && len(opts.Validate) == 0 {
		inline, content, stdin = "arg", string(data), nil
	}
	args := append([]string{path, want, backup, strconv.FormatUint(uint64(mode), 8), stamp, inline, content}, opts.Validate...)
	res, err := c.Run(ctx, Command{
		Argv:       shScript(writeScript, args...),
		Stdin:      stdin,
		OwnSession: len(opts.Validate) > 0,
	})
	if err != nil {
		return WriteResult{}, err
	}
	switch res.ExitCode {
	case 0:
	case 86:
		return WriteResult{}, &StaleError{Path: path, Want: want, Got: strings.TrimSpace(string(res.Stdout))}
	default:
		return WriteResult{}, fileError("write", path, res)
	}
	parts := strings.SplitN(string(res.Stdout), "\n", 3)
	if len(parts) != 3 {
		return WriteResult{}, errors.New("transport: write " + path + ": unexpected output " + strconv.Quote(string(res.Stdout)))
	}
	return WriteResult{InPlace: parts[0] == "1", Path: parts[1], BackupPath: parts[2]}, nil
}
