package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run the tend binary in-process as "tend".
func TestMain(m *testing.M) {
	testscript.Main(ownTempDir{m}, map[string]func(){
		"tend": func() {
			os.Exit(exitCode(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
		},
	})
}

// ownTempDir runs the tests with TMPDIR set to a directory of their own,
// removed at the end: the tend processes they start take their default
// run locks (and .last-success records) there, not in this machine's /tmp,
// where they would pile up run after run and could meet a real run's lock.
type ownTempDir struct{ m *testing.M }

func (o ownTempDir) Run() int {
	dir, err := os.MkdirTemp("", "tt")
	if err != nil {
		return o.m.Run()
	}
	defer os.RemoveAll(dir)
	// Traversable as /tmp is: lab hosts' non-root logins reach their homes below it.
	if err := os.Chmod(dir, 0o755); err != nil {
		return o.m.Run()
	}
	os.Setenv("TMPDIR", dir)
	return o.m.Run()
}

// TestScripts runs the CLI scenarios in testdata/script (no SSH hosts
// needed: input errors, help, the local connection).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// tendexit CODE ARGS... runs tend and asserts its exit code;
			// stdout and stderr are kept for the stdout/stderr commands.
			"tendexit": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 1 {
					ts.Fatalf("usage: tendexit CODE ARGS...")
				}
				want, err := strconv.Atoi(args[0])
				ts.Check(err)
				cmd := exec.Command("tend", args[1:]...)
				cmd.Dir = ts.Getenv("WORK")
				var env []string
				for _, k := range []string{"PATH", "HOME", "WORK", "TMPDIR"} {
					env = append(env, k+"="+ts.Getenv(k))
				}
				cmd.Env = env
				var out, errb strings.Builder
				cmd.Stdout, cmd.Stderr = &out, &errb
				err = cmd.Run()
				got := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					got = ee.ExitCode()
				} else if err != nil {
					ts.Fatalf("run tend: %v", err)
				}
				ts.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
				if (got == want) == neg {
					ts.Fatalf("tend exited %d, want %d", got, want)
				}
				// Leave the output where the stdout/stderr commands look.
				ts.Check(os.WriteFile(ts.MkAbs("stdout.txt"), []byte(out.String()), 0o644))
				ts.Check(os.WriteFile(ts.MkAbs("stderr.txt"), []byte(errb.String()), 0o644))
			},
		},
	})
}
