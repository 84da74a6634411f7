package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"tend/inventory"
	"tend/runner/playbook"
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
