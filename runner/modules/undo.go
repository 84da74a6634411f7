package modules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"tend/runner/plan"
	"tend/runner/transport"
)

// A play with rollback: puts back what it changed on a host whose
// verification failed. The modules that write files or live values say
// how in plan.Change.Undo (Apply fills it); RunUndo runs one step over the
// same transport and reads the result back.

type backupsKey struct{}

// WithBackups returns a context under which every file module keeps a
// backup of the file it rewrites, whatever its backup: argument says: a
// play with rollback: needs one to restore from.
func WithBackups(ctx context.Context) context.Context {
	return context.WithValue(ctx, backupsKey{}, true)
}

// backupsForced reports whether ctx asks for backups (WithBackups).
func backupsForced(ctx context.Context) bool {
	b, _ := ctx.Value(backupsKey{}).(bool)
	return b
}

// fileUndo is how to undo a write of fc that left content whose SHA-256 is
// written: restore the backup, or remove a file the write created. A write
// without a backup of an existing file cannot be undone (nil).
func fileUndo(fc plan.FileChange, written []byte) []plan.Undo {
	sum := sha256.Sum256(written)
	switch {
	case fc.Backup != "":
		return []plan.Undo{{Kind: plan.UndoRestore, Path: fc.Path, Backup: fc.Backup, SHA256: fc.BeforeSHA256, Written: hex.EncodeToString(sum[:])}}
	case fc.BeforeSHA256 == transport.ExpectAbsent:
		return []plan.Undo{{Kind: plan.UndoRemove, Path: fc.Path, Written: hex.EncodeToString(sum[:])}}
	}
	return nil
}

// undo is how to put back what Apply did: every live value it changed
// (written, or reloaded from the file) to the value it held, then the file.
func (m *sysctlModule) undo(st *sysctlState, fc plan.FileChange) []plan.Undo {
	var out []plan.Undo
	for _, k := range st.keys {
		if k.supported && k.liveChange {
			out = append(out, plan.Undo{Kind: plan.UndoValue, Path: k.path, Key: k.Key, Value: st.live[k.id].value})
		}
	}
	if st.fileChanged() {
		out = append(out, fileUndo(fc, st.newContent)...)
	}
	return out
}

// RunUndo runs one undo step on the host and reads the result back (the
// recheck): nil means the file or the value is back as it was, and detail
// says how it was found; an error says why it could not be put back.
func RunUndo(ctx context.Context, conn transport.Conn, u plan.Undo) (detail string, err error) {
	switch u.Kind {
	case plan.UndoRestore:
		return undoRestore(ctx, conn, u)
	case plan.UndoRemove:
		return undoRemove(ctx, conn, u)
	case plan.UndoValue:
		return undoValue(ctx, conn, u)
	}
	return "", fmt.Errorf("undo: unknown kind %q", u.Kind)
}

// stillWritten refuses to undo over a file that no longer holds what the
// change wrote: someone (or something) changed it since.
func stillWritten(ctx context.Context, conn transport.Conn, u plan.Undo) error {
	if u.Written == "" {
		return nil
	}
	cur, err := transport.ReadFile(ctx, conn, u.Path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", u.Path, err)
	}
	if got := sha256Hex(cur); got != u.Written {
		return fmt.Errorf("%s changed since tend wrote it (sha256 %s, tend wrote %s): left as it is", u.Path, got, u.Written)
	}
	return nil
}

// undoRestore writes the backup's content back over the file, atomically
// (in place on a bind-mounted file), with the backup's mode and owner, and
// reads the file back.
func undoRestore(ctx context.Context, conn transport.Conn, u plan.Undo) (string, error) {
	data, err := transport.ReadFile(ctx, conn, u.Backup)
	if err != nil {
		return "", fmt.Errorf("reading the backup %s: %w", u.Backup, err)
	}
	if u.SHA256 != "" && sha256Hex(data) != u.SHA256 {
		return "", fmt.Errorf("the backup %s no longer holds the previous content (sha256 %s, expected %s)", u.Backup, sha256Hex(data), u.SHA256)
	}
	if err := stillWritten(ctx, conn, u); err != nil {
		return "", err
	}
	if _, err := transport.WriteFileAtomic(ctx, conn, u.Path, data, transport.WriteOptions{ExpectSHA256: u.Written}); err != nil {
		return "", fmt.Errorf("writing %s back: %w", u.Path, err)
	}
	// The backup (cp -p) kept the file's mode and owner of before.
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c",
		`t=$(readlink -f -- "$1") && chmod --reference="$2" -- "$t" && chown --reference="$2" -- "$t"`, "sh", u.Path, u.Backup}})
	if err != nil {
		return "", fmt.Errorf("restoring the mode and owner of %s: %w", u.Path, err)
	}
	if res.ExitCode != 0 {
		return "", fmt.Errorf("restoring the mode and owner of %s: %s", u.Path, strings.TrimSpace(string(res.Stderr)))
	}
	back, err := transport.ReadFile(ctx, conn, u.Path)
	if err != nil {
		return "", fmt.Errorf("reading %s back: %w", u.Path, err)
	}
	if got := sha256Hex(back); got != sha256Hex(data) {
		return "", fmt.Errorf("%s holds sha256 %s after the restore, not the backup's %s", u.Path, got, sha256Hex(data))
	}
	return fmt.Sprintf("restored %s from %s (sha256 %s, read back)", u.Path, u.Backup, short(sha256Hex(data))), nil
}

// undoRemove deletes a file the change created, and checks it is gone.
func undoRemove(ctx context.Context, conn transport.Conn, u plan.Undo) (string, error) {
	if err := stillWritten(ctx, conn, u); err != nil {
		return "", err
	}
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"rm", "-f", "--", u.Path}})
	if err != nil {
		return "", fmt.Errorf("removing %s: %w", u.Path, err)
	}
	if res.ExitCode != 0 {
		return "", fmt.Errorf("removing %s: %s", u.Path, strings.TrimSpace(string(res.Stderr)))
	}
	fi, err := transport.Stat(ctx, conn, u.Path)
	if err != nil {
		return "", fmt.Errorf("checking %s is gone: %w", u.Path, err)
	}
	if fi.Exists {
		return "", fmt.Errorf("%s still exists after rm", u.Path)
	}
	return fmt.Sprintf("removed %s (tend had created it)", u.Path), nil
}

// undoValue writes the key's previous live value to /proc/sys and reads it back.
func undoValue(ctx context.Context, conn transport.Conn, u plan.Undo) (string, error) {
	w := sysctlWrite{key: u.Key, path: u.Path, value: u.Value}
	done, err := sysctlWriteLive(ctx, conn, []sysctlWrite{w}, false, true, nil)
	switch {
	case err != nil:
		return "", err
	case done.refused != "":
		return "", fmt.Errorf("writing %s=%q: the kernel refused it: %s", u.Key, u.Value, done.refused)
	case done.readErr != nil:
		return "", fmt.Errorf("reading %s back: %w", u.Key, done.readErr)
	}
	if msg, _ := checkWritten([]sysctlWrite{w}, done.back); msg != "" {
		return "", fmt.Errorf("%s: %s", u.Key, msg)
	}
	return fmt.Sprintf("reset %s to %s (read back from %s)", u.Key, u.Value, u.Path), nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// short abbreviates a hash for a report line.
func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
