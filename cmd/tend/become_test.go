package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"tend/runner"
)

// openPTY returns the master of a new pseudo-terminal and its slave's path.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

// TestAskBecomePass types the password on a terminal, as -K reads it.
func TestAskBecomePass(t *testing.T) {
	m, slave := openPTY(t)
	type result struct {
		opts runner.Options
		err  error
	}
	done := make(chan result, 1)
	go func() {
		b := becomeFlags{askPass: true, become: true, tty: slave}
		var opts runner.Options
		err := b.apply(&opts)
		done <- result{opts, err}
	}()
	r := bufio.NewReader(m)
	var seen strings.Builder
	for !strings.Contains(seen.String(), "BECOME password: ") {
		c, err := r.ReadByte()
		if err != nil {
			t.Fatalf("reading the prompt: %v (got %q)", err, seen.String())
		}
		seen.WriteByte(c)
	}
	if _, err := m.WriteString("s3cret pass\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-done:
		if res.err != nil || res.opts.Become != (runner.BecomeOptions{Become: true, Password: "s3cret pass"}) {
			t.Errorf("got %+v, %v", res.opts.Become, res.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the password was not read")
	}
}

// TestAskBecomePassNeedsTTY: without a terminal -K refuses instead of
// reading a password from a pipe or hanging.
func TestAskBecomePassNeedsTTY(t *testing.T) {
	for _, tty := range []string{"/nonexistent/tty", os.DevNull} {
		b := becomeFlags{askPass: true, tty: tty}
		var opts runner.Options
		err := b.apply(&opts)
		if !errors.Is(err, errNoTTY) || exitCode(err, &strings.Builder{}) != exitBadInput {
			t.Errorf("%s: %v; want a bad-input error saying there is no terminal", tty, err)
		}
	}
}
