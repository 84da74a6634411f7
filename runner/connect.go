package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"tend/inventory"
	"tend/runner/transport"
)

// ConnectOptions are the connection settings given on the command line;
// inventory variables (ansible_user, ansible_port, ...) win over them for
// their host, except Connection, which -c forces for every host.
type ConnectOptions struct {
	// Connection forces "ssh" or "local" for every host when set (-c).
	Connection string
	// User is the default remote user (-u); default root.
	User string
	// PrivateKey is the default identity file (--private-key).
	PrivateKey string
	// KnownHosts is the known_hosts file (default ~/.ssh/known_hosts).
	KnownHosts string
	// AcceptNewHostKeys appends unknown host keys instead of refusing them.
	AcceptNewHostKeys bool
	// Timeout bounds the TCP dial and the SSH handshake (zero: ssh_config
	// ConnectTimeout, else 10s).
	Timeout time.Duration
	// Warn receives non-fatal connection warnings (malformed known_hosts lines).
	Warn func(string)
	// SSHConfig is the OpenSSH client config file (--ssh-config / -F): ""
	// reads ~/.ssh/config then /etc/ssh/ssh_config, "none" reads nothing.
	// Inventory variables and the options above win over it.
	SSHConfig string
}

// Connector opens the connection to a host. The engine asks it once per
// host per run; cmd builds the SSH and local ones, tests give an in-memory
// host. Close is called once, after every host's Conn is closed (jump host
// connections shared by several targets end last).
type Connector interface {
	Connect(ctx context.Context, h *inventory.Host) (transport.Conn, error)
	Close() error
}

// defaultConnector is the SSH-or-local connector built from ConnectOptions,
// used when Options.Connector is nil.
type defaultConnector struct {
	o ConnectOptions
	s *sshSetup
}

// Connect opens h's connection (local, or SSH through its jump hosts).
func (d *defaultConnector) Connect(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
	return connect(ctx, h, d.o, d.s)
}

// Close ends the shared jump host connections.
func (d *defaultConnector) Close() error {
	d.s.close()
	return nil
}

// connect opens the transport for a host from its inventory variables.
func connect(ctx context.Context, h *inventory.Host, o ConnectOptions, s *sshSetup) (transport.Conn, error) {
	kind := h.Connection()
	if o.Connection != "" {
		kind = o.Connection
	}
	switch kind {
	case "local":
		return transport.Local(), nil
	case "ssh", "":
	default:
		return nil, fmt.Errorf("unknown connection %q (want ssh or local)", kind)
	}
	// ssh_config, ProxyJump and the precedence rules: sshsetup.go.
	return s.dial(ctx, h)
}

// defaultIdentities lists the usual ~/.ssh/id_* files that exist, as
// OpenSSH would try them when no identity is configured.
func defaultIdentities() []string {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		p := filepath.Join(home, ".ssh", n)
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func expandHome(p string) string {
	if len(p) > 1 && p[:2] == "~/" {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	return p
}
