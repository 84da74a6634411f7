package memhost

import (
	"context"
	"errors"
	"testing"

	"tend/runner/transport"
)

func TestHost(t *testing.T) {
	ctx := context.Background()
	h := New("h1")
	run := func(argv []string, stdin string) transport.Result {
		t.Helper()
		res, err := h.Run(ctx, transport.Command{Argv: argv, Stdin: []byte(stdin), MaxOutput: 4})
		if err != nil {
			t.Fatalf("%q: %v", argv, err)
		}
		return res
	}
	if res := run([]string{"cat", "/f"}, ""); res.ExitCode != 1 {
		t.Errorf("cat of a missing file exits %d, want 1", res.ExitCode)
	}
	run([]string{"tee", "/f"}, "hello")
	if b, ok := h.File("/f"); !ok || string(b) != "hello" {
		t.Errorf("after tee: %q %v", b, ok)
	}
	if res := run([]string{"cat", "/f"}, ""); string(res.Stdout) != "hell" || !res.Truncated {
		t.Errorf("cat: %q truncated %v, want the first 4 bytes, truncated", res.Stdout, res.Truncated)
	}
	// A later handler wins over the default for its file only.
	h.Handle(Argv("tee", "/sticky"), func(context.Context, *Host, transport.Command) (transport.Result, error) { return OK(""), nil })
	run([]string{"tee", "/sticky"}, "x")
	if _, ok := h.File("/sticky"); ok {
		t.Errorf("the overriding handler did not answer")
	}
	run([]string{"rm", "-f", "--", "/f"}, "")
	if _, ok := h.File("/f"); ok {
		t.Errorf("rm -f left the file")
	}
	if res := run([]string{"reboot"}, ""); res.ExitCode != 127 {
		t.Errorf("an unknown command exits %d, want 127", res.ExitCode)
	}
	if u := h.Unhandled(); len(u) != 1 || u[0][0] != "reboot" {
		t.Errorf("unhandled %q, want [reboot]", u)
	}
	if n := h.Ran(Argv("cat")); n != 2 || len(h.Calls()) != 6 {
		t.Errorf("%d cat calls of %d, want 2 of 6", n, len(h.Calls()))
	}
	h.Handle(Argv("drop"), func(context.Context, *Host, transport.Command) (transport.Result, error) {
		return transport.Result{}, h.Unreachable("reset")
	})
	if _, err := h.Run(ctx, transport.Command{Argv: []string{"drop"}}); !transport.IsUnreachable(err) {
		t.Errorf("drop: %v, want unreachable", err)
	}
	h.Close()
	if _, err := h.Run(ctx, transport.Command{Argv: []string{"cat", "/f"}}); err == nil {
		t.Errorf("run after close succeeded")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := New("h2").Run(cancelled, transport.Command{Argv: []string{"cat"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("run with a cancelled context: %v", err)
	}
}
