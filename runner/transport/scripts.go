package transport

// The file operations are these constant scripts, run as
//
//	/bin/sh -c SCRIPT sh ARG...
//
// Values only ever arrive as positional parameters ("$1"...) or on stdin;
// nothing is interpolated into the script text. Run carries the positional
// parameters on the command's stdin, never in the host's argv (scriptargs.go). Each step that can fail
// exits with its own code (80-99, clear of the usual 1, 2, 126, 127 and
// 128+n) so the Go side can say which step failed.

// readScript prints the file $1.
const readScript = `LC_ALL=C; export LC_ALL
[ -e "$1" ] || exit 83
[ -d "$1" ] && exit 82
exec cat -- "$1"`

// statScript prints: symlink flag, then "rawmode uid gid size" of the
// target (or "-" for a dangling link), then the resolved target path.
const statScript = `LC_ALL=C; export LC_ALL
p=$1
if [ -L "$p" ]; then l=1; else l=0; fi
if [ ! -e "$p" ]; then
	[ "$l" = 1 ] || exit 83
	t=$(readlink -f -- "$p") || t=
	printf '1\n-\n%s' "$t"
	exit 0
fi
t=$(readlink -f -- "$p") || exit 80
s=$(stat -L -c '%f %u %g %s' -- "$p") || exit 84
printf '%s\n%s\n%s' "$l" "$s" "$t"`

// writeScript replaces the (symlink-resolved) file $1 with new content:
// $6 empty: stdin; $6 "arg": $7 (the shared shell's positional parameter,
// written by the printf builtin: no cat). $2 expected sha256 or "absent" or
// empty; $3 backup 1/0; $4 octal mode for a new file; $5 backup timestamp,
// also the temp file's unique part; $8... a validate command, run on the
// temp file before it replaces the target (each "%s" in its words becomes
// the temp file's path). Prints: in-place flag, target, backup path. On any
// failure the temp file (and an unneeded backup) is removed and the
// original is left as it was.
//
// Every program it runs costs the host an exec, so builtins do what they
// can: readlink only for a symlink or a path that is not plain absolute;
// the temp file created with O_EXCL by the shell's noclobber `>` (never
// through a planted symlink), a new file's mode from the umask when it has
// no x bit; the old file's mode and owner copied onto the temp file by one
// `cp --attributes-only` (its data untouched, its times new); a
// bind-mounted target found by the rename's EBUSY. What stays: sha256sum
// (stale check), cp -p (the backup: a copy of its own, never a link that
// an in-place edit elsewhere could change), cp --attributes-only, sync of
// the temp file, mv, sync of the directory.
const writeScript = `LC_ALL=C; export LC_ALL
p=$1 want=$2 backup=$3 mode=$4 stamp=$5 inline=$6
tmp= b= keep=0
cleanup() {
	if [ -n "$tmp" ]; then rm -f -- "$tmp"; fi
	if [ "$keep" = 0 ] && [ -n "$b" ]; then rm -f -- "$b"; fi
}
trap cleanup EXIT
trap 'exit 99' HUP INT TERM PIPE
case $p in
/*/../* | /*/./* | *//* | */ | */. | */.. | /../* | /./*) t= ;;
/*) if [ -L "$p" ]; then t=; else t=$p; fi ;;
*) t= ;;
esac
if [ -z "$t" ]; then t=$(readlink -f -- "$p") && [ -n "$t" ] || exit 80; fi
d=${t%/*} n=${t##*/} # an absolute path
[ -n "$d" ] || d=/
[ -d "$d" ] || exit 81
e=0
if [ -e "$t" ]; then
	[ -f "$t" ] || exit 82
	e=1
fi
if [ -n "$want" ]; then
	h=absent
	if [ "$e" = 1 ]; then
		h=$(sha256sum < "$t") || exit 85
		h=${h%% *}
	fi
	if [ "$h" != "$want" ]; then printf '%s' "$h"; exit 86; fi
fi
if [ "$e" = 1 ] && [ "$backup" = 1 ]; then
	b=$t.tend-backup.$stamp
	i=0
	while [ -e "$b" ] || [ -L "$b" ]; do i=$((i+1)); b=$t.tend-backup.$stamp.$i; done
	cp -p -- "$t" "$b" || exit 87
fi
um=077
if [ "$e" = 0 ]; then
	case $mode in *[1357]*) ;; *) um=$(printf '%o' $((0777 & ~0$mode))) ;; esac
fi
x=$d/.$n.tend-tmp.$stamp
i=0
while [ -e "$x" ] || [ -L "$x" ]; do i=$((i+1)); x=$d/.$n.tend-tmp.$stamp.$i; done
(umask "$um"; set -C; : > "$x") 2>/dev/null || exit 88
tmp=$x
if [ "$inline" = arg ]; then
	printf '%s' "$7" > "$tmp" || exit 89
else
	cat > "$tmp" || exit 89
fi
if [ "$e" = 1 ]; then
	cp --attributes-only --preserve=mode,ownership -- "$t" "$tmp" || exit 90
else
	case $mode in *[1357]*) chmod "$mode" -- "$tmp" || exit 90 ;; esac
fi
sync -- "$tmp" 2>/dev/null || sync || exit 92
if [ $# -gt 7 ]; then
	shift 7
	n=$#
	while [ "$n" -gt 0 ]; do
		a=$1 r=
		shift
		while :; do
			case $a in
			*%s*) r=$r${a%%"%s"*}$tmp a=${a#*"%s"} ;;
			*) r=$r$a; break ;;
			esac
		done
		set -- "$@" "$r"
		n=$((n-1))
	done
	"$@" </dev/null >&2
	rc=$?
	if [ "$rc" != 0 ]; then echo "rc:$rc" >&2; exit 95; fi
fi
inplace=0
if ! err=$(mv -f -- "$tmp" "$t" 2>&1); then
	case $err in
	*[Bb]usy*) inplace=1 ;;
	*) printf '%s\n' "$err" >&2; exit 93 ;;
	esac
else
	tmp=
fi
if [ "$inplace" = 1 ]; then
	# A bind-mounted file (ip netns exec) cannot be renamed over: rewrite
	# the same inode. From here on the backup is kept whatever happens.
	keep=1
	if ! cat -- "$tmp" > "$t"; then
		if [ -n "$b" ] && cat -- "$b" > "$t"; then echo "restored from $b" >&2; fi
		exit 94
	fi
	sync -- "$t" 2>/dev/null || sync
fi
keep=1
sync -- "$d" 2>/dev/null || sync
printf '%s\n%s\n%s' "$inplace" "$t" "$b"`

// scriptSteps names the step behind each exit code of the scripts.
var scriptSteps = map[int]string{
	80: "resolving the path (readlink -f)",
	81: "parent directory does not exist",
	82: "not a regular file",
	83: "no such file",
	84: "stat",
	85: "hashing the current content (sha256sum)",
	87: "backing up the current file (cp -p)",
	88: "creating the temp file",
	89: "writing the new content to the temp file",
	90: "setting the mode and owner (cp --attributes-only, chmod)",
	92: "syncing the temp file",
	93: "renaming the temp file over the target (mv)",
	94: "rewriting the bind-mounted target in place",
	95: "validating the new content (validate)",
	99: "interrupted",
}
