package transport

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// runConnContract is the behaviour every Conn must have. newConn returns a
// fresh connection to a host that shares this machine's filesystem outside
// /etc (true for Local, the in-process test server and the lab's sshd), so
// the file cases can prepare and inspect files directly.
func runConnContract(t *testing.T, newConn func(t *testing.T) Conn) {
	t.Run("ArgvLiteral", func(t *testing.T) { contractArgvLiteral(t, newConn(t)) })
	t.Run("Stdin", func(t *testing.T) { contractStdin(t, newConn(t)) })
	t.Run("ExitCode", func(t *testing.T) { contractExitCode(t, newConn(t)) })
	t.Run("Timeout", func(t *testing.T) { contractTimeout(t, newConn(t)) })
	t.Run("Cancel", func(t *testing.T) { contractCancel(t, newConn(t)) })
	t.Run("OutputCapped", func(t *testing.T) { contractOutputCapped(t, newConn(t)) })
	t.Run("Concurrent", func(t *testing.T) { contractConcurrent(t, newConn(t)) })
	t.Run("ScriptArgsNotInArgv", func(t *testing.T) { contractScriptArgsNotInArgv(t, newConn(t)) })
	runFileContract(t, newConn)
}

func contractArgvLiteral(t *testing.T, c Conn) {
	ctx := context.Background()
	canary := fmt.Sprintf("/tmp/PWNED-%d", rand.Int64())
	t.Cleanup(func() { os.Remove(canary) })
	values := append([]string{
		"; touch " + canary,
		"$(touch " + canary + ")",
		"`touch " + canary + "`",
		"\ntouch " + canary + "\n",
		"| touch " + canary,
		"&& touch " + canary,
		"' ; touch " + canary + " ; '",
	}, trickyValues...)
	for _, v := range values {
		res, err := c.Run(ctx, Command{Argv: []string{"printf", "%s", v}})
		if err != nil {
			t.Fatalf("printf %q: %v", v, err)
		}
		if string(res.Stdout) != v || res.ExitCode != 0 {
			t.Errorf("printf %q printed %q (exit %d, stderr %q)", v, res.Stdout, res.ExitCode, res.Stderr)
		}
	}
	// An argument that looks like an option stays an argument of the program.
	res, err := c.Run(ctx, Command{Argv: []string{"printf", "%s|", "-n", "--", "-e", "--help"}})
	if err != nil || string(res.Stdout) != "-n|--|-e|--help|" {
		t.Errorf("printf with option-like arguments: %q, %v", res.Stdout, err)
	}
	if _, err := os.Stat(canary); err == nil {
		t.Fatalf("canary %s was created: a value was interpreted by a shell", canary)
	}
	if _, err := c.Run(ctx, Command{Argv: []string{"echo", "a\x00b"}}); err == nil {
		t.Error("argv with NUL: no error")
	}
	if _, err := c.Run(ctx, Command{}); !errors.Is(err, ErrEmptyArgv) {
		t.Errorf("empty argv: %v", err)
	}
}

func contractStdin(t *testing.T, c Conn) {
	ctx := context.Background()
	in := []byte("line one\n\x00binary\xff\n" + strings.Repeat("x", 300<<10) + "no final newline")
	res, err := c.Run(ctx, Command{Argv: []string{"cat"}, Stdin: in})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != string(in) {
		t.Errorf("cat echoed %d bytes, want %d identical", len(res.Stdout), len(in))
	}
	// No Stdin: the command sees end of input at once instead of hanging.
	res, err = c.Run(ctx, Command{Argv: []string{"cat"}, Timeout: 10 * time.Second})
	if err != nil || len(res.Stdout) != 0 {
		t.Errorf("cat without stdin: %q, %v", res.Stdout, err)
	}
}

func contractExitCode(t *testing.T, c Conn) {
	ctx := context.Background()
	res, err := c.Run(ctx, Command{Argv: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}})
	if err != nil {
		t.Fatalf("exit 3 is a result, got error %v", err)
	}
	if res.ExitCode != 3 || string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" {
		t.Errorf("got exit %d stdout %q stderr %q", res.ExitCode, res.Stdout, res.Stderr)
	}
	res, err = c.Run(ctx, Command{Argv: []string{"tend-no-such-program-xyz"}})
	if err != nil || res.ExitCode != 127 {
		t.Errorf("missing program: exit %d, %v; want 127, nil", res.ExitCode, err)
	}
	res, err = c.Run(ctx, Command{Argv: []string{"sh", "-c", "kill -TERM $$"}})
	if err != nil || res.ExitCode != 128+15 {
		t.Errorf("killed by TERM: exit %d, %v; want 143, nil", res.ExitCode, err)
	}
}

// procGone waits until no process matches pattern (pgrep -f) on the host.
func procGone(t *testing.T, c Conn, pattern string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		res, err := c.Run(context.Background(), Command{Argv: []string{"pgrep", "-f", pattern}})
		if err != nil {
			t.Fatalf("pgrep: %v", err)
		}
		if res.ExitCode == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes matching %q still alive: %s", pattern, res.Stdout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hangingCommand starts a shell with a background grandchild, both
// sleeping a unique number of seconds; pattern matches them, not pgrep.
func hangingCommand() (argv []string, pattern string) {
	n := 100000 + rand.IntN(800000)
	argv = []string{"sh", "-c", fmt.Sprintf("sleep %d & sleep %d; echo done", n, n)}
	return argv, fmt.Sprintf("[s]leep %d", n)
}

func contractTimeout(t *testing.T, c Conn) {
	argv, pattern := hangingCommand()
	start := time.Now()
	_, err := c.Run(context.Background(), Command{Argv: argv, Timeout: 700 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("want ErrTimeout, got %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("timeout took %s", d)
	}
	procGone(t, c, pattern)
	// The connection is still usable afterwards.
	if res, err := c.Run(context.Background(), Command{Argv: []string{"true"}}); err != nil || res.ExitCode != 0 {
		t.Errorf("run after timeout: %v", err)
	}
}

func contractCancel(t *testing.T, c Conn) {
	argv, pattern := hangingCommand()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := c.Run(ctx, Command{Argv: argv})
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) {
		t.Fatalf("want context.DeadlineExceeded, got %v", err)
	}
	procGone(t, c, pattern)
}

func contractOutputCapped(t *testing.T, c Conn) {
	const total = 64 << 20
	const max = 1 << 20
	var base runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	res, err := c.Run(context.Background(), Command{
		Argv:      []string{"sh", "-c", fmt.Sprintf("head -c %d /dev/zero; head -c %d /dev/zero >&2", total, total)},
		MaxOutput: max,
	})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !res.Truncated || len(res.Stdout) != max || len(res.Stderr) != max || res.ExitCode != 0 {
		t.Errorf("got truncated=%v stdout %d stderr %d exit %d; want true %d %d 0",
			res.Truncated, len(res.Stdout), len(res.Stderr), res.ExitCode, max, max)
	}
	if grew := int64(peak.Load()) - int64(base.HeapInuse); grew > 48<<20 {
		t.Errorf("heap grew by %d MiB while reading 2x%d MiB capped at %d MiB", grew>>20, total>>20, max>>20)
	}
}

func contractConcurrent(t *testing.T, c Conn) {
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf("job-%d", i)
			res, err := c.Run(context.Background(), Command{Argv: []string{"sh", "-c", "sleep 0.1; printf %s \"$1\"", "sh", want}})
			if err == nil && string(res.Stdout) != want {
				err = fmt.Errorf("job %d got %q", i, res.Stdout)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
