// Package connect opens the connection to each inventory host: the
// Connectors the engine (package runner) asks for a transport.Conn per host.
//
// Three are here. SSH resolves a host the way `ssh HOST` would, then dials
// it with package transport: inventory variables (ansible_host,
// ansible_port, ansible_user, ansible_ssh_private_key_file,
// ansible_ssh_common_args/extra_args) win over the command line (-u,
// --private-key, --known-hosts, --timeout), which wins over ssh_config
// (package sshconfig: HostName, Port, User, IdentityFile, ProxyJump,
// UserKnownHostsFile, StrictHostKeyChecking, ...), which wins over tend's
// defaults. ProxyJump chains are followed hop by hop, each jump host
// connection shared by every target behind it, and the handshakes in
// flight are bounded (MaxConnecting). Local runs commands on this machine.
// ByHost chooses one of them per host from -c or ansible_connection; it is
// the one place that knows which connection types exist (Types).
//
// Imports flow one way: connect uses inventory, transport and sshconfig,
// never the engine. The walk of one host from the command line to the
// wire is cmd/tend (flags) → ByHost → SSH.Connect (target, jump chain) →
// transport.DialSSH.
package connect
