package oracle

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestDifferentialUfw runs testdata/ufw/ufw-hardening.txtar on a lab of
// its own: the case enables ufw in both hosts' network namespaces, which
// would stay on for the cases after it in a shared lab. ufw runs only in a
// lab host whose /etc is the lab's overlay (checked here first), and the
// case's seed of /etc/default/ufw sets IPT_SYSCTL empty, so ufw writes no
// sysctl: the hosts share this machine's kernel.
func TestDifferentialUfw(t *testing.T) {
	if _, err := exec.LookPath("ufw"); err != nil {
		t.Skip("ufw not installed (scripts/test.sh installs it)")
	}
	c, err := LoadCase(filepath.Join("testdata", "ufw", "ufw-hardening.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	l := NewLab(t)
	for _, h := range l.lab.Hosts {
		if _, _, err := h.Exec(context.Background(), "/bin/sh", "-c",
			`grep -q ' /etc .* - overlay tend-lab-etc ' /proc/self/mountinfo`); err != nil {
			t.Fatalf("%s: /etc is not the lab's overlay: refusing to run ufw there: %v", h.Name, err)
		}
	}
	l.Run(t, c)
}
