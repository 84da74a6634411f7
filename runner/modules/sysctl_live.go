package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tend/runner/modules/sysctlconf"
	"tend/runner/transport"
)

// This file is the sysctl module's remote side: fixed POSIX sh scripts run
// with every path and value as a separate argument, and their framed
// (NUL-separated) output.

// sysctlTimeout bounds each remote command of the module.
const sysctlTimeout = 60 * time.Second

// sysctlProbeScript prints two NUL-terminated fields per path: a state and the
// value. The first $1 paths are probed fully (rw|ro|dir|unreadable|missing,
// value); the rest only for existence (exists|missing). Writability needs
// both the owner-w mode bit (root bypasses nothing in /proc/sys, but test -w
// may answer from the uid alone in some shells) and test -w (false on a
// read-only /proc/sys mount). Last comes "netns" and the shell's and PID
// 1's network namespaces.
const sysctlProbeScript = `n=$1; shift; i=0
for p; do
  i=$((i+1))
  if [ ! -e "$p" ]; then printf 'missing\0\0'; continue; fi
  if [ "$i" -gt "$n" ]; then printf 'exists\0\0'; continue; fi
  if [ -d "$p" ]; then printf 'dir\0\0'; continue; fi
  s=ro
  case $(ls -ld -- "$p" 2>/dev/null) in ??w*) if [ -w "$p" ]; then s=rw; fi;; esac
  if v=$(cat -- "$p" 2>/dev/null); then printf '%s\0%s\0' "$s" "$v"; else printf 'unreadable\0\0'; fi
done
printf 'netns\0%s %s\0' "$(readlink /proc/self/ns/net 2>/dev/null)" "$(readlink /proc/1/ns/net 2>/dev/null)"`

// sysctlWriteScript writes each VALUE to its PATH ($1 $2, $3 $4, ...) and
// stops at the first failure: per pair "ok\0PATH\0", or "fail\0MESSAGE\0".
// dd, unlike the shell's printf, names the kernel's errno ("Invalid
// argument"); the value reaches it on stdin, never as shell text.
const sysctlWriteScript = `while [ "$#" -ge 2 ]; do
  if err=$(printf '%s\n' "$2" | dd of="$1" 2>&1); then printf 'ok\0%s\0' "$1"
  else printf 'fail\0%s\0' "${err:-write failed}"; exit 0; fi
  shift 2
done`

// sysctlReloadScript runs sysctl -p FILE; /sbin is not on every user's PATH.
const sysctlReloadScript = `PATH="$PATH:/sbin:/usr/sbin"; exec sysctl -p "$1"`

// sysctlLive is one key's state in /proc/sys.
type sysctlLive struct {
	state string // rw, ro, dir, unreadable, missing
	value string // as read, trailing newlines dropped
}

// sysctlProbe is what one probe found.
type sysctlProbe struct {
	keys             []sysctlLive
	others           []string // exists or missing
	netns, initNetns string
	otherNetns       bool // the shell runs outside PID 1's network namespace
}

