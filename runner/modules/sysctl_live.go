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

// sysctlTimeout bounds each remote command of the module that writes, from
// the client alone (NoRemoteTimeout): the scripts run in the connection's
// shell with no `timeout` and /bin/sh exec'd per command.
const sysctlTimeout = 60 * time.Second

// sysctlShellLib defines probe, shared by the scripts below.
//
// probe MODE N PATH... prints two NUL-terminated fields per PATH, a state and
// a value, then "netns" and the shell's and PID 1's network namespaces. The
// first N paths are read: rw|ro|dir|unreadable|missing and the value (MODE
// l), or read|dir|unreadable|missing and the value (MODE v: no mode bits, no
// namespaces); the rest are only looked up (exists|missing).
//
// Whatever the number of keys it runs ls and grep once each, and cat only
// for a file grep printed no line of. Values come from one grep over all the
// files (one line "PATH:LINE" per line of each; the
// shell's read builtin is no use: dash reads one byte per read(2) and the
// kernel's integer handlers return nothing at a non-zero offset, so it would
// see "6" in tcp_fin_timeout's "60"). As $(cat) did, internal newlines are
// kept and trailing ones dropped. A file grep printed no line of (empty,
// unreadable, a path holding ':' that its output cannot frame, or a second
// copy of a path) is read again with cat: its failure means "unreadable".
// Writability needs both the owner-w mode bit (root bypasses nothing in
// /proc/sys, but test -w may answer from the uid alone in some shells) and
// test -w (false on a read-only /proc/sys mount); the mode bits of all the
// files come from one ls -ld, which also shows the namespaces' link targets
// (ls sorts its operands, so each line is found by its " PATH" ending).
// Paths are never shell text: eval only copies variables by name.
const sysctlShellLib = `NL='
'
probe() {
	_m=$1 _n=$2; shift 2; _k=$# _i=0
	for _p; do
		_i=$((_i+1))
		if [ ! -e "$_p" ]; then _t=missing
		elif [ "$_i" -gt "$_n" ]; then _t=exists
		elif [ -d "$_p" ]; then _t=dir
		else _t=file; set -- "$@" "$_p"; fi
		eval "_p$_i=\$_p _t$_i=\$_t"
	done
	shift "$_k"
	_L=$NL _G=$NL _S=$NL
	if [ "$_m" = l ] && [ "$_n" -gt 0 ]; then
		_L=$NL$(LC_ALL=C QUOTING_STYLE=literal ls -ld -- /proc/self/ns/net /proc/1/ns/net "$@" 2>/dev/null)$NL
	fi
	_k=$#
	for _p; do
		case $_p in *:*) continue;; esac
		case $_S in *"$NL$_p$NL"*) continue;; esac
		_S=$_S$_p$NL; set -- "$@" "$_p"
	done
	shift "$_k"
	if [ "$#" -gt 0 ]; then _G=$NL$(LC_ALL=C grep -aH -e '' -- "$@" 2>/dev/null); fi
	_j=0
	while [ "$_j" -lt "$_i" ]; do
		_j=$((_j+1)); eval "_p=\$_p$_j _t=\$_t$_j"
		if [ "$_t" != file ]; then printf '%s\0\0' "$_t"; continue; fi
		_v= _r=
		while :; do
			case $_G in "$NL$_p:"*) ;; *) break;; esac
			_G=${_G#"$NL$_p:"}; _l=${_G%%"$NL"*}; _G=${_G#"$_l"}; _v=$_v$_l$NL; _r=1
		done
		while :; do case $_v in *"$NL") _v=${_v%"$NL"};; *) break;; esac; done
		if [ -z "$_r" ] && ! _v=$(cat -- "$_p" 2>/dev/null); then printf 'unreadable\0\0'; continue; fi
		_s=read
		if [ "$_m" = l ]; then
			_s=ro
			case $_L in *" $_p$NL"*)
				_x=${_L%%" $_p$NL"*}
				case ${_x##*"$NL"} in ??w*) if [ -w "$_p" ]; then _s=rw; fi;; esac;;
			esac
		fi
		printf '%s\0%s\0' "$_s" "$_v"
	done
	_a= _b=
	case $_L in *" /proc/self/ns/net -> "*) _a=${_L#*" /proc/self/ns/net -> "}; _a=${_a%%"$NL"*};; esac
	case $_L in *" /proc/1/ns/net -> "*) _b=${_L#*" /proc/1/ns/net -> "}; _b=${_b%%"$NL"*};; esac
	printf 'netns\0%s %s\0' "$_a" "$_b"
}
`

// sysctlProbeScript is probe MODE N PATH... ($1 $2 $3...).
const sysctlProbeScript = sysctlShellLib + `probe "$@"`

