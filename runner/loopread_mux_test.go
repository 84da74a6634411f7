package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"tend/runner/modules"
	"tend/runner/plan"
	"tend/runner/transport"
)

// TestRunBatch: each command run inside one batched read gives the result
// it gives alone: exit code, stdout and stderr byte for byte (NULs,
// newlines, no trailing newline), its own output cap, arguments that hold
// shell syntax, a script that execs, plain commands.
func TestRunBatch(t *testing.T) {
	checkRunBatch(t, transport.Local(), t.TempDir())
}

// checkRunBatch runs commands through conn batched, then each alone, and
// compares their results.
func checkRunBatch(t *testing.T, conn transport.Conn, dir string) {
	bin := filepath.Join(dir, "bin")
	if err := os.WriteFile(bin, []byte("a\x00b\nc"), 0o644); err != nil {
		t.Fatal(err)
	}
	sh := func(script string, args ...string) []string {
		return append([]string{"/bin/sh", "-c", script, "sh"}, args...)
	}
	const echoArgs = `for a; do printf '[%s]' "$a"; done; echo; echo "n=$#" >&2`
	cmds := []transport.Command{
		{Argv: sh(`echo out; echo err >&2; exit 3`)},
		{Argv: sh(echoArgs, `$(touch `+dir+`/pwned)`, "a b", "it's", "new\nline", "", `"q"`, "*", "-e", "1", "2", "3", "4", "5")},
		{Argv: sh(echoArgs)},
		{Argv: sh(`printf 'ok\0'; exec cat -- "$1"`, bin)},
		{Argv: sh(`head -c 100 /dev/zero; head -c 7 /dev/zero >&2`), MaxOutput: 10},
		{Argv: sh(`[ -t 0 ] || read x || echo "stdin empty"`)},
		{Argv: []string{"printf", "%s|", "plain", "$HOME", "a b"}},
		{Argv: []string{"false"}},
		{Argv: sh(echoArgs, "again")}, // the same script twice: sent once
		{Argv: sh(`echo "${_tb_d:-clean} ${_tb_k:-clean}"`)},
	}
	got, err := runBatch(context.Background(), conn, cmds, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cmds {
		want, err := conn.Run(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		g := got[i]
		if g.ExitCode != want.ExitCode || string(g.Stdout) != string(want.Stdout) || string(g.Stderr) != string(want.Stderr) || g.Truncated != want.Truncated {
			t.Errorf("command %d %q:\n batched %d %q %q %v\n alone   %d %q %q %v", i, c.Argv,
				g.ExitCode, g.Stdout, g.Stderr, g.Truncated, want.ExitCode, want.Stdout, want.Stderr, want.Truncated)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Errorf("an argument ran as shell code")
	}
}

// TestParseBatchRefuses: an answer cut short, a bad header or bytes left
// over make the whole batch void (its items then read live).
func TestParseBatchRefuses(t *testing.T) {
	two := []transport.Command{{Argv: []string{"a"}}, {Argv: []string{"b"}, MaxOutput: 3}}
	for _, out := range []string{
		"okM 0\nM\n",             // the second answer missing
		"okM 0\nM\nabM 0\nerr",   // cut short
		"okM x\nM\nM 0\nM\n",     // bad exit status
		"okM0\nM\nM 0\nM\n",      // no space
		"okM 0\nM\nM 0\nM\nmore", // left over
		"okM 0\nM\nM 0\n",        // no end of stderr
	} {
		if _, err := parseBatch([]byte(out), []byte("M"), two); err == nil {
			t.Errorf("%q: no error", out)
		}
	}
	res, err := parseBatch([]byte("okM 0\nEM\nabcdM 3\nM\n"), []byte("M"), two)
	if err != nil || string(res[0].Stdout) != "ok" || string(res[0].Stderr) != "E" || res[1].ExitCode != 3 ||
		string(res[1].Stdout) != "abc" || !res[1].Truncated || res[0].Truncated {
		t.Errorf("parseBatch = %+v, %v", res, err)
	}
}

// liar announces `cat WANT` as its read but reads `cat PATH`: the batch
// must not answer a command other than the one announced.
type liar struct{ path, announced string }

func (m liar) BatchRead() (transport.Command, bool) {
	return transport.Command{Argv: []string{"cat", m.announced}}, true
}

func (m liar) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	res, err := conn.Run(ctx, transport.Command{Argv: []string{"cat", m.path}})
	if err != nil {
		return plan.Change{}, err
	}
	return plan.Change{Action: plan.Read, Summary: strings.TrimSpace(string(res.Stdout))}, nil
}

func (m liar) Apply(_ context.Context, _ transport.Conn, p plan.Change) (plan.Change, error) {
	return p, nil
}

var liarOnce sync.Once

// TestLoopReadsOnlyAnnounced: a Check that runs another command than the
// one its module announced gets that command's own answer, live.
func TestLoopReadsOnlyAnnounced(t *testing.T) {
	liarOnce.Do(func() {
		modules.Register("liar", modules.Spec{RunsInCheckMode: true, New: func(a modules.Args) (modules.Module, error) {
			var args struct{ Path, Announced string }
			if err := a.Node.Decode(&args); err != nil {
				return nil, err
			}
			return liar{args.Path, args.Announced}, nil
		}})
	})
	dir := t.TempDir()
	for _, n := range []string{"a", "b", "c", "d"} {
		os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644)
	}
	src := fmt.Sprintf(`
- hosts: all
  gather_facts: false
  tasks:
    - name: read
      liar: {path: "%s/{{ item }}", announced: "%s/{{ 'a' if item == 'c' else item }}"}
      loop: [a, b, c, d]
`, dir, dir)
	rec := runCounted(t, transport.Local(), src, true, Options{})
	var got []string
	for _, e := range rec.items("h1", "read") {
		got = append(got, e.Change.Summary)
	}
	if want := []string{"a", "b", "c", "d"}; !reflect.DeepEqual(got, want) {
		t.Errorf("items read %q, want %q", got, want)
	}
	if n := rec.trips("read"); n != 2 { // the batch, then c's own read
		t.Errorf("%d commands, want 2", n)
	}
}
