package runner

import (
	"fmt"

	"tend/runner/playbook"
	"tend/runner/transport"
)

// withEnvironment returns conn running t's programs with its environment:
// the play's, the blocks' and the task's own merged (task over block over
// play, as Ansible), each value rendered for the host. The values reach
// the host on stdin, never on a command line (transport.WithEnv).
func (hp *hostPlay) withEnvironment(conn transport.Conn, t *playbook.Task, vars map[string]any) (transport.Conn, error) {
	var env []playbook.EnvVar
	if hp.play != nil {
		env = hp.play.Environment
	}
	env = playbook.MergeEnv(env, t.Environment)
	if len(env) == 0 {
		return conn, nil
	}
	out := make([]transport.EnvVar, 0, len(env))
	for _, e := range env {
		if e.Name == "" { // a whole environment as a template
			vs, err := renderEnvMapping(e.Value, vars)
			if err != nil {
				return nil, fmt.Errorf("%s: environment: %w", t.Pos, err)
			}
			for _, v := range vs {
				out = setEnv(out, v)
			}
			continue
		}
		s, err := renderVar(e.Value, vars)
		if err != nil {
			return nil, fmt.Errorf("%s: environment: %s: %w", t.Pos, e.Name, err)
		}
		out = setEnv(out, transport.EnvVar{Name: e.Name, Value: s})
	}
	if len(out) == 0 {
		return conn, nil
	}
	return transport.WithEnv(conn, out), nil
}
