package modules

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// This file is the remote side of the boot-time report: which files the
// boot-time reader of sysctl settings will apply, read in the same command
// as Check's file and probe (sysctlCheckScript), parsed here.

// sysctlBootLayout is where the boot-time readers look. Check uses
// defaultSysctlBoot; tests point it at a temporary tree.
type sysctlBootLayout struct {
	// dirs are the sysctl.d directories, highest precedence first: a file
	// name in an earlier one masks the same name in the later ones.
	dirs []string
	// conf is the file procps's `sysctl --system` applies after the
	// directories (systemd-sysctl reads it only through a link in a dir).
	conf string
	// systemd are paths of which any existing means systemd-sysctl
	// applies the files at boot (systemd runs, or its sysctl tool is
	// installed); else procps's `sysctl --system` order is reported.
	systemd []string
}

// defaultSysctlBoot is systemd-sysctl's and procps's search path
// (systemd's CONF_PATHS("sysctl.d"), /lib only on split-usr systems;
// procps 4's PreloadSystem): /etc, /run, /usr/local/lib, /usr/lib, /lib.
var defaultSysctlBoot = sysctlBootLayout{
	dirs:    []string{"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"},
	conf:    "/etc/sysctl.conf",
	systemd: []string{"/run/systemd/system", "/usr/lib/systemd/systemd-sysctl", "/lib/systemd/systemd-sysctl"},
}

// args are the boot function's arguments: CONF NMARKS MARK... DIR...
func (l sysctlBootLayout) args() []string {
	a := append([]string{l.conf, strconv.Itoa(len(l.systemd))}, l.systemd...)
	return append(a, l.dirs...)
}

// sysctlBootLib defines boot, run by sysctlCheckScript after the probe.
//
// boot reads its arguments from _nb variables _b1.._bN (CONF NMARKS MARK...
// DIR...) and the module's file from $f. It prints "boot\0" and systemd or
// procps, then per *.conf entry of each DIR (in glob order) and for CONF a
// record "d\0PATH\0FLAGS\0" ("c" for CONF) where FLAGS holds r (a regular
// file, or a link to one), s (not empty), o (the module's file: the same
// inode, or, while the file does not exist yet, a dangling link to its
// path), g (its lines are in the grep output below), x (its content
// follows as one more field: a path holding ':' that grep's "PATH:LINE"
// cannot frame) or u (cat could not read such a file). The module's own file is neither grepped nor read: Check
// has its bytes. Last comes "g\0" and one `grep -H` over all the g files,
// NUL bytes dropped (a line ends at a NUL for sysctl anyway), then "\0".
// Only builtins run, besides that grep, a cat per x file and a readlink
// per dangling link while the module's file is missing.
const sysctlBootLib = `boot() {
	set --
	_j=0
	while [ "$_j" -lt "$_nb" ]; do _j=$((_j+1)); eval "set -- \"\$@\" \"\$_b$_j\""; done
	_c=$1 _j=$2; shift 2
	_r=procps
	while [ "$_j" -gt 0 ]; do
		if [ -e "$1" ]; then _r=systemd; fi
		shift; _j=$((_j-1))
	done
	printf 'boot\0%s\0' "$_r"
	_gn=0 _ft=
	for _d; do
		for _p in "$_d"/*.conf; do bootfile d; done
	done
	_p=$_c; bootfile c
	set --
	_j=0
	while [ "$_j" -lt "$_gn" ]; do _j=$((_j+1)); eval "set -- \"\$@\" \"\$_g$_j\""; done
	_G=
	if [ "$#" -gt 0 ]; then _G=$(grep -aH -e '' -- "$@" 2>/dev/null); fi
	printf 'g\0%s\0' "$_G"
}
bootfile() {
	if [ ! -e "$_p" ] && [ ! -L "$_p" ]; then return 0; fi
	_x=
	if [ -f "$_p" ]; then _x=r; if [ -s "$_p" ]; then _x=rs; fi; fi
	if [ "$_p" -ef "$f" ]; then _x=${_x}o
	elif [ ! -e "$f" ] && [ ! -e "$_p" ]; then
		if [ -z "$_ft" ]; then _ft=$(readlink -f -- "$f" 2>/dev/null) || _ft=; _ft=${_ft:-/}; fi
		if [ "$_ft" != / ] && [ "$(readlink -f -- "$_p" 2>/dev/null)" = "$_ft" ]; then _x=${_x}o; fi
	fi
	case $_x in
	rs) case $_p in
		*:*) if _v=$(cat -- "$_p" 2>/dev/null); then _x=rsx; else _x=rsu; fi;;
		*) _x=rsg; _gn=$((_gn+1)); eval "_g$_gn=\$_p";;
		esac;;
	esac
	printf '%s\0%s\0%s\0' "$1" "$_p" "$_x"
	case $_x in *x) printf '%s\0' "$_v";; esac
}
`

