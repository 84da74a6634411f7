package lab

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Simulated reboots. Every host has its own boot ID: a file of the lab
// bind-mounted over /proc/sys/kernel/random/boot_id in the mount namespace
// its sshd runs in, so `cat /proc/sys/kernel/random/boot_id` over SSH
// (Ansible's boot_time_command) reads the host's, not this machine's.
//
// A rebootable host (EnableReboot) has a reboot command, a script in its
// directory: running it over SSH asks the lab to reboot the host. The lab
// then kills every process of the host's network namespace (sshd, the
// sessions, what they started, the processes of Start), keeps the host
// down for a while, gives it a new boot ID and starts its sshd again with
// the same host keys. No kernel restarts: the kernel (its sysctls, uptime,
// /proc/uptime, the real boot ID) is this machine's and is shared by all
// hosts; the host's files (its /etc, the lab directory) survive; only
// processes and the boot ID change.

// bootIDPath is the file the kernel shows the boot ID in.
const bootIDPath = "/proc/sys/kernel/random/boot_id"

// RebootOptions says how a host's simulated reboots go.
type RebootOptions struct {
	// Down is how long the host stays down between killing its
	// processes and starting its sshd again.
	Down time.Duration
	// NeverReturn keeps the host down: its sshd is not started again.
	NeverReturn bool
	// KeepBootID brings the host back with the boot ID it had, as a host
	// whose reboot command did nothing would answer.
	KeepBootID bool
	// NewHostKey brings the host back with new host keys (KnownHosts keeps
	// the old ones), as a reinstalled machine would.
	NewHostKey bool
}

// rebooter is a host's reboot watcher.
type rebooter struct {
	opts    RebootOptions
	mu      sync.Mutex
	reboots int
}

// bootIDFile is the host's boot ID file.
func (h *Host) bootIDFile() string { return filepath.Join(h.dir, "boot_id") }

// newBootID writes a fresh random boot ID in place (a rename would leave
// the bind mount on the old file).
func (h *Host) newBootID() error {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	id := fmt.Sprintf("%x-%x-%x-%x-%x\n", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	return os.WriteFile(h.bootIDFile(), []byte(id), 0o644)
}

// BootID returns the host's current boot ID, as the host's sessions read it.
func (h *Host) BootID() string {
	b, _ := os.ReadFile(h.bootIDFile())
	return strings.TrimSpace(string(b))
}

// withBootID wraps the sshd command line so that it runs with the host's
// boot ID file bind-mounted over the kernel's (once per mount namespace).
func (h *Host) withBootID(argv []string) []string {
	script := `grep -q " ` + bootIDPath + ` " /proc/self/mountinfo || mount --bind "$1" ` + bootIDPath + ` || exit 1
shift; exec "$@"`
	return append([]string{"/bin/sh", "-c", script, "tend-lab-boot", h.bootIDFile()}, argv...)
}

// rebootRequest is the file the reboot command creates.
func (h *Host) rebootRequest() string { return filepath.Join(h.dir, "reboot.request") }

// RebootCommand is the command line that reboots the host when run on it
// (give it as reboot's reboot_command); EnableReboot must have been called.
func (h *Host) RebootCommand() string { return filepath.Join(h.dir, "reboot") }

// EnableReboot makes the host rebootable as o says, until the test ends,
// and returns its reboot command. Each host's reboot command only reboots
// that simulated host; this machine is never rebooted.
func (h *Host) EnableReboot(t TB, o RebootOptions) string {
	t.Helper()
	script := "#!/bin/sh\n# tend lab: simulated reboot of " + h.Name + " (see internal/lab/reboot.go)\n" +
		"echo 'tend-lab: " + h.Name + " is going down for reboot'\n" +
		": > " + shQuote(h.rebootRequest()) + "\n"
	if err := os.WriteFile(h.RebootCommand(), []byte(script), 0o755); err != nil {
		t.Fatalf("lab: %s: write reboot command: %v", h.Name, err)
	}
	h.mu.Lock()
	if h.reboot != nil {
		h.mu.Unlock()
		t.Fatalf("lab: %s: EnableReboot called twice", h.Name)
	}
	r := &rebooter{opts: o}
	h.reboot = r
	h.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.watchReboots(ctx, t, r)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return h.RebootCommand()
}

// Reboots returns how many times the host has rebooted.
func (h *Host) Reboots() int {
	h.mu.Lock()
	r := h.reboot
	h.mu.Unlock()
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reboots
}

// watchReboots reboots the host each time its reboot command asks, until
// ctx ends.
func (h *Host) watchReboots(ctx context.Context, t TB, r *rebooter) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := os.Remove(h.rebootRequest()); err != nil {
			continue // no request
		}
		if err := h.rebootOnce(ctx, r.opts); err != nil {
			t.Logf("lab: %s: reboot: %v", h.Name, err)
		}
		r.mu.Lock()
		r.reboots++
		r.mu.Unlock()
	}
}

// rebootOnce takes the host down and, unless o says otherwise, up again.
func (h *Host) rebootOnce(ctx context.Context, o RebootOptions) error {
	h.mu.Lock()
	sshd, holder := h.sshd, h.holder
	h.mu.Unlock()
	if sshd != nil { // first: no new session starts
		if err := killAndWait([]int{sshd.PID}, syscall.SIGKILL); err != nil {
			return err
		}
	}
	// Then everything else, until nothing is left: a session sshd forked
	// while the namespace was being scanned is found by the next scan.
	for {
		var pids []int
		for _, pid := range pidsInNetns([]string{h.NS}) {
			if holder == nil || pid != holder.PID { // the overlay's mount namespace is the disk: it stays
				pids = append(pids, pid)
			}
		}
		if len(pids) == 0 {
			break
		}
		if err := killAndWait(pids, syscall.SIGKILL); err != nil {
			return err
		}
	}
	if sshd != nil {
		sshd.Stop() // reaped
	}
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(o.Down):
	}
	if !o.KeepBootID {
		if err := h.newBootID(); err != nil {
			return err
		}
	}
	if o.NewHostKey {
		if err := h.writeHostKeys(); err != nil {
			return err
		}
	}
	if o.NeverReturn {
		return nil
	}
	return h.startSSHD(ctx)
}

// shQuote quotes s for a POSIX shell.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
