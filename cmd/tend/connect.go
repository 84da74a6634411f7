package main

import (
	"fmt"
	"time"

	"tend/inventory"
	"tend/runner/connect"
)

// connector builds the run's connector from the command line: each host
// gets the local or SSH one by -c or its ansible_connection. Every host's
// connection type is checked here, and ssh_config is read here (not under
// -c local): either failing is bad input, before any host is contacted.
func (f *runFlags) connector(timeout time.Duration, hosts []*inventory.Host, warn func(string)) (*connect.ByHost, error) {
	by := &connect.ByHost{Force: f.connection, By: map[string]connect.Connector{"local": connect.Local{}}}
	if err := by.Check(hosts); err != nil {
		return nil, err
	}
	if f.connection == "local" {
		return by, nil
	}
	ssh, err := connect.NewSSH(connect.SSHOptions{
		User: f.user, PrivateKey: f.privateKey, KnownHosts: f.knownHosts, AcceptNewHostKeys: f.acceptNew,
		Timeout: timeout, SSHConfig: f.sshConfig, MaxConnecting: f.maxConnecting,
		Warn: warn,
	})
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	by.By["ssh"] = ssh
	return by, nil
}