// sysctlCheckScript reads the file $1, lists the boot-time files ($2 N, then
// N arguments of boot: sysctl_boot_read.go) and probes (MODE, N, PATHS...)
// in one command: the probe's fields, boot's records, then "absent\0" or
// "file\0" and the file's bytes to the end of the output (any bytes, NUL
// included: nothing follows them). Like transport.ReadFile, a directory
// exits 82 and cat's failure is its exit code with its message on stderr.
const sysctlCheckScript = `LC_ALL=C; export LC_ALL
` + sysctlShellLib + sysctlBootLib + `f=$1 _nb=$2; shift 2
_j=0
while [ "$_j" -lt "$_nb" ]; do _j=$((_j+1)); eval "_b$_j=\$1"; shift; done
probe "$@"
boot
if [ ! -e "$f" ]; then printf 'absent\0'; exit 0; fi
if [ -d "$f" ]; then exit 82; fi
printf 'file\0'
exec cat -- "$f"`

// sysctlWriteScript writes each VALUE to its PATH ($4 $5, $6 $7, ...) and
// stops at the first failure: per pair "ok\0PATH\0", or "fail\0MESSAGE\0".
// Then "read\0" and, when $1 is 1, probe v of the written paths (or of
// none). The shell's printf writes; when the kernel refuses, dd writes again
// to name the kernel's errno ("Invalid argument"), which printf does not;
// the value reaches it on stdin, never as shell text. First, when $2 is set,
// the file $2 must still be what the plan read (sha256 $3, or "absent"):
// else "stale\0SHA256\0" and nothing is written.
const sysctlWriteScript = sysctlShellLib + `b=$1 f=$2 h=$3; shift 3
if [ -n "$f" ]; then
	if [ ! -e "$f" ]; then g=absent
	elif g=$(sha256sum <"$f" 2>/dev/null); then g=${g%% *}
	else g=; fi
	if [ -n "$g" ] && [ "$g" != "$h" ]; then printf 'stale\0%s\0' "$g"; exit 0; fi
fi
k=$# o=
for a; do
	if [ -z "$o" ]; then o=$a; continue; fi
	if { printf '%s\n' "$a" >"$o"; } 2>/dev/null; then :
	elif e=$(printf '%s\n' "$a" | dd of="$o" 2>&1); then :
	else printf 'fail\0%s\0' "${e:-write failed}"; exit 0; fi
	printf 'ok\0%s\0' "$o"
	set -- "$@" "$o"; o=
done
shift "$k"
printf 'read\0'
if [ "$b" = 1 ]; then probe v "$#" "$@"; else probe v 0; fi`

// sysctlReloadScript runs sysctl -p FILE ($1; /sbin is not on every user's
// PATH; $2 "-e" makes it ignore unknown keys, as ignoreerrors asks), its
// messages on stderr, prints "rc\0STATUS\0", then probes ($3 MODE, $4 N,
// PATHS...): the values it left.
const sysctlReloadScript = sysctlShellLib + `f=$1 e=$2; shift 2
PATH="$PATH:/sbin:/usr/sbin"
if [ "$e" = -e ]; then sysctl -e -p "$f" >/dev/null; else sysctl -p "$f" >/dev/null; fi
printf 'rc\0%s\0' "$?"
probe "$@"`

// sysctlLive is one key's state in /proc/sys.
type sysctlLive struct {
	state string // rw, ro, dir, unreadable, missing; read when only read back
	value string // as read, trailing newlines dropped
}

// sysctlProbe is what one probe found.
type sysctlProbe struct {
	keys             []sysctlLive
	others           []string // exists or missing
	netns, initNetns string
	otherNetns       bool // the shell runs outside PID 1's network namespace
}

// sysctlProbeArgs are probe's arguments: MODE (l: with mode bits and
// namespaces, v: values only), N, the paths.
func sysctlProbeArgs(full bool, ours, others []string) []string {
	mode := "v"
	if full {
		mode = "l"
	}
	args := append([]string{mode, strconv.Itoa(len(ours))}, ours...)
	return append(args, others...)
}

// parseSysctlProbe reads probe's fields for ours and others: f holds them,
// netns last; anything after is ignored.
func parseSysctlProbe(f []string, ours, others int) (*sysctlProbe, bool) {
	n := ours + others
	if len(f) < 2*n+2 || f[2*n] != "netns" {
		return nil, false
	}
	p := &sysctlProbe{}
	for i := 0; i < ours; i++ {
		p.keys = append(p.keys, sysctlLive{state: f[2*i], value: f[2*i+1]})
	}
	for i := 0; i < others; i++ {
		p.others = append(p.others, f[2*(ours+i)])
	}
	p.netns, p.initNetns, _ = strings.Cut(f[2*n+1], " ")
	p.otherNetns = p.netns != "" && p.initNetns != "" && p.netns != p.initNetns
	return p, true
}

