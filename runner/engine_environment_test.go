package runner

import (
	"context"
	"strings"
	"testing"

	"tend/internal/memhost"
	"tend/runner/transport"
)

// runsLocally answers a command by running it on this machine: the
// environment prologue is a real shell's work.
func runsLocally(ctx context.Context, _ *memhost.Host, c transport.Command) (transport.Result, error) {
	return transport.Local().Run(ctx, c)
}

// TestEngineEnvironment: play, block and task environments merge by name
// (task over block over play, as Ansible); values are rendered for the
// host, reach the program, and are on no command line; tend's own
// commands (memfile's cat) run without them.
func TestEngineEnvironment(t *testing.T) {
	const src = `- hosts: all
  gather_facts: false
  environment:
    A: play
    B: play
    WHO: "{{ inventory_hostname }}"
  tasks:
    - name: plain
      command: printenv A B WHO
      register: plain
    - block:
        - name: nested
          command: printenv A B C D
          environment:
            D: "it's $D"
        - name: own
          shell: printf '%s|%s|%s' "$A" "$B" "$C"
          environment:
            C: task
      environment:
        B: block
        C: block
    - name: file
      memfile: {path: /f, content: x}
`
	f := newFleet("h1")
	f.handle(memhost.Argv("/bin/sh"), runsLocally)
	_, rec := runOn(t, f, src, Options{})
	for task, want := range map[string]string{
		"plain":  "play\nplay\nh1",
		"nested": "play\nblock\nblock\nit's $D",
		"own":    "play|block|task",
	} {
		r := rec.result(t, "h1", task, PhaseTask)
		if got, _ := r.Change.Data["stdout"].(string); got != want || r.Status != StatusChanged {
			t.Errorf("%s: %s, stdout %q, want %q (%s)", task, r.Status, got, want, r.Error)
		}
	}
	for _, c := range f.hosts["h1"].Calls() {
		line := strings.Join(c.Argv, " ")
		if c.Argv[0] == "cat" || c.Argv[0] == "tee" {
			if len(c.Stdin) > 0 && strings.Contains(string(c.Stdin), "export ") {
				t.Errorf("tend's own %s got the environment", c.Argv[0])
			}
			continue
		}
		for _, v := range []string{"play", "block", "it's"} {
			if strings.Contains(line, v) {
				t.Errorf("%q is on the command line %q", v, line)
			}
		}
	}
}
