package transport

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// argsProbeScript prints its arguments (count, then each NUL-terminated),
// its stdin, and the command lines of its shell and every ancestor up to
// PID 1 (sshd, sudo, timeout, env, the shell itself), NUL-separated.
const argsProbeScript = `printf '%s\0' "$#" "$@"
printf 'stdin\0'
cat
printf '\0cmdlines\0'
p=$$
while [ -n "$p" ] && [ "$p" -gt 1 ]; do
	cat /proc/$p/cmdline 2>/dev/null; printf '\n'
	p=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/$p/status 2>/dev/null)
done`

// contractScriptArgsNotInArgv: a script's arguments reach it intact, its
// stdin follows them intact, and none of them is on the command line of any
// process on the host, whichever path runs it (the shared shell, a session
// of its own, under timeout, under sudo).
func contractScriptArgsNotInArgv(t *testing.T, c Conn) {
	canary := fmt.Sprintf("ArgCanary%d", rand.Int64())
	args := []string{canary, canary + "\ntend-args-0123456789abcdef01234567\n", "", "it's " + canary,
		"  lead " + canary, `back\slash ` + canary, "-n", canary + "\n"}
	args = append(args, trickyValues...)
	for _, tc := range []struct {
		name    string
		stdin   []byte
		timeout time.Duration
		own     bool
	}{
		{name: "no stdin"},
		{name: "stdin", stdin: []byte("line\n" + canary + " no final newline")},
		{name: "binary stdin", stdin: []byte("a\x00b\xff\n")}, // a NUL: never the shared shell
		{name: "timeout", stdin: []byte("x\n"), timeout: 30 * time.Second},
		{name: "own session", own: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Run(context.Background(), Command{
				Argv:  append([]string{"/bin/sh", "-c", argsProbeScript, "tend-test"}, args...),
				Stdin: tc.stdin, Timeout: tc.timeout, OwnSession: tc.own,
			})
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("exit %d, %v: %s", res.ExitCode, err, res.Stderr)
			}
			out := string(res.Stdout)
			head, cmdlines, ok := strings.Cut(out, "\x00cmdlines\x00")
			if !ok {
				t.Fatalf("no cmdlines in %q", out)
			}
			want := fmt.Sprintf("%d\x00%s\x00stdin\x00%s", len(args), strings.Join(args, "\x00"), tc.stdin)
			if head != want {
				t.Errorf("the script saw\n%q\nwant\n%q", head, want)
			}
			if strings.Count(cmdlines, "\n") < 1 {
				t.Fatalf("no command line read: %q", cmdlines)
			}
			if strings.Contains(cmdlines, canary) {
				t.Errorf("an argument is on a command line on the host:\n%s", strings.ReplaceAll(cmdlines, "\x00", " "))
			}
		})
	}
}
