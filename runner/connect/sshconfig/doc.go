// Package sshconfig reads OpenSSH client configuration (ssh_config(5)) so
// that tend reaches hosts the way `ssh HOST` would: HostName, User, Port,
// IdentityFile, IdentitiesOnly, ProxyJump, UserKnownHostsFile,
// StrictHostKeyChecking, ConnectTimeout and ServerAliveInterval/CountMax.
// It is a leaf: it knows nothing of inventories or of the transport; the
// connect package decides what wins over what.
//
// Parsing (tokens, quoting, `key=value`, comments, Host patterns) is done by
// github.com/kevinburke/ssh_config. This package adds what that library
// lacks or gets wrong for a client:
//
//   - Include is resolved here (globs, `~`, relative to ~/.ssh for user
//     files and /etc/ssh for system ones, at most 16 levels), and an Include
//     inside a Host or Match block applies only when that block matches, as
//     in OpenSSH.
//   - Match is rewritten before parsing: `Match all`, `Match host` and
//     `Match originalhost` (pattern lists, `!` negation, one positive host
//     criterion) and `Match localuser` are honoured. Any other criterion
//     (exec, user, canonical, final, tagged, localnetwork, address, ...)
//     makes the block never match, with a warning naming file:line: such a
//     block is ignored rather than the whole file refused.
//   - Host patterns are matched with OpenSSH's rules (`*`, `?` exactly one
//     character, `!` negation, case-insensitive), not the library's.
//
// Values follow OpenSSH: for each keyword the first value found wins,
// except IdentityFile, whose values accumulate.
//
// Which names are matched: OpenSSH matches Host patterns against the name
// given on its command line; Ansible gives it ansible_host. [Config.Settings]
// therefore matches the address tend dials, and also the inventory name
// when it differs: a block applies when a positive pattern matches either
// name and no negated pattern matches either. HostName is the exception:
// it is taken only from blocks matching the address, so an inventory's
// ansible_host is never redirected by a block written for the inventory
// name.
//
// Not supported: ProxyCommand (reported, never run), HostKeyAlias,
// CanonicalizeHostname, CertificateFile, and tokens other than %%, %d, %h,
// %i, %l, %n, %p, %r and %u.
package sshconfig
