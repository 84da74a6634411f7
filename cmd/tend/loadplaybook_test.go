package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"tend/runner/savedplan"
)

// A saved plan binds the playbook that was parsed: its hash is of the very
// bytes parsed. The file is opened once (inotify counts the opens), so it
// cannot change between the parse and the hash.
func TestLoadPlaybookReadsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "play.yml")
	content := "- hosts: all\n  tasks:\n    - name: first\n      command: \"true\"\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Skipf("inotify: %v", err)
	}
	defer syscall.Close(fd)
	// Closes too: inotify merges identical successive events.
	if _, err := syscall.InotifyAddWatch(fd, path, syscall.IN_OPEN|syscall.IN_CLOSE); err != nil {
		t.Skipf("inotify: %v", err)
	}
	pb, sha, err := loadPlaybook(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	opens := 0
	buf := make([]byte, 4096)
	for {
		n, err := syscall.Read(fd, buf)
		if n <= 0 || err != nil {
			break
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			if ev.Mask&syscall.IN_OPEN != 0 {
				opens++
			}
			off += syscall.SizeofInotifyEvent + int(ev.Len)
		}
	}
	if opens != 1 {
		t.Errorf("the playbook was opened %d times, want once", opens)
	}
	if pb.Plays[0].Tasks[0].Name != "first" || sha != savedplan.HashFile([]byte(content)) {
		t.Errorf("sha %s, want the hash of the parsed bytes %s", sha, savedplan.HashFile([]byte(content)))
	}
}

// A shipped playbook is hashed from its embedded bytes.
func TestLoadPlaybookShipped(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // no file of that name here
	pb, sha, err := loadPlaybook("mq-closewait", nil)
	if err != nil {
		t.Fatal(err)
	}
	if pb.File != "playbooks/mq-closewait.yml" || len(sha) != 64 {
		t.Errorf("file %s, sha %q", pb.File, sha)
	}
}
