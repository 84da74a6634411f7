// Package transport runs commands and edits files on one host, over SSH or
// locally, behind a single interface so that every module works the same on
// both. It knows nothing of inventories or playbooks: package runner/connect
// turns a host into a dial target.
//
// Two implementations of [Conn] exist: [Local], which runs commands on this
// machine without a shell, and [DialSSH], which carries every command of a
// run over one SSH connection, in one long-lived remote shell where it can
// (a session costs the host more CPU than most commands; see sshshell.go and
// [Command.OwnSession]). Over SSH the argv is quoted word by word for the
// remote shell ([ShellJoin]), so no value is ever interpreted by it.
// [Become] wraps either in sudo, answering sudo's password prompt only when
// it appears; its failures are a [BecomeError].
//
// Host keys are always checked against known_hosts: an unknown key is
// refused unless new keys are explicitly accepted, and a changed key is
// always refused ([HostKeyError]). A broken connection is an
// [UnreachableError]; a command that exits non-zero is a [Result].
//
// File operations ([ReadFile], [Stat], [WriteFileAtomic]) are written once,
// as constant POSIX sh scripts run through [Conn.Run] with every value passed
// as a positional argument or on stdin, so the same code serves local, SSH
// and privilege-escalated connections. Every Conn carries the positional
// arguments of such a script (/bin/sh -c SCRIPT NAME ARG...) on its stdin,
// never in the host's argv, where ps and sudo's log would show them.
package transport
