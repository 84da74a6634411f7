package runner

import (
	"context"
	"maps"

	"tend/inventory"
	"tend/runner/playbook"
)

// connHost is host as play p connects to it: with the play's remote_user
// as its SSH user when the inventory gives none. As Ansible, the
// ansible_user (ansible_ssh_user) variable wins over the remote_user
// keyword, which wins over -u.
func connHost(p *playbook.Play, h *inventory.Host) *inventory.Host {
	if p.RemoteUser == "" || h.User() != "" {
		return h
	}
	c := *h
	c.Vars = maps.Clone(h.Vars)
	if c.Vars == nil {
		c.Vars = map[string]any{}
	}
	c.Vars["ansible_user"] = p.RemoteUser
	return &c
}

// connect opens the host's connection for the play, or keeps the one an
// earlier play opened when it is for the same user; a play with another
// remote_user gets a new one.
func (hp *hostPlay) connect(ctx context.Context) error {
	s, target := hp.s, connHost(hp.play, hp.s.host)
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