// sysctlBootListing is what boot found.
type sysctlBootListing struct {
	systemd bool
	files   []sysctlBootFile // in listing order; CONF last
}

// sysctlBootFile is one file a boot-time reader may apply.
type sysctlBootFile struct {
	path       string
	conf       bool // procps's last file (/etc/sysctl.conf), not a sysctl.d entry
	regular    bool // a regular file or a link to one: else it only masks its name
	ours       bool // the module's file (its planned content is used)
	content    []byte
	unreadable bool // not empty, yet nothing could be read
}

// sysctlParseBoot parses boot's output at the start of out and returns the
// listing and the rest of out.
func sysctlParseBoot(out string) (*sysctlBootListing, string, error) {
	bad := func(what string) (*sysctlBootListing, string, error) {
		return nil, "", fmt.Errorf("sysctl: reading the boot-time files: unexpected output (%s)", what)
	}
	next := func() (string, bool) {
		i := strings.IndexByte(out, 0)
		if i < 0 {
			return "", false
		}
		tok := out[:i]
		out = out[i+1:]
		return tok, true
	}
	if tok, ok := next(); !ok || tok != "boot" {
		return bad("no boot record")
	}
	reader, ok := next()
	if !ok || (reader != "systemd" && reader != "procps") {
		return bad("reader")
	}
	l := &sysctlBootListing{systemd: reader == "systemd"}
	var grepped []int
	for {
		kind, ok := next()
		if !ok {
			return bad("truncated")
		}
		if kind == "g" {
			break
		}
		p, ok1 := next()
		flags, ok2 := next()
		if (kind != "d" && kind != "c") || !ok1 || !ok2 {
			return bad("record " + strconv.Quote(kind))
		}
		f := sysctlBootFile{path: p, conf: kind == "c", regular: strings.Contains(flags, "r"), ours: strings.Contains(flags, "o")}
		switch {
		case strings.Contains(flags, "x"):
			v, ok := next()
			if !ok {
				return bad("content of " + p)
			}
			f.content = sysctlBootContent(nil, v)
		case strings.Contains(flags, "u"):
			f.unreadable = true
		case strings.Contains(flags, "g"):
			grepped = append(grepped, len(l.files))
		}
		l.files = append(l.files, f)
	}
	blob, ok := next()
	if !ok {
		return bad("grep output")
	}
	// grep prints "PATH:LINE" per line of each file, files in the order
	// given; no grepped PATH holds ':', so a line is its file's exactly
	// when it starts with "PATH:".
	for _, i := range grepped {
		prefix := l.files[i].path + ":"
		var lines []string
		for strings.HasPrefix(blob, prefix) {
			blob = blob[len(prefix):]
			line, rest, _ := strings.Cut(blob, "\n")
			lines, blob = append(lines, line), rest
		}
		l.files[i].content = sysctlBootContent(lines, "")
		l.files[i].unreadable = len(lines) == 0
	}
	return l, out, nil
}

// sysctlBootContent rebuilds a file's text from its lines, or from text
// (trailing newlines dropped by the shell).
func sysctlBootContent(lines []string, text string) []byte {
	if lines == nil && text != "" {
		return []byte(text + "\n")
	}
	if len(lines) == 0 {
		return nil
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

// dirIndex is the position of p's directory in the layout, -1 for none.
func (l sysctlBootLayout) dirIndex(p string) int {
	for i, d := range l.dirs {
		if path.Dir(p) == path.Clean(d) {
			return i
		}
	}
	return -1
}
