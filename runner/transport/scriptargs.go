package transport

import (
	"io"
	"strings"
)

// tend's own scripts run as
//
//	/bin/sh -c SCRIPT NAME ARG...
//
// and their ARGs are values from the playbook: a sysctl value, a path, a
// variable that may be secret. An argv is public on the host (ps,
// /proc/PID/cmdline) and sudo logs it, so wherever such a command is exec'd
// (a session of its own, the shared shell under `timeout`, sudo, Local) the
// ARGs are moved to the command's stdin: the argv becomes
//
//	/bin/sh -c ARGSREADER+SCRIPT NAME MARKER
//
// and stdin starts with the ARGs as quoted shell words, then a line MARKER,
// then the command's own stdin. MARKER is random and only ends the words.
// The shell's read builtin takes stdin one byte at a time from a pipe (dash,
// bash and busybox ash all must: POSIX forbids reading ahead of a command's
// input), so SCRIPT's own stdin starts exactly after MARKER. The shared
// shell without a timeout needs none of this: it gets the ARGs on its own
// stdin and runs SCRIPT with no exec at all (sshshell.go).
//
// Commands of any other shape (a user's command, sudo itself) are left as
// they are: their argv is the user's own command line.

// argsReader restores the ARGs from stdin, up to the line $1 (MARKER); when
// stdin ends first the script does not run (exit 79, clear of the file
// scripts' 80-99).
const argsReader = `_tend_a= _tend_l=
while :; do
	IFS= read -r _tend_l || exit 79
	[ "$_tend_l" = "$1" ] && break
	_tend_a=$_tend_a$_tend_l'
'
done
eval "set -- $_tend_a"
unset _tend_a _tend_l
`

// argsOnStdin returns cmd with a script's ARGs moved from argv to stdin
// (see above); any other command is returned unchanged.
func argsOnStdin(cmd Command) Command {
	a := cmd.Argv
	if len(a) < 5 || a[0] != "/bin/sh" || a[1] != "-c" || strings.HasPrefix(a[2], argsReader) {
		return cmd
	}
	words := ShellJoin(a[4:])
	marker := "tend-args-" + newRunID()
	for strings.Contains(words, marker) { // a value cannot guess it; still, never cut the words short
		marker = "tend-args-" + newRunID()
	}
	prefix := words + "\n" + marker + "\n"
	out := cmd
	out.Argv = []string{a[0], a[1], argsReader + a[2], a[3], marker}
	if cmd.Input != nil {
		out.Input = io.MultiReader(strings.NewReader(prefix), cmd.Input)
	} else {
		out.Stdin = append([]byte(prefix), cmd.Stdin...)
	}
	return out
}
