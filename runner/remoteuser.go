package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"tend/inventory"
	"tend/runner/playbook"
	"tend/runner/transport"
)

// withUser is host h connecting as user when its inventory gives no
// ansible_user: as Ansible, the ansible_user (ansible_ssh_user) variable
// wins over the remote_user keyword, which wins over -u.
func withUser(user string, h *inventory.Host) *inventory.Host {
	if user == "" || h.User() != "" {
		return h
	}
	c := *h
	c.Vars = maps.Clone(h.Vars)
	if c.Vars == nil {
		c.Vars = map[string]any{}
	}
	c.Vars["ansible_user"] = user
	return &c
}

// remoteUser is the play's remote_user for this host: a template rendered
// with its variables (play vars and defaults, inventory, -e, facts
// already gathered), as Ansible templates the keyword per host; the name
// must be a user name.
func (hp *hostPlay) remoteUser() (string, error) {
	u := hp.play.RemoteUser
	if !strings.Contains(u, "{{") {
		return u, nil
	}
	s, err := renderVar(u, hp.vars(nil))
	if err == nil {
		err = playbook.CheckUser(s)
	}
	if err != nil {
		return "", &userError{fmt.Errorf("%s: remote_user: %q: %w", hp.play.RemoteUserPos, u, err)}
	}
	return s, nil
}

// userError is a remote_user that does not render to a user name for the
// host: the host fails (as under Ansible), it is not unreachable.
type userError struct{ error }

func (e *userError) Unwrap() error { return e.error }

// connectFailed ends the host whose connection could not be opened:
// failed for a bad remote_user, else unreachable.
func (hp *hostPlay) connectFailed(err error) {
	var ue *userError
	if !errors.As(err, &ue) {
		hp.unreachable("connect", err)
		return
	}
	hp.report(TaskResult{Host: hp.s.host.Name, Play: hp.play.Name, Task: "connect", Phase: PhaseTask, Status: StatusFailed, Error: err.Error()})
	hp.fail(fmt.Errorf("host %s: %w", hp.s.host.Name, err))
}

// connHost is the host as the play connects to it (withUser).
func (hp *hostPlay) connHost() (*inventory.Host, error) {
	u, err := hp.remoteUser()
	if err != nil {
		return nil, err
	}
	return withUser(u, hp.s.host), nil
}

// connect opens the host's connection for the play, or keeps the one an
// earlier play opened when it is for the same user; a play with another
// remote_user gets a new one.
func (hp *hostPlay) connect(ctx context.Context) error {
	s := hp.s
	target, err := hp.connHost()
	if err != nil {
		return err
	}
	if s.conn != nil && s.connUser == target.User() {
		return nil
	}
	if s.conn != nil {
		_ = s.conn.Close() // another user's: this play logs in as its own
		s.conn = nil
	}
	conn, err := hp.r.opts.Connector.Connect(ctx, target)
	if err != nil {
		return err
	}
	s.conn, s.connUser = &liveConn{conn: conn}, target.User() // reconnect.go: a reboot replaces it
	return nil
}

// taskRemoteUser is task t's own remote_user (or its block's) for this
// host: a template rendered with the task's variables, checked as a user
// name; "" when t sets none.
func (hp *hostPlay) taskRemoteUser(t *playbook.Task, vars map[string]any) (string, error) {
	u := t.RemoteUser
	if u == "" || !strings.Contains(u, "{{") {
		return u, nil
	}
	s, err := renderVar(u, vars)
	if err == nil {
		err = playbook.CheckUser(s)
	}
	if err != nil {
		return "", fmt.Errorf("%s: remote_user: %q: %w", t.KeyPos["remote_user"], u, err)
	}
	return s, nil
}

// asTaskUser is where task t runs on its own host when it sets
// remote_user, as Ansible's play context takes the task's keyword over
// the play's: a connection to the host logged in as that user, opened on
// first use and shared by the tasks asking for it. nil (the play's
// connection) when t sets none, when the host's inventory gives
// ansible_user (which wins, as in Ansible), or when it is the user the
// play logged in as.
func (hp *hostPlay) asTaskUser(ctx context.Context, t *playbook.Task, vars map[string]any) (*delegation, error) {
	u, err := hp.taskRemoteUser(t, vars)
	if err != nil || u == "" {
		return nil, err
	}
	h := withUser(u, hp.s.host)
	if h.User() == hp.s.connUser {
		return nil, nil
	}
	name := hp.s.host.Name
	conn, err := hp.r.delegated.open(ctx, taskUserKey(name)+h.User(), func() (transport.Conn, error) {
		return hp.r.opts.Connector.Connect(ctx, h)
	})
	if err != nil {
		return nil, fmt.Errorf("remote_user %s: %w", u, err)
	}
	return &delegation{name: name, conn: conn, self: true}, nil
}

// taskUserKey prefixes the keys of host's task remote_user connections
// among the delegates' (a namespace of their own: only the host's own
// goroutine uses them, so they close with its connection, connlife.go).
func taskUserKey(host string) string { return "\x01remote_user\x00" + host + "\x00" }
