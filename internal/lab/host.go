package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// newCmd builds an exec.Cmd without a context (for long-lived processes).
func newCmd(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }

// Exec runs argv inside the host (its network namespace and its /etc view)
// and returns its output. A non-zero exit is returned as an error wrapping
// *exec.ExitError; stdout and stderr are returned either way.
func (h *Host) Exec(ctx context.Context, argv ...string) (stdout, stderr string, err error) {
	if len(argv) == 0 {
		return "", "", fmt.Errorf("lab: %s: exec: empty argv", h.Name)
	}
	full := h.enter(argv)
	cmd := exec.CommandContext(ctx, full[0], full[1:]...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		return so.String(), se.String(), fmt.Errorf("lab: %s: %s: %w: %s",
			h.Name, argv[0], err, strings.TrimSpace(se.String()))
	}
	return so.String(), se.String(), nil
}

// Start starts argv in the background inside the host (e.g. a stand-in
// service listening on 127.0.0.1 or on Addr), with stdout and stderr going
// to Proc.LogPath. It returns once the process is inside the host's
// network namespace; the process is stopped at teardown if still running.
func (h *Host) Start(t TB, argv ...string) *Proc {
	t.Helper()
	if len(argv) == 0 {
		t.Fatalf("lab: %s: start: empty argv", h.Name)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	log := filepath.Join(h.dir, fmt.Sprintf("proc-%d.log", len(h.procs)+1))
	p, err := spawnLogged(h.enter(argv), log)
	if err != nil {
		t.Fatalf("lab: %s: start %s: %v", h.Name, argv[0], err)
	}
	h.procs = append(h.procs, p)
	if err := h.waitInside(p); err != nil {
		t.Fatalf("lab: %s: start %s: %v", h.Name, argv[0], err)
	}
	return p
}

// waitInside waits until p has joined the host's network namespace, so
// that whatever it does next happens inside the host.
func (h *Host) waitInside(p *Proc) error {
	var want syscall.Stat_t
	if err := syscall.Stat(filepath.Join(netnsDir, h.NS), &want); err != nil {
		return err
	}
	path := fmt.Sprintf("/proc/%d/ns/net", p.PID)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		var st syscall.Stat_t
		if syscall.Stat(path, &st) == nil && st.Ino == want.Ino {
			return nil
		}
		if p.Exited() {
			return fmt.Errorf("exited before entering the namespace: %v: %s", p.waitErr, strings.TrimSpace(p.Output()))
		}
	}
	return errors.New("did not enter the namespace within 10s")
}

// Blackhole makes the host silently drop its replies to the root
// namespace: connection attempts time out instead of being refused, and
// established connections stall (for dial-timeout and keepalive tests).
func (h *Host) Blackhole(t TB) {
	t.Helper()
	h.route(t, "replace")
}

// Unblackhole undoes Blackhole.
func (h *Host) Unblackhole(t TB) {
	t.Helper()
	h.route(t, "del")
}

func (h *Host) route(t TB, verb string) {
	t.Helper()
	line := fmt.Sprintf("route %s blackhole %s/32", verb, h.gw)
	if err := ipBatch(context.Background(), h.lab.tools.ip, h.NS, []string{line}); err != nil {
		t.Fatalf("lab: %s: %v", h.Name, err)
	}
}
