package runner

import (
	"sync"

	"tend/inventory"
)

// A host's connection lives as long as a play still needs it, not as long as
// the run: at 1,000 hosts and --forks 200 the run would otherwise hold 1,000
// SSH connections (each with its remote shell, cipher and channel buffers and
// goroutines, ~0.1-0.3 MiB here) while only 200 hosts work. Once a host
// finishes the last play that selects it, its connection is closed. Between
// plays a finished host keeps its connection only when the next play starts
// with it — it is among the next play's first batch and the first --forks
// hosts of that batch, who start at once — so a handshake is saved where it
// is needed at once; the others close and open a new connection when their
// next play reaches them (a serial play reaches most hosts minutes later, and
// 800 idle connections would cost more memory than the handshakes they save).
// At most --forks connections are idle at any time. A later play that selects
// the host after all (add_host, group_by) opens a new one, as it would for
// another user.

// idleConns counts the connections kept open between plays.
type idleConns struct {
	mu   sync.Mutex
	kept int
}

// keep takes a place for one more idle connection, if fewer than limit are kept.
func (c *idleConns) keep(limit int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kept >= limit {
		return false
	}
	c.kept++
	return true
}

// release gives a place back: the connection works again, or closed.
func (c *idleConns) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kept--
}

// connPlan is what dropConn needs to know of the plays ahead, worked out
// once before the first play: per host the last play that selects it, and
// per play the hosts it starts with.
type connPlan struct {
	// last maps each host to the index of the last play that selects it.
	last map[string]int
	// starts holds, per play, the hosts that play starts at once: its first
	// batch's first --forks hosts.
	starts []map[string]bool
}

// planConns works out the connPlan of plays (each play's hosts, in order)
// with their serial sizes and forks.
func planConns(plays [][]*inventory.Host, sizes [][]string, forks int) connPlan {
	c := connPlan{last: map[string]int{}, starts: make([]map[string]bool, len(plays))}
	for i, hosts := range plays {
		first := len(hosts)
		if len(sizes[i]) > 0 {
			first = min(first, batchSize(sizes[i][0], len(hosts)))
		}
		c.starts[i] = map[string]bool{}
		for j, h := range hosts {
			c.last[h.Name] = i
			if j < min(first, forks) {
				c.starts[i][h.Name] = true
			}
		}
	}
	return c
}

// keepFor reports whether host, having finished play, should keep its
// connection for the next play: that play starts with it, or the host is one
// the plan does not know (add_host made it; a later play may select it).
func (c connPlan) keepFor(host string, play int) bool {
	last, known := c.last[host]
	if !known {
		return true
	}
	return last > play && play+1 < len(c.starts) && c.starts[play+1][host]
}

// dropConn runs when s has finished play (an index into the playbook's
// plays): it closes s's connection unless the next play starts with the host
// (connPlan.keepFor; one that failed or stopped is out of the run) and fewer
// than --forks connections are kept idle. Only the host's own goroutine uses s.conn
// (delegated tasks have connections of their own), and it has finished the
// play.
func (r *run) dropConn(s *hostState, play int) {
	r.resumeConn(s) // a host stopped before its play started may still hold a place
	if s.conn == nil {
		return
	}
	if !s.dead && r.connPlan.keepFor(s.host.Name, play) && r.idle.keep(r.opts.Forks) {
		s.idle = true
		return
	}
	_ = s.conn.Close()
	s.conn, s.connUser = nil, ""
	r.delegated.closePrefix(taskUserKey(s.host.Name)) // remoteuser.go: its tasks' other logins
}

// resumeConn marks s's kept connection as working again (its next play
// started), freeing its idle place.
func (r *run) resumeConn(s *hostState) {
	if s.idle {
		s.idle = false
		r.idle.release()
	}
}
