package modules

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"tend/runner/transport"
)

// The file-state modules (file, stat, find, copy, command's creates) read a
// host through one script, fsProbeScript, that takes a list of operations
// and prints their answers NUL-separated, so a Check is one remote command
// whatever it asks. Paths arrive as positional parameters (moved to stdin by
// the transport), never in the script text nor in the host's argv.

// fsEntryFormat is find -printf's format of one entry: 16 NUL-terminated
// fields (see fsEntry).
const fsEntryFormat = `%y\0%m\0%U\0%G\0%u\0%g\0%s\0%T@\0%A@\0%C@\0%i\0%D\0%n\0%b\0%l\0%p\0`

const fsEntryFields = 16

// fsProbeScript runs operations given as pairs OP ARG and prints, for each,
// OP's tag then its answer, all NUL-terminated:
//
//	lstat P, stat P   "absent" | "ok" ENTRY   (stat follows symlinks; a dangling one is "dangling" ENTRY)
//	tree P            ENTRY... "." : every entry under P, not following symlinks below P (errors on stderr)
//	maxdepth N        later trees stop N levels below their top ("" for no limit); no answer
//	real P            "ok" RESOLVED | "err"   (readlink -f)
//	dirlinks P        (LINK RESOLVED)... "." : symlinks under P to directories, resolved ("" when it cannot be)
//	missing P         the components of P that do not exist, deepest first, then ""
//	uid NAME, gid NAME  "ok" N | "err"
//	umask -           the octal umask
//	now -             the host's time, seconds since the epoch (fraction kept)
//	glob PATTERN      "1" when a path matches the shell pattern, else "0"
//	magic P           the first 8 bytes of P in hex ("" when unreadable)
//	open P            "ok" when P opens for reading, "denied" (permission), else "absent"
//	md5|sha1|sha224|sha256|sha384|sha512 P   "ok" HEX | "err" (not a regular file)
//	lmd5, lsha1, ...  the same, but "err" for a symlink (not followed)
//	cat P             the file's content, to the end of output: it must come last
//
// GNU find (-printf) is needed. Unknown operations exit 81.
const fsProbeScript = `LC_ALL=C; export LC_ALL
F='` + fsEntryFormat + `' md=
while [ $# -ge 2 ]; do
	op=$1 a=$2; shift 2
	printf '%s\0' "$op"
	case $op in
	lstat|stat)
		if [ ! -e "$a" ] && [ ! -L "$a" ]; then printf 'absent\0'; continue; fi
		o=-P
		if [ "$op" = stat ]; then
			o=-H
			if [ -L "$a" ] && [ ! -e "$a" ]; then printf 'dangling\0'; o=-P; else printf 'ok\0'; fi
		else printf 'ok\0'; fi
		find $o "$a" -maxdepth 0 -printf "$F" || exit 84 ;;
	maxdepth) md=$a ;;
	tree)
		if [ -n "$md" ]; then find -H "$a" -mindepth 1 -maxdepth "$md" -printf "$F"
		else find -H "$a" -mindepth 1 -printf "$F"; fi
		printf '.\0' ;;
	real)
		if r=$(readlink -f -- "$a"); then printf 'ok\0%s\0' "$r"; else printf 'err\0'; fi ;;
	dirlinks)
		find -P "$a" -mindepth 1 -type l -xtype d -exec sh -c 'for l; do printf "%s\0" "$l"; readlink -f -z -- "$l" || printf "\0"; done' sh {} +
		printf '.\0' ;;
	missing)
		d=$a
		while [ -n "$d" ] && [ ! -e "$d" ] && [ ! -L "$d" ]; do printf '%s\0' "$d"; d=${d%/*}; done
		printf '\0' ;;
	uid)
		if r=$(id -u -- "$a" 2>/dev/null); then printf 'ok\0%s\0' "$r"; else printf 'err\0'; fi ;;
	gid)
		if r=$(getent group -- "$a" 2>/dev/null); then r=${r#*:*:}; printf 'ok\0%s\0' "${r%%:*}"; else printf 'err\0'; fi ;;
	umask) printf '%s\0' "$(umask)" ;;
	now) printf '%s\0' "$(date +%s.%N)" ;;
	magic) printf '%s\0' "$(od -An -tx1 -N8 -- "$a" 2>/dev/null | tr -d ' \n')" ;;
	open)
		if e=$( (: < "$a") 2>&1); then printf 'ok\0'
		else case $e in *"ermission denied"*) printf 'denied\0' ;; *) printf 'absent\0' ;; esac; fi ;;
	glob)
		(IFS=; set -- $a; [ -e "$1" ] || [ -L "$1" ]) && printf '1\0' || printf '0\0' ;;
	md5|sha1|sha224|sha256|sha384|sha512|lmd5|lsha1|lsha224|lsha256|lsha384|lsha512)
		alg=${op#l}
		if [ "$alg" != "$op" ] && [ -L "$a" ]; then printf 'err\0'
		elif [ -f "$a" ] && h=$("${alg}sum" < "$a"); then printf 'ok\0%s\0' "${h%% *}"
		else printf 'err\0'; fi ;;
	cat)
		if [ -f "$a" ]; then printf 'ok\0'; exec cat -- "$a"; fi
		printf 'err\0'; exit 0 ;;
	*) exit 81 ;;
	esac
done`

