package modules

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"tend/runner/plan"
)

// TestLabCommandCreatesRemoves: creates and removes decide, on a real host,
// whether the command runs; chdir, executable and stdin_add_newline act as
// in Ansible.
func TestLabCommandCreatesRemoves(t *testing.T) {
	l := newFSLab(t)
	ctx := context.Background()
	d := l.sub("cmd")
	mustWrite(t, filepath.Join(d, "present.lock"), "", 0o644)
	build := func(module, src string) Module {
		t.Helper()
		ctor := newCommand
		if module == "shell" {
			ctor = newShell
		}
		m, err := ctor(Args{Node: argsNode(t, src), File: "play.yml"})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, tc := range []struct {
		name, module, args string
		runs               bool
		stdout             string
	}{
		{"CreatesGlobMatches", "command", "cmd: touch ran\nchdir: " + d + "\ncreates: '*.lock'", false, ""},
		{"CreatesAbsent", "command", "cmd: pwd\nchdir: " + d + "\ncreates: nope.lock", true, d},
		{"RemovesAbsent", "command", "cmd: 'true'\nremoves: " + d + "/nope", false, ""},
		{"RemovesPresent", "command", "cmd: cat\nremoves: " + d + "/present.lock\nstdin: hi", true, "hi"},
		{"NoNewline", "shell", "cmd: od -c | head -1\nstdin: hi\nstdin_add_newline: false", true, "0000000   h   i"},
		{"Newline", "shell", "cmd: od -c | head -1\nstdin: hi", true, "0000000   h   i  \\n"},
		{"Executable", "shell", "cmd: 'echo ${BASH_VERSION:+bash}'\nexecutable: /bin/bash", true, "bash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := build(tc.module, tc.args)
			c, err := m.Check(ctx, l.conn)
			if err != nil {
				t.Fatal(err)
			}
			if runs := c.Action == plan.Run; runs != tc.runs {
				t.Fatalf("check: %s %q, want runs=%v", c.Action, c.Summary, tc.runs)
			}
			if !tc.runs {
				if !strings.HasPrefix(c.Summary, "skipped, since ") || c.Data["rc"] != 0 {
					t.Errorf("skip: %+v", c)
				}
				return
			}
			got, err := m.Apply(ctx, l.conn, c)
			if err != nil || got.Failed || got.Data["stdout"] != tc.stdout {
				t.Errorf("apply: %v %+v, want stdout %q", err, got.Data, tc.stdout)
			}
		})
	}
	if exists(filepath.Join(d, "ran")) {
		t.Errorf("a command skipped by creates ran")
	}
}
