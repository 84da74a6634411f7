package runner

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"tend/inventory"
	"tend/runner/modules"
	"tend/runner/playbook"
	"tend/runner/transport"
)

// prePostPlay notifies one handler from pre_tasks, tasks and post_tasks.
const prePostPlay = `- hosts: all
  gather_facts: false
  tags: [fix]
  handlers:
    - name: h
      memfile: {path: /h, content: x}
  post_tasks:
    - name: post
      memfile: {path: /post, content: x}
      notify: h
      tags: late
  tasks:
    - name: main
      memfile: {path: /main, content: x}
      notify: h
  pre_tasks:
    - name: pre
      memfile: {path: /pre, content: x}
      tags: early
      notify: h
`

// TestEnginePrePostTasks: pre_tasks run first and their notified handlers
// run before the tasks; the tasks' run before post_tasks; post_tasks'
// at the end (Ansible's order). Play tags reach every task, and the
// implicit flushes stay whatever --tags selects.
func TestEnginePrePostTasks(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"all", Options{}, "task:pre handler:h task:main handler:h task:post handler:h"},
		{"tags late: the flush still runs", Options{Tags: []string{"late"}}, "task:post handler:h"},
		{"pre and post only: both flushes", Options{Tags: []string{"early", "late"}}, "task:pre handler:h task:post handler:h"},
		{"play tag selects all", Options{Tags: []string{"fix"}}, "task:pre handler:h task:main handler:h task:post handler:h"},
		{"skip play tag: nothing", Options{SkipTags: []string{"fix"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet("h1")
			sum, rec := runOn(t, f, prePostPlay, tt.opts)
			if sum.Err() != nil {
				t.Fatal(sum.Err())
			}
			var order []string
			for _, r := range rec.results {
				if r.Phase == PhaseTask || r.Phase == PhaseHandler {
					order = append(order, string(r.Phase)+":"+r.Task)
				}
			}
			if got := strings.Join(order, " "); got != tt.want {
				t.Errorf("order %q, want %q", got, tt.want)
			}
			if tt.want == "" && len(rec.dones) > 0 {
				t.Errorf("nothing selected, yet the host was contacted: %+v", rec.dones)
			}
		})
	}
}

// userLog is a Connector over a fleet that records the SSH user each
// Connect was asked for ("-" for none).
type userLog struct {
	*fleet
	mu     sync.Mutex
	users  []string
	closed []string
}

func (u *userLog) Connect(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
	who := h.Name + ":" + cmp.Or(h.User(), "-")
	u.mu.Lock()
	u.users = append(u.users, who)
	u.mu.Unlock()
	c, err := u.fleet.Connect(ctx, h)
	if err != nil {
		return nil, err
	}
	return &loggedConn{Conn: c, close: func() { u.mu.Lock(); u.closed = append(u.closed, who); u.mu.Unlock() }}, nil
}

// loggedConn records its Close and leaves the in-memory host open for the
// next connection to it.
type loggedConn struct {
	transport.Conn
	close func()
}

func (c *loggedConn) Close() error { c.close(); return nil }

// TestEngineRemoteUser: a play's remote_user is the SSH user of hosts
// whose inventory gives no ansible_user (which wins, as in Ansible); a
// later play with another user opens a new connection, one with the same
// user reuses it.
func TestEngineRemoteUser(t *testing.T) {
	registerMemfile()
	src := `- hosts: all
  gather_facts: false
  remote_user: deploy
  tasks:
    - memfile: {path: /a, content: x}
- hosts: all
  gather_facts: false
  remote_user: deploy
  tasks:
    - memfile: {path: /b, content: x}
- hosts: all
  gather_facts: false
  tasks:
    - memfile: {path: /c, content: x}
`
	pb, err := playbook.Parse("play.yml", []byte(src), playbook.ParseOptions{Modules: modules.Names()})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load("h1,h2,")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := inv.Host("h2")
	h2.Vars["ansible_user"] = "ops"
	conn := &userLog{fleet: newFleet("h1", "h2")}
	// Forks 2: both hosts keep their connections between plays (at most
	// --forks are kept idle: connlife.go).
	sum, err := Run(context.Background(), pb, inv, Options{Connector: conn, Observer: &recorder{}, Forks: 2})
	if err != nil || sum.Err() != nil {
		t.Fatal(err, sum.Err())
	}
	want := []string{"h1:-", "h1:deploy", "h2:ops"}
	slices.Sort(conn.users)
	if !slices.Equal(conn.users, want) {
		t.Errorf("connects %v, want %v", conn.users, want)
	}
	if !slices.Contains(conn.closed, "h1:deploy") || len(conn.closed) != 3 {
		t.Errorf("closed %v, want h1:deploy (replaced) and then every host's at the end", conn.closed)
	}
}
