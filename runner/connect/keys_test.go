package connect

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"tend/inventory"
	"tend/runner/transport"
)

// TestNoKeyMessages checks the exact text of a host with no key to offer:
// what is missing, then what the user can do about it, which differs for a
// target (command line, inventory, ssh_config, agent) and a jump host
// (ssh_config, agent: the command line and inventory are the target's).
// Nothing is dialed: the key is missing before any connection.
func TestNoKeyMessages(t *testing.T) {
	const conf = `Host only
  IdentitiesOnly yes
`
	const noAgent = "transport: ssh: no key to authenticate with: no identity file, and no agent (SSH_AUTH_SOCK is not set); "
	for _, tc := range []struct {
		name  string
		host  *inventory.Host
		want  string
		nokey bool
	}{
		{"target", &inventory.Host{Name: "web1", Vars: map[string]any{"ansible_host": "127.0.0.1", "ansible_port": 1}},
			"connect: host web1: " + noAgent +
				"give one with --private-key, ansible_ssh_private_key_file or IdentityFile in ssh_config, or load one into a running ssh-agent (ssh-add)", true},
		{"jump host", &inventory.Host{Name: "web1", Vars: map[string]any{"ansible_host": "127.0.0.1", "ansible_ssh_common_args": "-J ops@127.0.0.1:1"}},
			"connect: jump host ops@127.0.0.1:1: " + noAgent +
				"give the jump host one with IdentityFile in its ssh_config Host block, or load one into a running ssh-agent (ssh-add)", true},
		{"IdentitiesOnly without IdentityFile", &inventory.Host{Name: "only"},
			"connect: host only: ssh_config $CONF:2: IdentitiesOnly yes and no IdentityFile: no key to offer (the agent is not used)", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, dir, _ := setupWith(t, SSHOptions{}, conf)
			want := strings.ReplaceAll(tc.want, "$CONF", filepath.Join(dir, "config"))
			c, err := s.Connect(context.Background(), tc.host)
			if c != nil {
				c.Close()
			}
			if err == nil || err.Error() != want {
				t.Fatalf("got  %v\nwant %s", err, want)
			}
			if errors.Is(err, transport.ErrNoKey) != tc.nokey {
				t.Errorf("errors.Is(err, ErrNoKey) = %v, want %v", !tc.nokey, tc.nokey)
			}
		})
	}
}
