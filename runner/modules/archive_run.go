package modules

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"tend/runner/transport"
)

// archiveGlobScript expands each pattern given ($@) as the module's glob
// does (paths that exist, a dangling symlink too; hidden names only for a
// pattern that starts with a dot; sorted), printing the matches
// NUL-terminated and an empty field after each pattern's.
const archiveGlobScript = `LC_ALL=C; export LC_ALL
for a; do
	(IFS=; set +f; for f in $a; do if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi; done)
	printf '\0'
done`

// archivePyZip writes a zip of root+NAME for each NUL-terminated NAME on
// stdin (sys.argv[1] is root, [2] the zip), deflated, as the module's
// zipfile does (symlinks followed, a directory as NAME/).
const archivePyZip = `import os, sys, zipfile
root, out = os.fsencode(sys.argv[1]), sys.argv[2]
names = sys.stdin.buffer.read().split(b'\0')[:-1]
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED, True) as z:
    for n in names:
        z.write(root + n, os.fsdecode(n))`

// archivePySig prints a zip's members as the module compares them, one
// "NAME CRC" a line, sorted (nothing for what is not a zip). With a
// second argument it prints what a zip of the NUL-terminated names on
// stdin under that root would hold, reading the files, writing nothing.
const archivePySig = `import os, sys, zipfile, zlib
if len(sys.argv) > 2:
    root, s = os.fsencode(sys.argv[2]), []
    for n in sys.stdin.buffer.read().split(b'\0')[:-1]:
        p, a = root + n, os.fsdecode(n)
        if os.path.isdir(p):
            s.append('%s/ 0' % a)
            continue
        c = 0
        with open(p, 'rb') as f:
            for b in iter(lambda: f.read(1 << 20), b''):
                c = zlib.crc32(b, c)
        s.append('%s %d' % (a, c))
else:
    try:
        with zipfile.ZipFile(sys.argv[1]) as z:
            s = ['%s %d' % (i.filename, i.CRC) for i in z.infolist()]
    except zipfile.BadZipFile:
        s = []
print('\n'.join(sorted(s)))`

// archiveScript compares (act "check") or writes (act "apply") the
// archive. $2 format, $3 kind (compress: one file; tar; zip), $4 dest,
// $5 root, $6 the octal mode of a rewritten dest, $7 UID:GID for it (""
// keeps the writer's), $8 "1" to remove the sources after, $9 and $10
// the python of archivePySig and archivePyZip; then pairs
// FLAG PATH: "a" a member registered as archived (removed with remove),
// "m" a member that is not (a zip's directory), "p" a source path
// removed whole when it is a directory, "s" the one file compressed.
// Prints NUL-terminated fields: "ok", or "fail" and a message; "same" or
// "differ"; for apply, the paths that could not be removed, then "." and
// dest's entry (fsEntryFormat).
//
// The new archive is written to a temporary file in dest's directory,
// given its mode and owner, and renamed over dest only when its members
// differ from the old one's; a failure leaves dest as it was, removes
// the temporary file and deletes nothing.
const archiveScript = `LC_ALL=C; export LC_ALL
act=$1 fmt=$2 kind=$3 dest=$4 root=$5 mode=$6 own=$7 rm=$8 pysig=$9 pyzip=${10} tmp=
shift 10
link=$dest
if [ -L "$dest" ]; then dest=$(readlink -f -- "$dest") || dest=$link; fi # written through a symlink, as the module's open()
trap '[ -z "$tmp" ] || rm -f -- "$tmp"' EXIT
trap 'exit 99' HUP INT TERM PIPE
fail() { printf 'fail\0%s\0' "$1"; exit 0; }
case $fmt in gz) z=-z c=gzip ;; bz2) z=-j c=bzip2 ;; xz) z=-J c=xz ;; *) z= c= ;; esac
if [ "$kind" = zip ]; then command -v python3 >/dev/null 2>&1 || fail "tend's archive writes a zip with python3 (zipfile): python3 is not in PATH"
elif [ -n "$c" ]; then command -v "$c" >/dev/null 2>&1 || fail "tend's archive compresses with $c: it is not in PATH"; fi
members() { while [ $# -ge 2 ]; do case $1 in a|m) printf '%s\0' "${2#"$root"}" ;; esac; shift 2; done; }
src= prev=
for x; do [ "$prev" = s ] && src=$x; prev=$x; done
# sigof F: the members of archive F as the module compares them (a tar
# listing nothing is no tar, as for tarfile).
sigof() {
	if [ "$kind" = zip ]; then python3 -c "$pysig" "$1"; return; fi
	if l=$(tar $z -tv --full-time --numeric-owner -f "$1" 2>/dev/null) && [ -n "$l" ]; then printf 'tar\n%s\n' "$l" | sort; return; fi
	[ -n "$c" ] || return 3
	if "$c" -t -- "$1" 2>/dev/null; then printf 'crc '; "$c" -dc -- "$1" | cksum; else printf 'none\n'; fi
}
# signew: the same of the archive the sources make, read-only.
signew() {
	case $kind in
	zip) members "$@" | python3 -c "$pysig" - "$root" ;;
	compress) if l=$(tar -tv --full-time --numeric-owner -f - < "$src" 2>/dev/null) && [ -n "$l" ]; then printf 'tar\n%s\n' "$l" | sort
		else printf 'crc '; cksum < "$src"; fi ;;
	*) l=$(members "$@" | tar --null --verbatim-files-from --no-recursion -C "$root" -T - -cf - 2>/dev/null | tar -tv --full-time --numeric-owner -f -) &&
		printf 'tar\n%s\n' "$l" | sort ;;
	esac
}
old=absent
if [ -e "$dest" ]; then
	if [ -r "$dest" ]; then
		old=$(sigof "$dest") || fail "$fmt is not a valid format"
		old=$(printf '%s' "$old" | cksum)
	else old=size:$(stat -L -c %s -- "$dest"); fi
fi
if [ "$act" = check ]; then
	case $old in absent|size:*) printf 'ok\0differ\0'; exit 0 ;; esac
	new=$(signew "$@") || fail "reading the sources failed"
	new=$(printf '%s' "$new" | cksum)
	if [ "$old" = "$new" ]; then printf 'ok\0same\0'; else printf 'ok\0differ\0'; fi
	exit 0
fi
d=${dest%/*}
tmp=$(mktemp -- "${d:-/}/.tend-archive.XXXXXX") || fail "Unable to write to $dest: cannot create a temporary file in ${d:-/}"
case $kind in
compress) e=$("$c" -c -- "$src" 2>&1 > "$tmp") ;;
zip) e=$(members "$@" | python3 -c "$pyzip" "$root" "$tmp" 2>&1) ;;
*) e=$(members "$@" | tar --null --verbatim-files-from --no-recursion -C "$root" -T - $z -cf "$tmp" 2>&1) ;;
esac || fail "Error when writing $dest: $e"
chmod -- "$mode" "$tmp" || fail "chmod $mode failed"
[ -z "$own" ] || chown -- "$own" "$tmp" || fail "chown $own failed"
case $old in
absent) same= ;;
size:*) [ "$old" = "size:$(stat -c %s -- "$tmp")" ] && same=1 || same= ;;
*) new=$(sigof "$tmp") || fail "$fmt is not a valid format"
	[ "$old" = "$(printf '%s' "$new" | cksum)" ] && same=1 || same= ;;
esac
if [ -n "$same" ]; then
	rm -f -- "$tmp"; tmp=
	chmod -- "$mode" "$dest" || fail "chmod $mode $dest failed"
	[ -z "$own" ] || chown -- "$own" "$dest" || fail "chown $own $dest failed"
	printf 'ok\0same\0'
else
	mv -Tf -- "$tmp" "$dest" || fail "Unable to write to $dest"
	tmp=
	printf 'ok\0differ\0'
fi
if [ "$rm" = 1 ]; then
	for pass in a p; do
		set -- "$@"
		i=0 n=$#
		while [ "$i" -lt "$n" ]; do
			f=$1 x=$2; shift 2; set -- "$@" "$f" "$x"; i=$((i + 2))
			case $pass$f in
			aa) [ -e "$x" ] || continue
				if [ -d "$x" ]; then [ ! -L "$x" ] && rm -rf -- "$x" || printf '%s\0' "$x"
				else rm -f -- "$x" || printf '%s\0' "$x"; fi ;;
			pp) if [ -d "$x" ]; then [ ! -L "$x" ] && rm -rf -- "$x" || printf '%s\0' "$x"; fi ;;
			as) rm -f -- "$x" 2>/dev/null || printf '%s\0' "$x" ;;
			esac
		done
	done
fi
printf '.\0'
find "$link" -maxdepth 0 -printf '` + fsEntryFormat + `'`

