package lab

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// waitReboots polls until h has rebooted n times (no timing assertion: the
// bound only keeps a broken lab from hanging the test run).
func waitReboots(t *testing.T, h *Host, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for h.Reboots() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %d reboots, want %d", h.Name, h.Reboots(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Each host has its own boot ID, which a simulated reboot changes; the
// kernel's own is never shown to the hosts' sessions.
func TestSimulatedReboot(t *testing.T) {
	t.Parallel()
	for _, overlay := range []bool{false, true} {
		t.Run(map[bool]string{false: "netns-etc", true: "overlay-etc"}[overlay], func(t *testing.T) {
			t.Parallel()
			var opts []Option
			if overlay {
				opts = append(opts, WithOverlayEtc())
			}
			l := New(t, 2, opts...)
			h1, h2 := l.Hosts[0], l.Hosts[1]
			real, err := os.ReadFile(bootIDPath)
			if err != nil {
				t.Fatal(err)
			}
			id1 := strings.TrimSpace(sshOK(t, l, h1, "cat "+bootIDPath))
			id2 := strings.TrimSpace(sshOK(t, l, h2, "cat "+bootIDPath))
			if id1 != h1.BootID() || id2 != h2.BootID() || id1 == id2 || id1 == strings.TrimSpace(string(real)) {
				t.Fatalf("boot IDs: h1 %q (lab %q), h2 %q, kernel %q", id1, h1.BootID(), id2, strings.TrimSpace(string(real)))
			}
			cmd := h1.EnableReboot(t, RebootOptions{})
			pid := h1.SSHDPID()
			sleeper := h1.Start(t, "sleep", "infinity")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			l.SSH(ctx, h1, cmd) // the session may end with the host
			waitReboots(t, h1, 1)
			if got := strings.TrimSpace(sshOK(t, l, h1, "cat "+bootIDPath)); got == id1 || got != h1.BootID() {
				t.Errorf("after reboot: boot ID %q, before %q, lab %q", got, id1, h1.BootID())
			}
			if h1.SSHDPID() == pid || h1.SSHDPID() == 0 {
				t.Errorf("sshd PID %d, before %d: not restarted", h1.SSHDPID(), pid)
			}
			select {
			case <-sleeper.done:
			case <-time.After(time.Minute):
				t.Errorf("a process of the host survived its reboot")
			}
			if got := strings.TrimSpace(sshOK(t, l, h2, "cat "+bootIDPath)); got != id2 {
				t.Errorf("h2's boot ID changed with h1's reboot: %q -> %q", id2, got)
			}
		})
	}
}
