package transport

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestArgsOnStdinShapes: only /bin/sh -c SCRIPT NAME ARG... changes, once.
func TestArgsOnStdinShapes(t *testing.T) {
	script := []string{"/bin/sh", "-c", "echo", "sh", "v"}
	moved := argsOnStdin(Command{Argv: script})
	for _, tc := range []struct {
		name string
		argv []string
		same bool
	}{
		{"a script with arguments", script, false},
		{"a script without arguments", []string{"/bin/sh", "-c", "echo", "sh"}, true},
		{"a user's command", []string{"printf", "%s", "v"}, true},
		{"another shell", []string{"bash", "-c", "echo", "sh", "v"}, true},
		{"sudo", []string{"sudo", "-S", "--", "/bin/sh", "-c", "echo", "sh", "v"}, true},
		{"already moved", moved.Argv, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := argsOnStdin(Command{Argv: tc.argv})
			if same := slices.Equal(got.Argv, tc.argv) && got.Stdin == nil; same != tc.same {
				t.Errorf("argsOnStdin(%q) = %q, stdin %q; want unchanged %v", tc.argv, got.Argv, got.Stdin, tc.same)
			}
		})
	}
	if moved.Argv[3] != "sh" || len(moved.Argv) != 5 || !strings.HasPrefix(moved.Argv[4], "tend-args-") {
		t.Errorf("moved argv %q: want /bin/sh -c READER+SCRIPT sh MARKER", moved.Argv)
	}
}

// TestArgsReaderRefusesShortInput: without the end marker the script never
// runs, rather than running with half its arguments.
func TestArgsReaderRefusesShortInput(t *testing.T) {
	cmd := argsOnStdin(Command{Argv: []string{"/bin/sh", "-c", "echo ran", "sh", "v1", "v2"}})
	for _, stdin := range []string{"", "'v1'", "'v1' 'v2'\n", "'v1' 'v2'\n" + cmd.Argv[4]} {
		res, err := Local().Run(context.Background(), Command{Argv: cmd.Argv, Stdin: []byte(stdin)})
		if err != nil || res.ExitCode != 79 || len(res.Stdout) != 0 {
			t.Errorf("stdin %q: exit %d, stdout %q, %v; want exit 79 and nothing run", stdin, res.ExitCode, res.Stdout, err)
		}
	}
}
