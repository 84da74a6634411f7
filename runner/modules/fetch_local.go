package modules

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// localRename is os.Rename; a test makes it fail to see that a failed
// write leaves the file as it was and no temporary file behind.
var localRename = os.Rename

// writeLocalAtomic replaces the controller file p with data: a temporary
// file in p's directory (created with mode less the umask, as a plain
// open would; an existing file's mode and owner kept), written,
// fsynced, renamed over p, and the directory fsynced. Missing parent
// directories are made (0777 less the umask), as Ansible's makedirs_safe.
// A symlink at p is followed and kept: its target is replaced. On any
// error p is untouched and no temporary file is left.
func writeLocalAtomic(p string, data []byte, mode fs.FileMode) (err error) {
	if fi, lerr := os.Lstat(p); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
		target, rerr := filepath.EvalSymlinks(p)
		if rerr != nil {
			return fmt.Errorf("%s is a symlink that cannot be followed: %v", p, rerr)
		}
		p = target
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	var old os.FileInfo
	if fi, serr := os.Stat(p); serr == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s exists and is not a regular file", p)
		}
		old = fi
	}
	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+filepath.Base(p)+".tend-fetch."+hex.EncodeToString(suffix[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode.Perm())
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if old != nil {
		if err = f.Chmod(old.Mode().Perm()); err != nil {
			return err
		}
		if st, ok := old.Sys().(*syscall.Stat_t); ok {
			// Keeping the owner needs the right to; without it the file
			// is the current user's, as a rewrite by another user would be.
			if cerr := f.Chown(int(st.Uid), int(st.Gid)); cerr != nil && !errors.Is(cerr, fs.ErrPermission) {
				return cerr
			}
		}
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = localRename(tmp, p); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
