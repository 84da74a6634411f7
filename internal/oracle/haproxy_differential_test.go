package oracle

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// haproxyOracleConfig is the HAProxy each host of the haproxy case runs:
// an admin socket in the host's private /etc, two backends, web3 starting
// disabled, api1 with an initial weight of 8. No health checks, so that
// every status is known without waiting.
const haproxyOracleConfig = `global
	stats socket /etc/tend-haproxy/admin.sock mode 600 level admin
defaults
	mode tcp
	timeout connect 1s
	timeout client 10s
	timeout server 10s
frontend fe
	bind 127.0.0.1:18080
	default_backend www
backend www
	server web1 127.0.0.1:18081
	server web2 127.0.0.1:18082
	server web3 127.0.0.1:18083 disabled
backend api
	server web1 127.0.0.1:18084
	server web2 127.0.0.1:18085
	server api1 127.0.0.1:18086 weight 8
`

// TestDifferentialHaproxy runs testdata/haproxy/haproxy-rotation.txtar on
// a lab of its own, a real HAProxy started in each host first (its own
// network namespace; its socket in the host's overlay /etc), stopped by
// PID at the end.
func TestDifferentialHaproxy(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy not installed (scripts/test.sh installs it)")
	}
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("socat not installed (scripts/test.sh installs it)")
	}
	c, err := LoadCase(filepath.Join("testdata", "haproxy", "haproxy-rotation.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(haproxyOracleConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	l := NewLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, h := range l.lab.Hosts {
		if _, _, err := h.Exec(ctx, "/bin/sh", "-c",
			`grep -q ' /etc .* - overlay tend-lab-etc ' /proc/self/mountinfo && mkdir -p /etc/tend-haproxy`); err != nil {
			t.Fatalf("%s: /etc is not the lab's overlay: %v", h.Name, err)
		}
		p := h.Start(t, bin, "-db", "-f", cfg)
		t.Cleanup(func() { p.Stop() })
		if _, _, err := h.Exec(ctx, "/bin/sh", "-c", `until [ -S /etc/tend-haproxy/admin.sock ]; do sleep 0.05; done`); err != nil {
			t.Fatalf("%s: haproxy never made its socket: %v\n%s", h.Name, err, p.Output())
		}
	}
	l.Run(t, c)
}