// archiveRun is what archiveScript said.
type archiveRun struct {
	fail      string
	same      bool
	notRemove []string
	dest      fsEntry
}

// archiveArg is one FLAG PATH pair of archiveScript.
type archiveArg struct{ flag, path string }

// runArchive runs archiveScript.
func runArchive(ctx context.Context, conn transport.Conn, act, format, kind, dest, root, mode, own string, remove bool, pairs []archiveArg) (archiveRun, error) {
	rm := "0"
	if remove {
		rm = "1"
	}
	argv := []string{"/bin/sh", "-c", archiveScript, "sh", act, format, kind, dest, root, mode, own, rm, archivePySig, archivePyZip}
	for _, p := range pairs {
		argv = append(argv, p.flag, p.path)
	}
	res, err := conn.Run(ctx, transport.Command{Argv: argv, MaxOutput: transport.MaxReadFile})
	if err != nil {
		return archiveRun{}, err
	}
	f := strings.Split(string(res.Stdout), "\x00")
	if res.ExitCode != 0 || len(f) < 2 {
		return archiveRun{}, fmt.Errorf("archive script exited %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	if f[0] == "fail" {
		return archiveRun{fail: f[1]}, nil
	}
	r := archiveRun{same: f[1] == "same"}
	if act != "apply" {
		return r, nil
	}
	i := 2
	for ; i < len(f) && f[i] != "."; i++ {
		r.notRemove = append(r.notRemove, f[i])
	}
	if i+fsEntryFields >= len(f) {
		return r, fmt.Errorf("archive script: dest's entry missing: %s", strings.TrimSpace(string(res.Stderr)))
	}
	if r.dest, err = parseFSEntry(f[i+1 : i+1+fsEntryFields]); err != nil {
		return r, fmt.Errorf("archive script: %w", err)
	}
	return r, nil
}

// expandGlobs expands the patterns on the host, in one command.
func expandGlobs(ctx context.Context, conn transport.Conn, patterns []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(patterns) == 0 {
		return out, nil
	}
	argv := append([]string{"/bin/sh", "-c", archiveGlobScript, "sh"}, patterns...)
	res, err := conn.Run(ctx, transport.Command{Argv: argv, MaxOutput: transport.MaxReadFile})
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 || res.Truncated {
		return nil, fmt.Errorf("expanding %s: exit %d: %s", strings.Join(patterns, ", "), res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	fields := bytes.Split(res.Stdout, []byte{0})
	i := 0
	for _, p := range patterns {
		var got []string
		for ; i < len(fields) && len(fields[i]) > 0; i++ {
			got = append(got, string(fields[i]))
		}
		i++
		out[p] = got
	}
	return out, nil
}
