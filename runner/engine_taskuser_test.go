package runner

import (
	"cmp"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"tend/inventory"
	"tend/runner/modules"
	"tend/runner/playbook"
	"tend/runner/transport"
)

// whoLog is a Connector over a fleet whose connections record, for each
// command run, the host and the SSH user the connection logged in as.
type whoLog struct {
	*fleet
	mu     sync.Mutex
	runs   []string // "host:user:argv[0]"
	opened []string // "host:user" of each connection opened, then closed
	closed []string
	atLast []string // closed when stepLast ran
}

func (w *whoLog) Connect(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
	c, err := w.fleet.Connect(ctx, h)
	if err != nil {
		return nil, err
	}
	who := h.Name + ":" + cmp.Or(h.User(), "-")
	w.mu.Lock()
	w.opened = append(w.opened, who)
	w.mu.Unlock()
	return &whoConn{Conn: c, log: w, who: who}, nil
}

type whoConn struct {
	transport.Conn
	log *whoLog
	who string
}

func (c *whoConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if len(cmd.Argv) > 0 && strings.HasPrefix(cmd.Argv[0], "step") {
		c.log.mu.Lock()
		c.log.runs = append(c.log.runs, c.who+":"+cmd.Argv[0])
		if cmd.Argv[0] == "stepLast" {
			c.log.atLast = slices.Clone(c.log.closed)
		}
		c.log.mu.Unlock()
	}
	return c.Conn.Run(ctx, cmd)
}

func (c *whoConn) Close() error {
	c.log.mu.Lock()
	c.log.closed = append(c.log.closed, c.who)
	c.log.mu.Unlock()
	return nil
}

// TestEngineTaskRemoteUser: a task's remote_user (or its block's) logs in
// to the host as that user for that task only, as Ansible's play context
// takes the task keyword over the play's; the inventory's ansible_user
// still wins; a template is rendered per host; a delegated task logs in
// to its delegate as the task's remote_user; one that renders to no user
// name fails the host, positioned.
func TestEngineTaskRemoteUser(t *testing.T) {
	const src = `- hosts: all
  gather_facts: false
  remote_user: deploy
  tasks:
    - command: stepA
    - command: stepB
      remote_user: "{{ who }}"
    - block:
        - command: stepC
        - command: stepD
          remote_user: root
      remote_user: ops
    - command: stepE
      remote_user: ops
      delegate_to: h3
    - command: stepF
`
	tests := []struct {
		name   string
		hosts  string // inventory lines
		want   []string
		failed string // the error of h1's failure, if it must fail
	}{
		{"task and block users", "h1 who=alice\nh3\n", []string{
			"h1:deploy:stepA", "h1:alice:stepB", "h1:ops:stepC", "h1:root:stepD", "h3:ops:stepE", "h1:deploy:stepF",
		}, ""},
		{"the inventory's ansible_user wins", "h1 who=alice ansible_user=admin\nh3 ansible_user=h3admin\n", []string{
			"h1:admin:stepA", "h1:admin:stepB", "h1:admin:stepC", "h1:admin:stepD", "h3:h3admin:stepE", "h1:admin:stepF",
		}, ""},
		{"a template that is no user name", "h1 who='a b'\nh3\n", []string{"h1:deploy:stepA"},
			`play.yml:7:20: remote_user: "{{ who }}": "a b" is not a user name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			registerMemfile()
			pb, err := playbook.Parse("play.yml", []byte(src), playbook.ParseOptions{Modules: modules.Names(), Check: Validate})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "hosts")
			if err := os.WriteFile(path, []byte("[web]\n"+tt.hosts), 0o600); err != nil {
				t.Fatal(err)
			}
			inv, err := inventory.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			f := newFleet("h1", "h3")
			for _, step := range []string{"stepA", "stepB", "stepC", "stepD", "stepE", "stepF"} {
				failOn(f, step)
			}
			w := &whoLog{fleet: f}
			rec := &recorder{}
			pb.Plays[0].Hosts = "h1"
			sum, err := Run(context.Background(), pb, inv, Options{Connector: w, Observer: rec, Forks: 1})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(w.runs, tt.want) {
				t.Errorf("ran %q\nwant %q", w.runs, tt.want)
			}
			slices.Sort(w.opened)
			slices.Sort(w.closed)
			if !slices.Equal(w.opened, w.closed) {
				t.Errorf("opened %q, closed %q: every login the run opened must be closed", w.opened, w.closed)
			}
			switch err := sum.Err(); {
			case tt.failed == "" && err != nil:
				t.Error(err)
			case tt.failed != "" && (err == nil || !strings.Contains(err.Error(), tt.failed)):
				t.Errorf("error %v, want %q", err, tt.failed)
			}
			var delegated []string // a task's own remote_user is not a delegation
			for _, r := range rec.results {
				if r.Delegate != "" {
					delegated = append(delegated, r.Delegate)
				}
			}
			if want := map[bool][]string{true: {"h3"}}[tt.failed == ""]; !slices.Equal(delegated, want) {
				t.Errorf("reported delegated to %q, want %q", delegated, want)
			}
		})
	}
}

// TestEngineTaskUserConnClosedWithHost: a host's task remote_user logins
// close with its own connection, once it has finished the last play that
// selects it (connlife.go), not at the end of the run.
func TestEngineTaskUserConnClosedWithHost(t *testing.T) {
	registerMemfile()
	src := `- hosts: h1
  gather_facts: false
  tasks:
    - command: stepA
      remote_user: alice
- hosts: h3
  gather_facts: false
  tasks:
    - command: stepLast
`
	pb, err := playbook.Parse("play.yml", []byte(src), playbook.ParseOptions{Modules: modules.Names(), Check: Validate})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load("h1,h3,")
	if err != nil {
		t.Fatal(err)
	}
	f := newFleet("h1", "h3")
	failOn(f, "stepA")
	failOn(f, "stepLast")
	w := &whoLog{fleet: f}
	sum, err := Run(context.Background(), pb, inv, Options{Connector: w, Observer: &recorder{}, Forks: 1})
	if err != nil || sum.Err() != nil {
		t.Fatal(err, sum.Err())
	}
	if !slices.Contains(w.atLast, "h1:alice") || !slices.Contains(w.atLast, "h1:-") {
		t.Errorf("closed before the last play: %q, want h1's logins (h1:-, h1:alice)", w.atLast)
	}
}
