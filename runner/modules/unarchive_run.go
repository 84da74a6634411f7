package modules

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"tend/runner/transport"
)

// unarchiveScript compares (act "check") or compares and extracts (act
// "apply") an archive on the host. $2 is the archive's path, or "" when it
// arrives on stdin (written to a private temporary directory when it must
// be read more than once, or unzipped; a tar check reads stdin itself).
// $3, $4, $5 are the listing, comparison and extraction commands, every
// value in them single-quoted by tend, "$A" standing for the archive and
// "$T" for the temporary directory; $6 is "zip" when the comparison needs
// the archive unzipped into "$T/x" first ($7 the unzip command). $8 and $9
// are the ERE patterns of the comparison's lines that count as a change
// (always; and only when running as root). Prints NUL-terminated fields:
// uid, list exit, list output, comparison output, its exit (2: tar could
// not read the archive), counted lines, extract exit ("-" when not run),
// extract output. A missing program prints
// "missing" and its name instead.
const unarchiveScript = `LC_ALL=C LANG=C LANGUAGE=C; export LC_ALL LANG LANGUAGE
act=$1 A=$2 list=$3 diff=$4 extract=$5 zip=$6 unzip=$7 pat=$8 rootpat=$9 T=
trap '[ -z "$T" ] || rm -rf -- "$T"' EXIT
trap 'exit 99' HUP INT TERM PIPE
if [ "$zip" = zip ]; then
	command -v unzip >/dev/null 2>&1 || { printf 'missing\0unzip\0'; exit 0; }
fi
tar --version 2>/dev/null | head -n 1 | grep -q GNU || { printf 'missing\0GNU tar\0'; exit 0; }
if [ -z "$A" ]; then
	if [ "$act" = check ] && [ "$zip" != zip ]; then A=-
	else
		T=$(mktemp -d "${TMPDIR:-/tmp}/.tend-unarchive.XXXXXX") || exit 88
		A=$T/archive
		cat > "$A" || exit 89
	fi
fi
u=$(id -u)
printf '%s\0' "$u"
if [ -n "$list" ]; then
	o=$(eval "$list" 2>&1); printf '%s\0%s\0' "$?" "$o"
else
	printf '%s\0\0' -
fi
if [ "$zip" = zip ]; then
	[ -n "$T" ] || T=$(mktemp -d "${TMPDIR:-/tmp}/.tend-unarchive.XXXXXX") || exit 88
	mkdir -- "$T/x" || exit 88
	o=$(eval "$unzip" 2>&1); r=$?
	if [ "$r" -gt 1 ] && [ "$r" != 11 ]; then # unzip cannot read it (1: a warning; 11: an include matched nothing)
		printf '%s\0%s\0%s\0%s\0\0' "$o" 2 0 -
		exit 0
	fi
fi
d=$(eval "$diff" 2>&1)
printf '%s\0%s\0' "$d" "$?"
n=$(printf '%s\n' "$d" | grep -v -E ': : Warning: Cannot stat: No such file or directory$' | grep -c -E -e "$pat")
if [ "$u" = 0 ] && [ -n "$rootpat" ]; then
	n=$((n + $(printf '%s\n' "$d" | grep -c -E -e "$rootpat")))
fi
printf '%s\0' "$n"
if [ "$act" = apply ] && [ "$n" -gt 0 ]; then
	o=$(eval "$extract" 2>&1); printf '%s\0%s\0' "$?" "$o"
else
	printf '%s\0\0' -
fi`

// unarchiveCmds are the commands the script runs, as shell text with
// every value quoted.
type unarchiveCmds struct {
	list, diff, extract, unzip string
	pat, rootpat               string
}

// q quotes one value for the script's eval.
func q(s string) string { return transport.ShellQuote(s) }

