package lab

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// KnownHostsText returns known_hosts lines for every host's current
// ed25519 key under its address. New writes it to KnownHosts; after
// RegenerateHostKey it holds the new key while the file keeps the old one.
func (l *Lab) KnownHostsText() string {
	var b strings.Builder
	for _, h := range l.Hosts {
		h.mu.Lock()
		pub := h.HostKeyPub
		h.mu.Unlock()
		name := h.Addr
		if h.Port != 22 {
			name = "[" + h.Addr + "]:" + strconv.Itoa(h.Port)
		}
		b.WriteString(name + " " + pub + "\n")
	}
	return b.String()
}

// InventoryYAML returns an Ansible YAML inventory of the lab:
//
//	all:
//	  hosts:
//	    h1:
//	      ansible_host: 10.77.0.2
//	      ansible_port: 22
//	      ansible_user: root
//	      ansible_ssh_private_key_file: /tmp/tend-lab-.../client_ed25519
//	      tend_state_dir: /tmp/tend-lab-.../state/h1
func (l *Lab) InventoryYAML() string {
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }
	hosts := &yaml.Node{Kind: yaml.MappingNode}
	for _, h := range l.Hosts {
		vars := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
			str("ansible_host"), str(h.Addr),
			str("ansible_port"), {Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(h.Port)},
			str("ansible_user"), str("root"),
			str("ansible_ssh_private_key_file"), str(l.ClientKey),
			// The simulated hosts share this machine's /var/lib: each gets its
			// own state dir (pending handlers, budgets), removed with the lab.
			str("tend_state_dir"), str(filepath.Join(l.Dir, "state", h.Name)),
		}}
		hosts.Content = append(hosts.Content, str(h.Name), vars)
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		str("all"), {Kind: yaml.MappingNode, Content: []*yaml.Node{str("hosts"), hosts}},
	}}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		panic("lab: encode inventory: " + err.Error()) // cannot happen: plain scalars only
	}
	enc.Close()
	return b.String()
}

// WriteInventory writes InventoryYAML to Dir/inventory.yml and returns its path.
func (l *Lab) WriteInventory(t TB) string {
	t.Helper()
	p := filepath.Join(l.Dir, "inventory.yml")
	if err := os.WriteFile(p, []byte(l.InventoryYAML()), 0o644); err != nil {
		t.Fatalf("lab: write inventory: %v", err)
	}
	return p
}

// SSHArgs returns the OpenSSH client options that reach the lab's hosts
// with strict host key checking against KnownHosts and only ClientKey.
func (l *Lab) SSHArgs() []string {
	return []string{
		"-F", "/dev/null",
		"-i", l.ClientKey,
		"-o", "IdentitiesOnly=yes",
		"-o", "UserKnownHostsFile=" + l.KnownHosts,
		"-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes",
		"-o", "ConnectTimeout=10",
		"-o", "LogLevel=ERROR",
	}
}

// SSH runs command on h as root through the OpenSSH client (ssh(1) passes
// command to the remote login shell). A non-zero exit, including ssh's own
// 255, is returned as an error wrapping *exec.ExitError.
func (l *Lab) SSH(ctx context.Context, h *Host, command string) (stdout, stderr string, err error) {
	args := append(l.SSHArgs(), "-p", strconv.Itoa(h.Port), "--", "root@"+h.Addr, command)
	cmd := exec.CommandContext(ctx, "ssh", args...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err = cmd.Run()
	return so.String(), se.String(), err
}
