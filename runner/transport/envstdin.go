package transport

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// EnvVar is one environment variable a command runs with (a playbook's
// environment: keyword).
type EnvVar struct {
	Name, Value string
}

// envReader is the prologue of a command run with an environment: it
// reads `export NAME='VALUE'` lines from stdin up to the line $1 (a random
// marker), evaluates them, and execs the command ("$2"...). Like the ARGs
// of tend's scripts (scriptargs.go), the values are thus never on a
// command line of the host; stdin is read one byte at a time from a pipe,
// so the command's own stdin starts exactly after the marker.
const envReader = `_tend_e= _tend_l=
while :; do
	IFS= read -r _tend_l || exit 79
	[ "$_tend_l" = "$1" ] && break
	_tend_e=$_tend_e$_tend_l'
'
done
eval "$_tend_e"
unset _tend_e _tend_l
shift
exec "$@"
`

// WithEnv returns conn running the commands of other programs (those with
// OwnSession: a user's command, a service's restart) with env set; tend's
// own scripts and probes run as before. The values travel on stdin (see
// envReader); conn's own Run then moves the command's argv to stdin too
// (argsOnStdin). With no env it returns conn.
func WithEnv(conn Conn, env []EnvVar) Conn {
	if len(env) == 0 {
		return conn
	}
	return &envConn{Conn: conn, env: env}
}

type envConn struct {
	Conn
	env []EnvVar
}

// Unwrap returns the connection the commands run on.
func (e *envConn) Unwrap() Conn { return e.Conn }

// Run runs cmd with the environment when it is another program's.
func (e *envConn) Run(ctx context.Context, cmd Command) (Result, error) {
	if !cmd.OwnSession {
		return e.Conn.Run(ctx, cmd)
	}
	wrapped, err := envOnStdin(cmd, e.env)
	if err != nil {
		return Result{}, err
	}
	return e.Conn.Run(ctx, wrapped)
}

// envOnStdin returns cmd run under envReader with env's exports first on
// its stdin.
func envOnStdin(cmd Command, env []EnvVar) (Command, error) {
	if err := ValidateArgv(cmd.Argv); err != nil {
		return Command{}, err
	}
	var b strings.Builder
	for _, v := range env {
		if !isEnvName(v.Name) {
			return Command{}, fmt.Errorf("transport: environment: %q is not a variable name", v.Name)
		}
		if strings.ContainsRune(v.Value, 0) {
			return Command{}, fmt.Errorf("transport: environment: the value of %s contains NUL", v.Name)
		}
		b.WriteString("export " + v.Name + "=" + ShellQuote(v.Value) + "\n")
	}
	exports := b.String()
	marker := "tend-env-" + newRunID()
	for strings.Contains(exports, marker) {
		marker = "tend-env-" + newRunID()
	}
	prefix := exports + marker + "\n"
	out := cmd
	out.Argv = append([]string{"/bin/sh", "-c", envReader, "tend-env", marker}, cmd.Argv...)
	if cmd.Input != nil {
		out.Input = io.MultiReader(strings.NewReader(prefix), cmd.Input)
	} else {
		out.Stdin = append([]byte(prefix), cmd.Stdin...)
	}
	return out, nil
}

// isEnvName reports whether s is a shell variable name.
func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9'
		if !ok {
			return false
		}
	}
	return true
}
