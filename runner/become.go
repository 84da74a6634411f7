package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"tend/internal/yamlnode"
	"tend/runner/playbook"
	"tend/runner/template"
	"tend/runner/transport"
)

// BecomeOptions are the privilege escalation settings given on the command
// line (-b, --become-user, -K). sudo is the only method.
type BecomeOptions struct {
	// Become escalates every task unless its play or task says become: false.
	Become bool
	// User is the default user to become (default root).
	User string
	// Password answers sudo's prompt (-K); the variables
	// ansible_become_password / ansible_become_pass win over it.
	Password string
}

// becomeVars are the variables that configure become for a host, as in
// Ansible; like Ansible's, variables win over the play and task keywords,
// which win over the command line.
const (
	varBecome     = "ansible_become"
	varBecomeUser = "ansible_become_user"
)

// becomePasswordVars hold the become password, the first one set wins.
var becomePasswordVars = []string{"ansible_become_password", "ansible_become_pass"}

// taskConn returns the connection task t runs on: the host's own, or the
// host's through sudo (transport.Become) when become applies to t.
// Precedence, highest first: the variables ansible_become /
// ansible_become_user, the task's become / become_user, the play's, the
// command line (-b, --become-user), and root as the default user.
func (hp *hostPlay) taskConn(t *playbook.Task, vars map[string]any) (transport.Conn, error) {
	return hp.delegatedConn(t, vars, nil)
}

// delegatedConn is taskConn for a task delegated to d (nil: not
// delegated): d's connection, through sudo when become applies there.
func (hp *hostPlay) delegatedConn(t *playbook.Task, vars map[string]any, d *delegation) (transport.Conn, error) {
	base, where := hp.s.conn, ""
	if d != nil {
		base, where = d.conn, d.name
		if d.self { // the host as the task's remote_user: its own sudo record
			where = "\x00" + d.name
		}
	}
	o := hp.r.opts.Become
	on, user := o.Become, o.User
	if p := hp.play; p != nil {
		if p.Become != nil {
			on = *p.Become
		}
		if p.BecomeUser != "" {
			user = p.BecomeUser
		}
	}
	if t != nil {
		if b := hp.taskBecome(t); b != nil { // booltmpl.go
			on = *b
		}
		if t.BecomeUser != "" {
			user = t.BecomeUser
		}
	}
	if v, ok := vars[varBecome]; ok {
		b, err := asBool(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", varBecome, err)
		}
		on = b
	}
	var asked *bool
	if t != nil {
		asked = hp.taskBecome(t)
	}
	if decided, asked := delegatedBecome(asked, d); decided {
		on = asked
	}
	if !on {
		return base, nil
	}
	if v, ok := vars[varBecomeUser]; ok {
		s, err := renderVar(v, vars)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", varBecomeUser, err)
		}
		user = s
	}
	if yamlnode.IsTemplateText(user) {
		s, err := renderVar(user, vars)
		if err != nil {
			return nil, fmt.Errorf("become_user: %w", err)
		}
		user = s
	}
	password, err := becomePassword(vars, o.Password)
	if err != nil {
		return nil, err
	}
	key := becomeKey{user: user, password: password, where: where}
	return &becomeGuard{Conn: transport.Become(base, transport.BecomeOptions{User: user, Password: password}), s: hp.s, key: key}, nil
}

// becomeKey identifies a become configuration of a host.
type becomeKey struct{ user, password, where string } // where: the delegate, if any

// becomeGuard fails at once, without running sudo, once sudo has rejected
// the same user and password on the host: a wrong password is tried once
// per host, not once per task (ignore_errors, handlers, pending markers),
// so it cannot lock the account (pam_faillock).
type becomeGuard struct {
	transport.Conn
	s   *hostState
	key becomeKey
}

// Unwrap returns the wrapped connection, so a module can reach what it
// offers besides Run (the uri module's dialer).
func (g *becomeGuard) Unwrap() transport.Conn { return g.Conn }

// Run runs cmd unless sudo already refused this configuration.
func (g *becomeGuard) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if err := g.s.becomeRefused[g.key]; err != nil {
		return transport.Result{}, err
	}
	res, err := g.Conn.Run(ctx, cmd)
	if errors.Is(err, transport.ErrIncorrectBecomePassword) || errors.Is(err, transport.ErrMissingBecomePassword) {
		if g.s.becomeRefused == nil {
			g.s.becomeRefused = map[becomeKey]error{}
		}
		g.s.becomeRefused[g.key] = err
	}
	return res, err
}

// becomePassword is the first become password variable set, else fallback (-K).
func becomePassword(vars map[string]any, fallback string) (string, error) {
	for _, name := range becomePasswordVars {
		if v, ok := vars[name]; ok && v != nil {
			s, err := renderVar(v, vars)
			if err != nil {
				return "", fmt.Errorf("%s: %w", name, err)
			}
			return s, nil
		}
	}
	return fallback, nil
}

// renderVar renders a variable's value as a string, templates included.
func renderVar(v any, vars map[string]any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return fmt.Sprint(v), nil
	}
	if !yamlnode.IsTemplateText(s) {
		return s, nil
	}
	r, err := template.Render(s, vars)
	if err != nil {
		return "", err
	}
	if rs, ok := r.(string); ok {
		return rs, nil
	}
	return fmt.Sprint(r), nil
}

// asBool reads a boolean variable as Ansible does: true/false, yes/no, on/off, 1/0.
func asBool(v any) (bool, error) {
	switch b := v.(type) {
	case bool:
		return b, nil
	case int:
		return b != 0, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "true", "yes", "on", "1", "y":
			return true, nil
		case "false", "no", "off", "0", "n", "":
			return false, nil
		}
	}
	return false, fmt.Errorf("want a boolean, not %v", v)
}

// playConn is the connection for tend's own bookkeeping on the host
// (pending-handler markers): through sudo when become applies to the play,
// as for its tasks, so a non-root login can still write them.
func (hp *hostPlay) playConn() transport.Conn {
	c, err := hp.taskConn(nil, hp.vars(nil))
	if err != nil {
		return hp.s.conn
	}
	return c
}
