package connect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"tend/inventory"
	"tend/runner/connect/sshconfig"
	"tend/runner/transport"
)

// target resolves how to reach h. Precedence, as with Ansible: inventory
// variables (ansible_host, ansible_port, ansible_user,
// ansible_ssh_private_key_file), then the command line (-u, --private-key,
// --known-hosts, --timeout, --accept-new-host-keys), then ssh_config, then
// tend's defaults (port 22, user root, ~/.ssh/id_* or the agent). It also
// returns the ProxyJump list ("" for a direct connection): from the
// inventory's ansible_ssh_common_args/extra_args if set there, else from
// ssh_config.
func (s *SSH) target(h *inventory.Host) (transport.SSHConfig, string, error) {
	addr := h.Address()
	st, err := s.cfg.Settings(addr, h.Name)
	if err != nil {
		return transport.SSHConfig{}, "", err
	}
	jump, err := s.inventoryJump(h)
	if err != nil {
		return transport.SSHConfig{}, "", err
	}
	if jump == "" {
		if st.ProxyCommand != "" && st.ProxyJump == "" {
			return transport.SSHConfig{}, "", fmt.Errorf("connect: host %s: ssh_config %s: ProxyCommand is not supported (use ProxyJump)", h.Name, st.Where["proxycommand"])
		}
		jump = st.ProxyJump
	}
	if strings.EqualFold(jump, "none") {
		jump = ""
	}
	cfg := s.common(st)
	cfg.Host = firstNonEmpty(st.HostName, addr)
	cfg.Port = firstNonZero(h.Port(), st.Port, 22)
	cfg.User = firstNonEmpty(h.User(), s.o.User, st.User, "root")
	tok := sshconfig.Tokens{HostName: cfg.Host, Alias: addr, Port: cfg.Port, RemoteUser: cfg.User}
	if err := s.keys(&cfg, st, tok, firstNonEmpty(h.PrivateKeyFile(), s.o.PrivateKey)); err != nil {
		return cfg, "", fmt.Errorf("connect: host %s: %w", h.Name, err)
	}
	if err := s.knownHosts(&cfg, st, tok); err != nil {
		return cfg, "", fmt.Errorf("connect: host %s: %w", h.Name, err)
	}
	return cfg, jump, nil
}

// hop resolves one jump host from its ProxyJump entry and its own
// ssh_config; the target's inventory and -u/--private-key do not apply to
// it (as OpenSSH applies command-line options to the destination only).
// It also returns the hop's own ProxyJump.
func (s *SSH) hop(hop sshconfig.Hop) (transport.SSHConfig, string, error) {
	st, err := s.cfg.Settings(hop.Host)
	if err != nil {
		return transport.SSHConfig{}, "", err
	}
	if st.ProxyCommand != "" && st.ProxyJump == "" {
		return transport.SSHConfig{}, "", fmt.Errorf("connect: jump host %s: ssh_config %s: ProxyCommand is not supported (use ProxyJump)", hop.Host, st.Where["proxycommand"])
	}
	cfg := s.common(st)
	cfg.Host = firstNonEmpty(st.HostName, hop.Host)
	cfg.Port = firstNonZero(hop.Port, st.Port, 22)
	cfg.User = firstNonEmpty(hop.User, st.User, "root")
	tok := sshconfig.Tokens{HostName: cfg.Host, Alias: hop.Host, Port: cfg.Port, RemoteUser: cfg.User}
	if err := s.keys(&cfg, st, tok, ""); err != nil {
		return cfg, "", fmt.Errorf("connect: jump host %s: %w", hop.Host, err)
	}
	if err := s.knownHosts(&cfg, st, tok); err != nil {
		return cfg, "", fmt.Errorf("connect: jump host %s: %w", hop.Host, err)
	}
	return cfg, st.ProxyJump, nil
}

