package runner

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"tend/inventory"
	"tend/runner/playbook"
	"tend/runner/template"
	"tend/runner/transport"
)

// Delegation (delegate_to:) runs a task over another host's connection
// with the variables of the host it runs for, as Ansible does. localhost,
// when the inventory does not name it, is this machine as the user
// running tend (the local connection); become applies there only when the
// task itself asks for it, never from the play, inventory or -b.

// delegates holds the connections delegated tasks opened, one per
// delegate host, shared by every host's goroutine.
type delegates struct {
	mu    sync.Mutex
	conns map[string]*delegateConn
}

// delegateConn is one delegate's connection, opened once.
type delegateConn struct {
	once sync.Once
	conn transport.Conn
	err  error
}

// delegation is where one task runs when delegated, or when its own
// remote_user logs in to the host itself as another user (self).
type delegation struct {
	name  string         // the delegate's name, as rendered
	conn  transport.Conn // its connection
	local bool           // the implicit localhost: this machine
	self  bool           // the host itself, as the task's remote_user (remoteuser.go)
}

// localNames are the names Ansible's implicit localhost answers to.
var localNames = map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}

// delegate resolves t's delegate_to for this host: nil when the task is
// not delegated (or is delegated to the host itself).
func (hp *hostPlay) delegate(ctx context.Context, t *playbook.Task, vars map[string]any) (*delegation, error) {
	if t.DelegateTo == "" {
		return hp.asTaskUser(ctx, t, vars) // remoteuser.go
	}
	v, err := template.Render(t.DelegateTo, vars)
	if err != nil {
		return nil, fmt.Errorf("%s: delegate_to: %w", t.Pos, err)
	}
	name := strings.TrimSpace(fmt.Sprint(v))
	if name == "" {
		return nil, fmt.Errorf("%s: delegate_to: %q names no host", t.Pos, t.DelegateTo)
	}
	if name == hp.s.host.Name {
		return hp.asTaskUser(ctx, t, vars)
	}
	h := hp.r.inventoryHost(name)
	if h == nil && !localNames[name] {
		return nil, fmt.Errorf("%s: delegate_to: host %q is not in the inventory", t.Pos, name)
	}
	if h == nil && hp.factsDelegated(t) { // facts.go
		return nil, fmt.Errorf("%s: delegate_facts: %s is not an inventory host: tend keeps facts only for inventory hosts", t.Pos, name)
	}
	// As Ansible: the delegate's own ansible_user, else the task's
	// remote_user, else the play's (then -u), never the user of the host
	// it runs for.
	key := name
	if h != nil && h.User() == "" {
		u, err := hp.taskRemoteUser(t, vars)
		if err == nil && u == "" {
			u, err = hp.remoteUser()
		}
		if err != nil {
			return nil, err
		}
		h, key = withUser(u, h), name+"\x00"+u
	}
	conn, err := hp.r.delegated.open(ctx, key, func() (transport.Conn, error) {
		if h == nil {
			return transport.Local(), nil
		}
		return hp.r.opts.Connector.Connect(ctx, h)
	})
	if err != nil {
		return nil, fmt.Errorf("delegate_to %s: %w", name, err)
	}
	local := localNames[name] && (h == nil || h.Connection() == "local") // the controller itself
	return &delegation{name: name, conn: conn, local: local}, nil
}

// inventoryHost finds an inventory host by name (nil if none).
func (r *run) inventoryHost(name string) *inventory.Host {
	if inv := r.currentInv(); inv != nil {
		if h, ok := inv.Host(name); ok {
			return h
		}
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.hosts[name]; ok {
		return s.host
	}
	return nil
}

// open returns the delegate's connection, opening it on first use. Hosts
// delegating to the same host at once wait for one connect.
func (d *delegates) open(ctx context.Context, name string, dial func() (transport.Conn, error)) (transport.Conn, error) {
	d.mu.Lock()
	if d.conns == nil {
		d.conns = map[string]*delegateConn{}
	}
	c, ok := d.conns[name]
	if !ok {
		c = &delegateConn{}
		d.conns[name] = c
	}
	d.mu.Unlock()
	c.once.Do(func() { c.conn, c.err = dial() })
	return c.conn, c.err
}

// closePrefix closes and forgets the connections whose key starts with
// prefix (a host's task remote_user connections).
func (d *delegates) closePrefix(prefix string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, c := range d.conns {
		if strings.HasPrefix(k, prefix) {
			if c.conn != nil {
				_ = c.conn.Close()
			}
			delete(d.conns, k)
		}
	}
}

// closeAll closes every delegate connection opened.
func (d *delegates) closeAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		if c.conn != nil {
			_ = c.conn.Close()
		}
	}
	d.conns = nil
}

// delegatedBecome reports whether become applies on a delegated task: on
// the implicit localhost only when the task asks for it.
func delegatedBecome(become *bool, d *delegation) (decided, on bool) {
	if d == nil || !d.local {
		return false, false
	}
	return true, become != nil && *become
}
