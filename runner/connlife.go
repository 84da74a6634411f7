package runner

import (
	"tend/inventory"
)

// A host's connection lives as long as a play still needs it, not as long as
// the run: at 1,000 hosts and --forks 200 the run would otherwise hold 1,000
// SSH connections (each with its remote shell, buffers and goroutines) while
// only 200 hosts work. Once a host finishes the last play that selects it,
// its connection is closed. A later play that selects the host after all
// (add_host, group_by) opens a new one, as it would for another user.

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

// dropConn closes s's connection when no play after play (an index into
// the playbook's plays) selects the host. Only the host's own goroutine
// uses s.conn (delegated tasks have connections of their own), and it has
// finished the play.
func (r *run) dropConn(s *hostState, play int) {
	last, known := r.lastPlay[s.host.Name]
	if !known || last > play || s.conn == nil {
		return // a host add_host made, or one a later play needs
	}
	_ = s.conn.Close()
	s.conn, s.connUser = nil, ""
	r.delegated.closePrefix(taskUserKey(s.host.Name)) // remoteuser.go: its tasks' other logins
}