// fsEntry is one path as find -printf saw it (lstat, unless followed).
type fsEntry struct {
	Type                byte   // f d l b c p s (find's %y)
	Mode                uint32 // permission bits, 07777
	UID, GID            int
	User, Group         string // names, or the numbers when the host has none
	Size                int64
	Mtime, Atime, Ctime float64
	Inode               uint64
	Dev                 uint64
	Nlink               int
	Blocks              int64  // 512-byte blocks allocated
	LinkTarget          string // symlink text (%l), "" otherwise
	Path                string
	checksum            string // set by find's get_checksum
}

func parseFSEntry(f []string) (fsEntry, error) {
	if len(f) < fsEntryFields || len(f[0]) != 1 {
		return fsEntry{}, fmt.Errorf("short entry %q", f)
	}
	e := fsEntry{Type: f[0][0], User: f[4], Group: f[5], LinkTarget: f[14], Path: f[15]}
	var errs []error
	num := func(s string, bits int) int64 {
		v, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	flt := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	m, err := strconv.ParseUint(f[1], 8, 32)
	if err != nil {
		errs = append(errs, err)
	}
	e.Mode = uint32(m) & permBits
	e.UID, e.GID = int(num(f[2], 64)), int(num(f[3], 64))
	e.Size = num(f[6], 64)
	e.Mtime, e.Atime, e.Ctime = flt(f[7]), flt(f[8]), flt(f[9])
	e.Inode, e.Dev = uint64(num(f[10], 64)), uint64(num(f[11], 64))
	e.Nlink, e.Blocks = int(num(f[12], 64)), num(f[13], 64)
	if len(errs) > 0 {
		return e, fmt.Errorf("entry %q: %v", f[15], errs[0])
	}
	return e, nil
}

// statData is an entry as Ansible's stat and find register it.
func (e fsEntry) statData() map[string]any {
	b := func(bit uint32) bool { return e.Mode&bit != 0 }
	return map[string]any{
		"exists": true, "path": e.Path,
		"mode":  octalMode(e.Mode),
		"isdir": e.Type == 'd', "isreg": e.Type == 'f', "islnk": e.Type == 'l',
		"ischr": e.Type == 'c', "isblk": e.Type == 'b', "isfifo": e.Type == 'p', "issock": e.Type == 's',
		"uid": e.UID, "gid": e.GID, "pw_name": e.User, "gr_name": e.Group,
		"size": e.Size, "inode": e.Inode, "dev": e.Dev, "nlink": e.Nlink,
		"mtime": e.Mtime, "atime": e.Atime, "ctime": e.Ctime,
		"rusr": b(0o400), "wusr": b(0o200), "xusr": b(0o100),
		"rgrp": b(0o040), "wgrp": b(0o020), "xgrp": b(0o010),
		"roth": b(0o004), "woth": b(0o002), "xoth": b(0o001),
		"isuid": b(0o4000), "isgid": b(0o2000),
	}
}

// fsOp is one operation of the probe.
type fsOp struct{ op, arg string }

// fsAnswer is one operation's answer.
type fsAnswer struct {
	op      string
	status  string    // ok, absent, dangling, err; "" for list answers
	entry   fsEntry   // lstat, stat
	entries []fsEntry // tree
	value   string    // real, uid, gid, umask, now, glob, checksums
	list    []string  // missing; dirlinks as LINK, RESOLVED pairs
	content []byte    // cat
}

// fsProbe runs ops in one remote command and returns their answers in
// order, and what the host said on stderr (a tree it could not read whole).
func fsProbe(ctx context.Context, conn transport.Conn, ops []fsOp) ([]fsAnswer, string, error) {
	res, err := conn.Run(ctx, fsProbeCommand(ops))
	if err != nil {
		return nil, "", err
	}
	if res.Truncated {
		return nil, "", fmt.Errorf("the host's answer is larger than %d bytes", transport.MaxReadFile)
	}
	out, perr := parseFSProbe(res.Stdout, ops)
	if res.ExitCode != 0 || perr != nil {
		msg := strings.TrimSpace(string(res.Stderr))
		if res.ExitCode == 127 || strings.Contains(msg, "printf") {
			msg += " (GNU find is needed)"
		}
		if perr != nil {
			return nil, "", fmt.Errorf("reading the host (exit %d): %v: %s", res.ExitCode, perr, msg)
		}
		return nil, "", fmt.Errorf("reading the host failed (exit %d): %s", res.ExitCode, msg)
	}
	return out, strings.TrimSpace(string(res.Stderr)), nil
}

// fsProbeCommand is the one remote command fsProbe runs for ops.
func fsProbeCommand(ops []fsOp) transport.Command {
	argv := []string{"/bin/sh", "-c", fsProbeScript, "sh"}
	for _, o := range ops {
		argv = append(argv, o.op, o.arg)
	}
	return transport.Command{Argv: argv, MaxOutput: transport.MaxReadFile}
}

// parseFSProbe splits the probe's output into one answer per op.
func parseFSProbe(out []byte, ops []fsOp) ([]fsAnswer, error) {
	var answers []fsAnswer
	next := func() (string, bool) {
		i := bytes.IndexByte(out, 0)
		if i < 0 {
			return "", false
		}
		s := string(out[:i])
		out = out[i+1:]
		return s, true
	}
	fields := func(n int) ([]string, bool) {
		f := make([]string, n)
		for i := range f {
			var ok bool
			if f[i], ok = next(); !ok {
				return nil, false
			}
		}
		return f, true
	}
	for _, o := range ops {
		tag, ok := next()
		if !ok || tag != o.op {
			return nil, fmt.Errorf("answer to %s %q missing", o.op, o.arg)
		}
		a := fsAnswer{op: o.op}
		short := fmt.Errorf("answer to %s %q cut short", o.op, o.arg)
		switch o.op {
		case "lstat", "stat":
			if a.status, ok = next(); !ok {
				return nil, short
			}
			if a.status == "absent" {
				break
			}
			f, ok := fields(fsEntryFields)
			if !ok {
				return nil, short
			}
			e, err := parseFSEntry(f)
			if err != nil {
				return nil, err
			}
			a.entry = e
		case "tree":
			for {
				first, ok := next()
				if !ok {
					return nil, short
				}
				if first == "." {
					break
				}
				f, ok := fields(fsEntryFields - 1)
				if !ok {
					return nil, short
				}
				e, err := parseFSEntry(append([]string{first}, f...))
				if err != nil {
					return nil, err
				}
				a.entries = append(a.entries, e)
			}
		case "dirlinks":
			for {
				l, ok := next()
				if !ok {
					return nil, short
				}
				if l == "." {
					break
				}
				r, ok := next()
				if !ok {
					return nil, short
				}
				a.list = append(a.list, l, r)
			}
		case "missing":
			for {
				d, ok := next()
				if !ok {
					return nil, short
				}
				if d == "" {
					break
				}
				a.list = append(a.list, d)
			}
		case "real", "uid", "gid", "md5", "sha1", "sha224", "sha256", "sha384", "sha512",
			"lmd5", "lsha1", "lsha224", "lsha256", "lsha384", "lsha512":
			if a.status, ok = next(); !ok {
				return nil, short
			}
			if a.status == "ok" {
				if a.value, ok = next(); !ok {
					return nil, short
				}
			}
		case "umask", "now", "glob", "magic":
			if a.value, ok = next(); !ok {
				return nil, short
			}
		case "maxdepth":
		case "open":
			if a.status, ok = next(); !ok {
				return nil, short
			}
		case "cat":
			if a.status, ok = next(); !ok {
				return nil, short
			}
			a.content, out = out, nil
		default:
			return nil, fmt.Errorf("unknown probe operation %q", o.op)
		}
		answers = append(answers, a)
	}
	return answers, nil
}

// parseUmask reads umask's octal output.
func parseUmask(s string) uint32 {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 8, 32)
	if err != nil {
		return 0o022
	}
	return uint32(v) & 0o777
}
