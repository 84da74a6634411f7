package runner

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"tend/inventory"
	"tend/runner/playbook"
	"tend/runner/transport"
)

// TestTaskConnPrecedence runs whoami through the connection taskConn picks,
// locally through real sudo: variables > task > play > command line.
func TestTaskConnPrecedence(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: sudo would ask this user for a password")
	}
	if _, err := exec.LookPath("sudo"); err != nil {
		t.Fatal("sudo is not installed (apt-get install -y sudo, as scripts/test.sh does)")
	}
	yes, no := true, false
	for _, tc := range []struct {
		name string
		cli  BecomeOptions
		play playbook.Play
		task playbook.Task
		vars map[string]any
		want string
	}{
		{"nothing", BecomeOptions{}, playbook.Play{}, playbook.Task{}, nil, "root"},
		{"cli", BecomeOptions{Become: true, User: "nobody"}, playbook.Play{}, playbook.Task{}, nil, "nobody"},
		{"play user over cli", BecomeOptions{Become: true, User: "nobody"}, playbook.Play{BecomeUser: "daemon"}, playbook.Task{}, nil, "daemon"},
		{"task off over play on", BecomeOptions{}, playbook.Play{Become: &yes, BecomeUser: "daemon"}, playbook.Task{Become: &no}, nil, "root"},
		{"task user over play user", BecomeOptions{}, playbook.Play{Become: &yes, BecomeUser: "daemon"}, playbook.Task{BecomeUser: "nobody"}, nil, "nobody"},
		{"variables over keywords", BecomeOptions{}, playbook.Play{Become: &no}, playbook.Task{BecomeUser: "daemon"},
			map[string]any{"ansible_become": "yes", "ansible_become_user": "{{ who }}", "who": "nobody"}, "nobody"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hp := &hostPlay{r: &run{opts: Options{Become: tc.cli}}, play: &tc.play,
				s: &hostState{host: &inventory.Host{Name: "local"}, conn: transport.Local()}}
			conn, err := hp.taskConn(&tc.task, tc.vars)
			if err != nil {
				t.Fatal(err)
			}
			res, err := conn.Run(context.Background(), transport.Command{Argv: []string{"whoami"}})
			if err != nil || strings.TrimSpace(string(res.Stdout)) != tc.want {
				t.Errorf("whoami: %q %q, %v; want %s", res.Stdout, res.Stderr, err, tc.want)
			}
		})
	}
	hp := &hostPlay{r: &run{}, play: &playbook.Play{}, s: &hostState{conn: transport.Local()}}
	if _, err := hp.taskConn(&playbook.Task{}, map[string]any{"ansible_become": "maybe"}); err == nil {
		t.Error("ansible_become: maybe was accepted")
	}
}

// fakeSudo answers every command as sudo does for a wrong password: its
// prompt twice, then exit 1. It counts the commands.
type fakeSudo struct{ calls int }

func (f *fakeSudo) Run(_ context.Context, cmd transport.Command) (transport.Result, error) {
	f.calls++
	prompt := cmd.Argv[slices.Index(cmd.Argv, "-p")+1]
	stderr := prompt + "Sorry, try again.\n" + prompt + "\nsudo: 1 incorrect password attempt\n"
	cmd.StderrTap.Write([]byte(stderr))
	return transport.Result{ExitCode: 1, Stderr: []byte(stderr)}, nil
}

func (f *fakeSudo) Close() error { return nil }

// TestWrongBecomePasswordTriedOncePerHost: after sudo rejected the
// password, later tasks of the host fail without running sudo again.
func TestWrongBecomePasswordTriedOncePerHost(t *testing.T) {
	fake := &fakeSudo{}
	yes := true
	hp := &hostPlay{r: &run{}, play: &playbook.Play{Become: &yes}, s: &hostState{conn: fake}}
	vars := map[string]any{"ansible_become_password": "wrong-pw"}
	for i := range 3 {
		conn, err := hp.taskConn(&playbook.Task{}, vars)
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.Run(context.Background(), transport.Command{Argv: []string{"true"}})
		if !errors.Is(err, transport.ErrIncorrectBecomePassword) {
			t.Fatalf("run %d: %v; want incorrect become password", i+1, err)
		}
	}
	if fake.calls != 1 {
		t.Errorf("sudo ran %d times, want once", fake.calls)
	}
	// Another password is another configuration: it is tried.
	conn, _ := hp.taskConn(&playbook.Task{}, map[string]any{"ansible_become_password": "other-pw"})
	conn.Run(context.Background(), transport.Command{Argv: []string{"true"}})
	if fake.calls != 2 {
		t.Errorf("a different password was not tried (%d calls)", fake.calls)
	}
}