// sysctlProbeLive reads ours fully and checks that others exist, in one command.
func sysctlProbeLive(ctx context.Context, conn transport.Conn, ours, others []string) (*sysctlProbe, error) {
	argv := append([]string{"/bin/sh", "-c", sysctlProbeScript, "sh", strconv.Itoa(len(ours))}, ours...)
	argv = append(argv, others...)
	res, err := conn.Run(ctx, transport.Command{Argv: argv, Timeout: sysctlTimeout})
	if err != nil {
		return nil, fmt.Errorf("sysctl: reading /proc/sys: %w", err)
	}
	f := strings.Split(string(res.Stdout), "\x00")
	n := len(ours) + len(others)
	if res.ExitCode != 0 || len(f) != 2*n+3 || f[2*n] != "netns" {
		return nil, fmt.Errorf("sysctl: reading /proc/sys: unexpected result (exit %d): %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	p := &sysctlProbe{}
	for i := range ours {
		p.keys = append(p.keys, sysctlLive{state: f[2*i], value: f[2*i+1]})
	}
	for i := range others {
		p.others = append(p.others, f[2*(len(ours)+i)])
	}
	p.netns, p.initNetns, _ = strings.Cut(f[2*n+1], " ")
	p.otherNetns = p.netns != "" && p.initNetns != "" && p.netns != p.initNetns
	return p, nil
}

// sysctlWrite is one value to write to /proc/sys, and what to restore.
type sysctlWrite struct {
	key, path, value, before string
}

// sysctlWriteLive writes the values in order. It returns how many were written
// and, if one was refused, the kernel's message.
func sysctlWriteLive(ctx context.Context, conn transport.Conn, ws []sysctlWrite, restore bool) (int, string, error) {
	argv := []string{"/bin/sh", "-c", sysctlWriteScript, "sh"}
	for _, w := range ws {
		v := w.value
		if restore {
			v = w.before
		}
		argv = append(argv, w.path, v)
	}
	res, err := conn.Run(ctx, transport.Command{Argv: argv, Timeout: sysctlTimeout})
	if err != nil {
		return 0, "", fmt.Errorf("sysctl: writing /proc/sys: %w", err)
	}
	f := strings.Split(string(res.Stdout), "\x00")
	done := 0
	for i := 0; i+1 < len(f); i += 2 {
		if f[i] != "ok" {
			msg, _, _ := strings.Cut(strings.TrimSpace(f[i+1]), "\n") // dd's statistics follow
			return done, msg, nil
		}
		done++
	}
	if done != len(ws) {
		return done, fmt.Sprintf("write stopped after %d of %d values (exit %d): %s", done, len(ws), res.ExitCode, strings.TrimSpace(string(res.Stderr))), nil
	}
	return done, "", nil
}

// sysctlUnsupportedReason says why a key cannot be managed here, or "".
func sysctlUnsupportedReason(id, procPath string, lk sysctlLive, probe *sysctlProbe) string {
	where := "this kernel"
	if probe.otherNetns && strings.HasPrefix(id, "net.") {
		where = "this network namespace (" + probe.netns + ", PID 1 is in " + probe.initNetns + "; global net keys exist only in the initial one)"
	}
	switch lk.state {
	case "rw":
		return ""
	case "missing":
		if id == "net.ipv4.tcp_tw_recycle" {
			return "removed in Linux 4.12 (commit 4396e46187ca); before that it broke clients behind NAT. Leave it out"
		}
		if !probe.otherNetns && probe.initNetns == "" && strings.HasPrefix(id, "net.") {
			// PID 1's namespace is unreadable (a sandbox): say both.
			where = "this kernel, or not in this network namespace (global net keys such as net.core.netdev_max_backlog exist only in the initial one)"
		}
		return "no " + procPath + " on " + where
	case "ro":
		return "read-only in " + where + " (mode, or /proc/sys mounted read-only)"
	case "dir":
		return procPath + " is a directory, not a key"
	default: // unreadable
		return "cannot be read back, so tend cannot verify it (write-only key)"
	}
}

// sysctlStderrKey finds the key a sysctl error line is about: a /proc/sys path
// ("cannot stat /proc/sys/net/ipv4/x: ...") or a quoted key ("setting key
// \"net.ipv4.x\": ..."). It returns the canonical key, or "".
func sysctlStderrKey(line string) string {
	if i := strings.Index(line, sysctlconf.ProcSys); i >= 0 {
		rest := line[i+len(sysctlconf.ProcSys):]
		if j := strings.IndexAny(rest, ": "); j >= 0 {
			rest = rest[:j]
		}
		return sysctlconf.Canonical(rest)
	}
	if _, rest, ok := strings.Cut(line, `"`); ok {
		if k, _, ok := strings.Cut(rest, `"`); ok {
			return sysctlconf.Canonical(k)
		}
	}
	return ""
}