// commands builds the listing, comparison and extraction commands for an
// archive of kind, with Ansible's arguments (TgzArchive and ZipArchive).
func (m *unarchiveModule) commands(kind string, list bool) unarchiveCmds {
	var c unarchiveCmds
	quoteAll := func(v []string) string {
		if len(v) == 0 {
			return ""
		}
		return " " + transport.ShellJoin(v)
	}
	if kind == "zip" {
		var sel string
		if len(m.exclude) > 0 {
			sel += " -x" + quoteAll(m.exclude)
		}
		sel += quoteAll(m.include)
		if list {
			c.list = `unzip -Z1 "$A"`
		}
		c.unzip = `unzip -q -o` + quoteAll(m.extraOpts) + ` "$A"` + sel + ` -d "$T/x"`
		// The unzipped tree, as a tar stream with the owner, group and
		// mode asked, compared with dest: every difference counts, as
		// Ansible's ZipArchive compares type, size, mtime, CRC, mode and
		// owner of each file.
		var as []string
		if m.attrs.owner != "" {
			as = append(as, "--owner="+m.attrs.owner)
		}
		if m.attrs.group != "" {
			as = append(as, "--group="+m.attrs.group)
		}
		if m.attrs.mode != nil {
			as = append(as, "--mode="+m.attrs.mode.String())
		}
		c.diff = `cd "$T/x" && find . -mindepth 1 -print0 | tar --null --no-recursion -T -` + quoteAll(as) + ` -cf - | tar --diff -C ` + q(m.dest) + ` -f -`
		c.extract = `unzip -o` + quoteAll(m.extraOpts) + ` "$A"` + sel + ` -d ` + q(m.dest)
		c.pat = `: (.* differs?|Warning: Cannot stat: No such file or directory)$`
		return c
	}
	opts := []string{"-C", m.dest}
	if f := tarFlags[kind]; f != "" {
		opts = append(opts, f)
	}
	if len(m.extraOpts) > 0 {
		opts = append(append(opts, "--show-transformed-names"), m.extraOpts...)
	}
	var excl []string
	for _, e := range m.exclude {
		excl = append(excl, "--exclude="+strings.TrimSuffix(e, "/"))
	}
	tail := ` -f "$A"` + quoteAll(m.include)
	if list {
		c.list = `tar --list` + quoteAll(opts) + quoteAll(excl) + tail
	}
	var more []string
	if m.attrs.owner != "" {
		more = append(more, "--owner="+m.attrs.owner)
	}
	if m.attrs.group != "" {
		more = append(more, "--group="+m.attrs.group)
	}
	if m.keepNewer {
		more = append(more, "--keep-newer-files")
	}
	more = append(more, excl...)
	c.diff = `tar --diff` + quoteAll(opts) + quoteAll(more) + tail
	c.extract = `tar --extract` + quoteAll(opts) + quoteAll(more) + tail
	// The lines Ansible's TgzArchive counts: a changed mtime, a missing
	// file, an owner or group tar cannot resolve; a mode unless mode is
	// given (then set afterwards); uid and gid only as root and unless
	// owner / group are given. Contents and sizes alone do not count.
	alts := []string{"Mod time differs", "Warning: Cannot stat: No such file or directory", "Invalid owner", "Invalid group"}
	if m.attrs.mode == nil {
		alts = append(alts, "Mode differs")
	}
	c.pat = ": (" + strings.Join(alts, "|") + ")$"
	var root []string
	if m.attrs.owner == "" {
		root = append(root, "Uid differs")
	}
	if m.attrs.group == "" {
		root = append(root, "Gid differs")
	}
	if len(root) > 0 {
		c.rootpat = ": (" + strings.Join(root, "|") + ")$"
	}
	return c
}

// unarchiveRun is what the script printed.
type unarchiveRun struct {
	missing  string // a program the host lacks
	uid      int
	listRC   string // "-" when not listed
	listOut  string
	diff     string
	diffRC   string // "2": the comparison could not read the archive
	counted  int
	extRC    string // "-" when nothing was extracted
	extOut   string
	cmdsUsed unarchiveCmds
}

// runUnarchive runs the script for act over the archive: the host's src
// (remote), else the controller file streamed on stdin.
func (m *unarchiveModule) runUnarchive(ctx context.Context, conn transport.Conn, act, kind string, list bool) (*unarchiveRun, error) {
	c := m.commands(kind, list)
	zip := ""
	if kind == "zip" {
		zip = "zip"
	}
	src := m.src
	cmd := transport.Command{OwnSession: true, MaxOutput: transport.MaxReadFile}
	if !m.remote {
		f, err := os.Open(m.src)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		src, cmd.Input = "", f
	}
	cmd.Argv = []string{"/bin/sh", "-c", unarchiveScript, "sh", act, src, c.list, c.diff, c.extract, zip, c.unzip, c.pat, c.rootpat}
	res, err := conn.Run(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("the unarchive script failed (exit %d): %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	out, err := parseUnarchiveRun(res.Stdout)
	if err != nil {
		return nil, err
	}
	out.cmdsUsed = c
	return out, nil
}

// parseUnarchiveRun reads the script's NUL-terminated fields.
func parseUnarchiveRun(b []byte) (*unarchiveRun, error) {
	f := strings.Split(string(bytes.TrimSuffix(b, []byte{0})), "\x00")
	if len(f) == 2 && f[0] == "missing" {
		return &unarchiveRun{missing: f[1]}, nil
	}
	if len(f) != 8 {
		return nil, fmt.Errorf("the unarchive script's answer has %d fields, want 8: %q", len(f), b)
	}
	r := &unarchiveRun{listRC: f[1], listOut: f[2], diff: f[3], diffRC: f[4], extRC: f[6], extOut: f[7]}
	var err1, err2 error
	r.uid, err1 = strconv.Atoi(f[0])
	r.counted, err2 = strconv.Atoi(strings.TrimSpace(f[5]))
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("the unarchive script's answer is malformed: %q", b)
	}
	return r, nil
}

// countedLines are the comparison's lines that count as a change, for
// the report (the script counted them the same way).
func (r *unarchiveRun) countedLines() []string {
	pat := regexp.MustCompile(r.cmdsUsed.pat)
	var root *regexp.Regexp
	if r.cmdsUsed.rootpat != "" && r.uid == 0 {
		root = regexp.MustCompile(r.cmdsUsed.rootpat)
	}
	var out []string
	for _, l := range strings.Split(r.diff, "\n") {
		counts := pat.MatchString(l) && !strings.HasSuffix(l, ": : Warning: Cannot stat: No such file or directory")
		if counts || root != nil && root.MatchString(l) {
			out = append(out, strings.TrimPrefix(l, "tar: "))
		}
	}
	return out
}

// archiveNames splits a listing into names, undoing tar's escapes
// (\\, \n, \t, \NNN octal) as Ansible's codecs.escape_decode does.
func archiveNames(out string) []string {
	var names []string
	for _, l := range strings.Split(out, "\n") {
		if l == "" {
			continue
		}
		names = append(names, unescapeTar(l))
	}
	return names
}

func unescapeTar(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch c := s[i]; {
		case c == 'n':
			b.WriteByte('\n')
		case c == 't':
			b.WriteByte('\t')
		case c >= '0' && c <= '7' && i+2 < len(s):
			if v, err := strconv.ParseUint(s[i:i+3], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
