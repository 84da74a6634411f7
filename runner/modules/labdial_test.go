package modules

import (
	"context"
	"testing"
	"time"

	"tend/internal/lab"
	"tend/runner/transport"
)

// labSSHConfig is how the lab tests log in to host h of lab l as user:
// the lab's client key and known_hosts, 10 s to connect and to handshake.
func labSSHConfig(l *lab.Lab, h *lab.Host, user string) transport.SSHConfig {
	return transport.SSHConfig{
		Host: h.Addr, Port: h.Port, User: user,
		KeyFiles: []string{l.ClientKey}, KnownHostsFile: l.KnownHosts,
		DialTimeout: 10 * time.Second, HandshakeTimeout: 10 * time.Second,
	}
}

// dialLab logs in to h as user (failing the test when it cannot) and
// closes the connection when the test ends.
func dialLab(t testing.TB, l *lab.Lab, h *lab.Host, user string) transport.Conn {
	t.Helper()
	c, err := transport.DialSSH(context.Background(), labSSHConfig(l, h, user))
	if err != nil {
		t.Fatalf("dial lab host %s as %s: %v", h.Name, user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