func sysctlProbeError(res transport.Result) error {
	return fmt.Errorf("sysctl: reading /proc/sys: unexpected result (exit %d): %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
}

// sysctlProbeLive reads ours (full: with their modes and the namespaces) and
// checks that others exist, in one command.
func sysctlProbeLive(ctx context.Context, conn transport.Conn, ours, others []string, full bool) (*sysctlProbe, error) {
	argv := append([]string{"/bin/sh", "-c", sysctlProbeScript, "sh"}, sysctlProbeArgs(full, ours, others)...)
	// A read of /proc/sys: no Timeout, so it runs without an exec (sshshell.go).
	res, err := conn.Run(ctx, transport.Command{Argv: argv})
	if err != nil {
		return nil, fmt.Errorf("sysctl: reading /proc/sys: %w", err)
	}
	f := strings.Split(string(res.Stdout), "\x00")
	p, ok := parseSysctlProbe(f, len(ours), len(others))
	if res.ExitCode != 0 || !ok || len(f) != 2*(len(ours)+len(others))+3 {
		return nil, sysctlProbeError(res)
	}
	return p, nil
}

// sysctlRead is what Check's one command found.
type sysctlRead struct {
	content []byte // nil when the file is missing
	exists  bool
	probe   *sysctlProbe
	boot    *sysctlBootListing
}

// sysctlReadProbe reads file, lists the boot-time files of layout and
// probes ours fully, in one command: what transport.ReadFile and
// sysctlProbeLive(ours, nil, true) would return, and the listing.
func sysctlReadProbe(ctx context.Context, conn transport.Conn, file string, ours []string, layout sysctlBootLayout) (*sysctlRead, error) {
	boot := layout.args()
	argv := append([]string{"/bin/sh", "-c", sysctlCheckScript, "sh", file, strconv.Itoa(len(boot))}, boot...)
	argv = append(argv, sysctlProbeArgs(true, ours, nil)...)
	// Reads only: no Timeout, so it runs without an exec (sshshell.go).
	res, err := conn.Run(ctx, transport.Command{Argv: argv, MaxOutput: transport.MaxReadFile + sysctlMaxProbeOutput})
	if err != nil {
		return nil, fmt.Errorf("sysctl: %w", err)
	}
	if res.ExitCode != 0 {
		step := fmt.Sprintf("the read script (exit %d)", res.ExitCode)
		if res.ExitCode == 82 {
			step = "not a regular file"
		}
		return nil, fmt.Errorf("sysctl: %w", &transport.FileError{Op: "read", Path: file, Step: step,
			ExitCode: res.ExitCode, Stderr: strings.TrimSpace(string(res.Stderr))})
	}
	tooLarge := fmt.Errorf("sysctl: transport: read %s: larger than %d bytes", file, transport.MaxReadFile)
	n := 2*len(ours) + 2
	f := strings.SplitN(string(res.Stdout), "\x00", n+1)
	p, ok := parseSysctlProbe(f, len(ours), 0)
	if !ok || len(f) != n+1 {
		if res.Truncated {
			return nil, tooLarge
		}
		return nil, sysctlProbeError(res)
	}
	listing, rest, err := sysctlParseBoot(f[n])
	if err != nil {
		if res.Truncated {
			return nil, tooLarge
		}
		return nil, err
	}
	r := &sysctlRead{probe: p, boot: listing}
	kind, content, found := strings.Cut(rest, "\x00")
	switch {
	case found && kind == "absent" && content == "":
		return r, nil
	case !found || kind != "file":
		if res.Truncated {
			return nil, tooLarge
		}
		return nil, sysctlProbeError(res)
	case res.Truncated || len(content) > transport.MaxReadFile:
		return nil, tooLarge
	}
	r.content, r.exists = []byte(content), true
	return r, nil
}

// sysctlMaxProbeOutput is room for the probe's fields beside the file.
const sysctlMaxProbeOutput = 4 << 20

// sysctlWrite is one value to write to /proc/sys, and what to restore.
type sysctlWrite struct {
	key, path, value, before string
}

// sysctlFileGuard names the file and the SHA-256 (or transport.ExpectAbsent)
// it must still have for a write to go ahead.
type sysctlFileGuard struct {
	path, sha string
}

// sysctlWritten is what sysctlWriteLive did.
type sysctlWritten struct {
	done    int    // values written, in order
	refused string // the kernel's message for value done, if refused
	back    []sysctlLive
	readErr error // why back is nil although every value was written
}

// sysctlWriteLive writes the values in order (their before values with
// restore) and stops at the first the kernel refuses. With readBack and all
// written, it also reads what the written keys hold now, in the same
// command. With a guard whose file changed, nothing is written: a
// *transport.StaleError.
func sysctlWriteLive(ctx context.Context, conn transport.Conn, ws []sysctlWrite, restore, readBack bool, guard *sysctlFileGuard) (sysctlWritten, error) {
	argv := []string{"/bin/sh", "-c", sysctlWriteScript, "sh", "0", "", ""}
	if readBack {
		argv[4] = "1"
	}
	if guard != nil {
		argv[5], argv[6] = guard.path, guard.sha
	}
	for _, w := range ws {
		v := w.value
		if restore {
			v = w.before
		}
		argv = append(argv, w.path, v)
	}
	var r sysctlWritten
	res, err := conn.Run(ctx, transport.Command{Argv: argv, Timeout: sysctlTimeout, NoRemoteTimeout: true})
	if err != nil {
		return r, fmt.Errorf("sysctl: writing /proc/sys: %w", err)
	}
	f := strings.Split(string(res.Stdout), "\x00")
	if guard != nil && len(f) >= 2 && f[0] == "stale" {
		return r, &transport.StaleError{Path: guard.path, Want: guard.sha, Got: f[1]}
	}
	for i := 0; i+1 < len(f) && r.done < len(ws); i += 2 {
		if f[i] != "ok" {
			r.refused, _, _ = strings.Cut(strings.TrimSpace(f[i+1]), "\n") // dd's statistics follow
			return r, nil
		}
		r.done++
	}
	if r.done != len(ws) {
		r.refused = fmt.Sprintf("write stopped after %d of %d values (exit %d): %s", r.done, len(ws), res.ExitCode, strings.TrimSpace(string(res.Stderr)))
		return r, nil
	}
	if !readBack {
		return r, nil
	}
	var rest []string
	if len(f) > 2*r.done && f[2*r.done] == "read" {
		rest = f[2*r.done+1:]
	}
	if p, ok := parseSysctlProbe(rest, len(ws), 0); res.ExitCode == 0 && ok && len(rest) == 2*len(ws)+3 {
		r.back = p.keys
	} else {
		r.readErr = sysctlProbeError(res)
	}
	return r, nil
}

// sysctlReloaded is what sysctl -p did, and the values it left.
type sysctlReloaded struct {
	exitCode int
	stderr   string
	values   []sysctlLive // in the order asked, nil when readErr says why
	readErr  error
}

// sysctlReload runs sysctl -p file (-e with ignoreUnknown) and then reads
// paths back, in one command.
func sysctlReload(ctx context.Context, conn transport.Conn, file string, ignoreUnknown bool, paths []string) (sysctlReloaded, error) {
	e := "-"
	if ignoreUnknown {
		e = "-e"
	}
	argv := append([]string{"/bin/sh", "-c", sysctlReloadScript, "sh", file, e}, sysctlProbeArgs(false, paths, nil)...)
	res, err := conn.Run(ctx, transport.Command{Argv: argv, Timeout: sysctlTimeout, NoRemoteTimeout: true})
	if err != nil {
		return sysctlReloaded{}, fmt.Errorf("sysctl: sysctl -p %s: %w", file, err)
	}
	r := sysctlReloaded{exitCode: res.ExitCode, stderr: string(res.Stderr)}
	f := strings.Split(string(res.Stdout), "\x00")
	if len(f) < 2 || f[0] != "rc" {
		r.readErr = sysctlProbeError(res)
		return r, nil
	}
	if rc, err := strconv.Atoi(f[1]); err == nil {
		r.exitCode = rc
	}
	rest := f[2:]
	p, ok := parseSysctlProbe(rest, len(paths), 0)
	if res.ExitCode != 0 || !ok || len(rest) != 2*len(paths)+3 {
		r.readErr = sysctlProbeError(res)
		return r, nil
	}
	r.values = p.keys
	return r, nil
}

// sysctlUnsupportedReason says why a key cannot be managed here, or "".
func sysctlUnsupportedReason(id, procPath string, lk sysctlLive, probe *sysctlProbe) string {
	where := "this kernel"
	netKey := strings.HasPrefix(id, "net.")
	if probe.otherNetns && netKey {
		where = "this network namespace"
	}
	switch lk.state {
	case "rw":
		return ""
	case "missing":
		switch {
		case id == "net.ipv4.tcp_tw_recycle":
			return "removed in Linux 4.12 (commit 4396e46187ca); before that it broke clients behind NAT. Leave it out"
		case probe.otherNetns && netKey:
			return "a global key: only PID 1's network namespace has it"
		case probe.initNetns == "" && netKey:
			// PID 1's namespace is unreadable (a sandbox): say both.
			return "no " + procPath + " on this kernel, or a global key of PID 1's network namespace"
		}
		return "no " + procPath + " on this kernel"
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
