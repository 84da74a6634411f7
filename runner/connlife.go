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
// plays at most --forks finished hosts keep theirs for the next play (a
// handshake saved each); the others close and open a new connection when
// their next play reaches them. A later play that selects the host after all
// (add_host, group_by) opens a new one, as it would for another user.

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

// lastPlays maps each host to the index of the last play that selects it.
func lastPlays(plays [][]*inventory.Host) map[string]int {
	last := map[string]int{}
	for i, hosts := range plays {
		for _, h := range hosts {
			last[h.Name] = i
		}
	}
	return last
}

// dropConn runs when s has finished play (an index into the playbook's
// plays): it closes s's connection unless a later play may select the host
// (one that failed or stopped is out of the run) and fewer than --forks
// connections are kept idle. Only the host's own goroutine uses s.conn
// (delegated tasks have connections of their own), and it has finished the
// play.
func (r *run) dropConn(s *hostState, play int) {
	r.resumeConn(s) // a host stopped before its play started may still hold a place
	if s.conn == nil {
		return
	}
	last, known := r.lastPlay[s.host.Name]
	if !s.dead && (!known || last > play) && r.idle.keep(r.opts.Forks) {
		s.idle = true // a host add_host made, or one a later play selects
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
