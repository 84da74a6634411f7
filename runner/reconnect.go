package runner

import (
	"context"
	"fmt"
	"sync"

	"tend/runner/modules"
	"tend/runner/playbook"
	"tend/runner/transport"
)

// liveConn is a host's connection as the run holds it. A reboot replaces
// the connection it wraps (swap), so whatever holds the host's connection
// (a become wrapper, a task waiting to be re-checked) follows to the new one.
type liveConn struct {
	mu   sync.Mutex
	conn transport.Conn
}

// current returns the wrapped connection.
func (c *liveConn) current() transport.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn
}

// Run runs cmd on the current connection.
func (c *liveConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	return c.current().Run(ctx, cmd)
}

// Close closes the current connection.
func (c *liveConn) Close() error { return c.current().Close() }

// Unwrap returns the current connection, so modules reach what it offers
// besides Run (uri's dialer) and see what it is (transport.IsLocal).
func (c *liveConn) Unwrap() transport.Conn { return c.current() }

// swap makes fresh the host's connection.
func (c *liveConn) swap(fresh transport.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn = fresh
}

// reconnector is the modules.Reconnect of task t on the host: it closes the
// host's connection, opens a new one with the run's Connector (the same
// known_hosts checks as the first), and returns t's connection on it.
func (hp *hostPlay) reconnector(t *playbook.Task, vars map[string]any) modules.Reconnect {
	return func(ctx context.Context) (transport.Conn, error) {
		lc, ok := hp.s.conn.(*liveConn)
		if !ok {
			return nil, fmt.Errorf("host %s: reconnect: the connection cannot be replaced", hp.s.host.Name)
		}
		_ = lc.Close() // dropped on purpose: the host is going away
		target, err := hp.connHost()
		if err != nil {
			return nil, err
		}
		fresh, err := hp.r.opts.Connector.Connect(ctx, target)
		if err != nil {
			return nil, err
		}
		lc.swap(fresh)
		return hp.delegatedConn(t, vars, nil)
	}
}
