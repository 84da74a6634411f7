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
	testscript.Main(m, map[string]func(){
		"tend": func() {
			os.Exit(exitCode(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
		},
	})
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
