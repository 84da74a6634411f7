package transport

import (
	"context"
	"strings"
	"testing"
)

// TestWithEnv: a user's command sees each value exactly, its own stdin
// follows untouched, and no value is on the command line that is exec'd
// (after argsOnStdin, as every Conn applies it).
func TestWithEnv(t *testing.T) {
	env := []EnvVar{
		{"CANARY", "c4n4ry-7193"},
		{"TRICKY", "it's $HOME `id` \"q\"\nline2\\"},
		{"EMPTY", ""},
	}
	for _, tc := range []struct {
		name  string
		cmd   Command
		want  string
		check func(t *testing.T, out string)
	}{
		{"printf", Command{Argv: []string{"/bin/sh", "-c", `printf '%s|%s|%s' "$CANARY" "$TRICKY" "${EMPTY-unset}"`, "sh"}, OwnSession: true},
			"c4n4ry-7193|it's $HOME `id` \"q\"\nline2\\|", nil},
		{"stdin follows", Command{Argv: []string{"cat"}, Stdin: []byte("own\ninput"), OwnSession: true}, "own\ninput", nil},
		{"env", Command{Argv: []string{"env"}, OwnSession: true}, "", func(t *testing.T, out string) {
			if !strings.Contains(out, "\nCANARY=c4n4ry-7193\n") && !strings.HasPrefix(out, "CANARY=c4n4ry-7193\n") {
				t.Errorf("env printed no CANARY:\n%s", out)
			}
		}},
		{"tend's own script untouched", Command{Argv: []string{"/bin/sh", "-c", `printf '%s' "${CANARY-unset}"`, "sh"}}, "unset", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := WithEnv(Local(), env).Run(context.Background(), tc.cmd)
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("exit %d, %v, stderr %s", res.ExitCode, err, res.Stderr)
			}
			if tc.check != nil {
				tc.check(t, string(res.Stdout))
			} else if string(res.Stdout) != tc.want {
				t.Errorf("stdout %q, want %q", res.Stdout, tc.want)
			}
		})
	}
	wrapped, err := envOnStdin(Command{Argv: []string{"env"}, OwnSession: true}, env)
	if err != nil {
		t.Fatal(err)
	}
	final := argsOnStdin(wrapped)
	if line := strings.Join(final.Argv, " "); strings.Contains(line, "c4n4ry") || strings.Contains(line, "line2") {
		t.Errorf("a value is on the command line: %q", final.Argv)
	}
}

// TestWithEnvRefuses: a name that is no variable name, a NUL in a value.
func TestWithEnvRefuses(t *testing.T) {
	for _, env := range [][]EnvVar{{{"A-B", "v"}}, {{"", "v"}}, {{"1A", "v"}}, {{"A", "x\x00y"}}} {
		res, err := WithEnv(Local(), env).Run(context.Background(), Command{Argv: []string{"true"}, OwnSession: true})
		if err == nil {
			t.Errorf("%q: ran (exit %d), want an error", env, res.ExitCode)
		}
	}
}