// common fills what targets and jump hosts resolve alike: timeouts,
// keepalives and host key policy.
func (s *SSH) common(st sshconfig.Settings) transport.SSHConfig {
	cfg := transport.SSHConfig{Warn: s.o.Warn, AcceptNewHostKeys: s.o.AcceptNewHostKeys}
	timeout := s.o.Timeout
	if timeout <= 0 {
		timeout = st.ConnectTimeout
	}
	cfg.DialTimeout, cfg.HandshakeTimeout = timeout, timeout
	if st.HasServerAliveInterval {
		cfg.KeepaliveInterval = st.ServerAliveInterval
		if cfg.KeepaliveInterval == 0 {
			cfg.KeepaliveInterval = -1 // ServerAliveInterval 0: disabled
		}
	}
	cfg.KeepaliveCountMax = st.ServerAliveCountMax
	switch st.StrictHostKeyChecking {
	case "accept-new":
		cfg.AcceptNewHostKeys = true
	case "no", "off":
		// Never "ignore the key": a changed key stays fatal.
		cfg.AcceptNewHostKeys = true
		s.warnOnce(fmt.Sprintf("ssh_config %s: StrictHostKeyChecking %s is treated as accept-new: unknown keys are recorded, changed keys are still refused",
			st.Where["stricthostkeychecking"], st.StrictHostKeyChecking))
	}
	return cfg
}

// keys sets the identities: key (inventory or --private-key) if given, else
// ssh_config's IdentityFiles that exist, else the default ones. Only
// configured keys are ever offered (tend always acts as IdentitiesOnly
// when a key is configured); with none, the agent is used unless
// ssh_config says IdentitiesOnly yes.
func (s *SSH) keys(cfg *transport.SSHConfig, st sshconfig.Settings, tok sshconfig.Tokens, key string) error {
	if key != "" {
		cfg.KeyFiles = []string{expandHome(key)}
		return nil
	}
	var missing []string
	for _, f := range st.IdentityFiles {
		p, err := sshconfig.Expand(f, tok)
		if err != nil {
			return fmt.Errorf("ssh_config %s: IdentityFile: %w", st.Where["identityfile"], err)
		}
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, p) // as ssh, skip a missing identity
			continue
		}
		cfg.KeyFiles = append(cfg.KeyFiles, p)
	}
	if len(cfg.KeyFiles) > 0 {
		return nil
	}
	if len(missing) > 0 {
		return fmt.Errorf("ssh_config %s: no IdentityFile exists (%s)", st.Where["identityfile"], missing[0])
	}
	cfg.KeyFiles = defaultIdentities()
	cfg.UseAgent = !st.IdentitiesOnly // with no agent, transport says so
	if len(cfg.KeyFiles) == 0 && st.IdentitiesOnly {
		return fmt.Errorf("ssh_config %s: IdentitiesOnly yes and no IdentityFile: no key to offer (the agent is not used)", st.Where["identitiesonly"])
	}
	return nil
}

// knownHosts sets the known_hosts file: --known-hosts, else the first of
// ssh_config's UserKnownHostsFile ("none": no host is known), else the
// transport's default ~/.ssh/known_hosts.
func (s *SSH) knownHosts(cfg *transport.SSHConfig, st sshconfig.Settings, tok sshconfig.Tokens) error {
	cfg.KnownHostsFile = s.o.KnownHosts
	if cfg.KnownHostsFile != "" || len(st.UserKnownHostsFiles) == 0 {
		return nil
	}
	f := st.UserKnownHostsFiles[0]
	if f == "none" {
		cfg.KnownHostsFile = os.DevNull
		return nil
	}
	p, err := sshconfig.Expand(f, tok)
	if err != nil {
		return fmt.Errorf("ssh_config %s: UserKnownHostsFile: %w", st.Where["userknownhostsfile"], err)
	}
	if len(st.UserKnownHostsFiles) > 1 {
		s.warnOnce(fmt.Sprintf("ssh_config %s: only the first UserKnownHostsFile (%s) is used", st.Where["userknownhostsfile"], p))
	}
	cfg.KnownHostsFile = filepath.Clean(p)
	return nil
}

func firstNonZero(v ...int) int {
	for _, n := range v {
		if n != 0 {
			return n
		}
	}
	return 0
}
