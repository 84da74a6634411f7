package runner

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tend/internal/memhost"
	"tend/inventory"
	"tend/runner/playbook"
	"tend/runner/transport"
)

// echoes answers echo with its arguments, as the real command would.
func echoes(_ context.Context, _ *memhost.Host, c transport.Command) (transport.Result, error) {
	return memhost.OK(strings.Join(c.Argv[1:], " ") + "\n"), nil
}

// echoed lists the echo commands h ran, as "echo ARGS".
func echoed(h *memhost.Host) []string {
	var out []string
	for _, c := range h.Calls() {
		if len(c.Argv) > 0 && c.Argv[0] == "echo" {
			out = append(out, strings.Join(c.Argv, " "))
		}
	}
	slices.Sort(out)
	return out
}

// TestEngineDelegateTo: a delegated task runs over the delegate's
// connection (even a host outside the play) with the variables of the
// host it runs for, and says where it ran; a delegate outside the
// inventory fails the task.
func TestEngineDelegateTo(t *testing.T) {
	const ini = "[web]\nweb1\nweb2\n[db]\ndb1 tier=db\n"
	tests := []struct {
		name, task string
		want       map[string][]string // echo commands each memhost ran
		delegate   string              // the Delegate of the results
		failed     string              // an error every web host's task fails with
	}{
		{"inventory host outside the play", `command: "echo {{ inventory_hostname }} {{ tier | default('web') }}"
      delegate_to: db1`, map[string][]string{"db1": {"echo web1 web", "echo web2 web"}}, "db1", ""},
		{"templated delegate", `command: "echo {{ inventory_hostname }}"
      delegate_to: "{{ groups['db'][0] }}"`, map[string][]string{"db1": {"echo web1", "echo web2"}}, "db1", ""},
		{"delegated to itself", `command: "echo {{ inventory_hostname }}"
      delegate_to: "{{ inventory_hostname }}"`, map[string][]string{"web1": {"echo web1"}, "web2": {"echo web2"}}, "", ""},
		{"not in the inventory", `command: echo x
      delegate_to: nowhere`, nil, "", `delegate_to: host "nowhere" is not in the inventory`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet("web1", "web2", "db1")
			f.handle(memhost.Argv("echo"), echoes)
			src := "- hosts: web\n  gather_facts: false\n  tasks:\n    - " + tt.task + "\n      register: out\n"
			_, rec := runOnInv(t, f, ini, src, Options{})
			for _, name := range []string{"web1", "web2", "db1"} {
				if got := echoed(f.hosts[name]); !slices.Equal(got, tt.want[name]) {
					t.Errorf("%s ran %q, want %q", name, got, tt.want[name])
				}
			}
			for _, r := range rec.results {
				if r.Delegate != tt.delegate {
					t.Errorf("%s: delegated to %q, want %q", r.Host, r.Delegate, tt.delegate)
				}
				if tt.failed != "" && (r.Status != StatusFailed || !strings.Contains(r.Error, tt.failed)) {
					t.Errorf("%s: %s %q, want failed with %q", r.Host, r.Status, r.Error, tt.failed)
				}
			}
		})
	}
}

// TestEngineDelegateUnreachable: a delegate that cannot be reached makes
// the host it ran for unreachable, as Ansible reports it.
func TestEngineDelegateUnreachable(t *testing.T) {
	f := newFleet("web1", "db1")
	f.down["db1"] = true
	sum, _ := runOnInv(t, f, "[web]\nweb1\n[db]\ndb1\n", `- hosts: web
  gather_facts: false
  tasks:
    - command: echo x
      delegate_to: db1
`, Options{})
	for _, h := range sum.Hosts {
		if h.Host == "web1" && h.Unreachable != 1 {
			t.Errorf("web1 recap %+v, want unreachable", h)
		}
	}
}

// TestEngineRunOnce: one host of the batch runs the task and counts it;
// every host gets its registered result; a failure there stops the
// others, as Ansible fails the whole batch.
func TestEngineRunOnce(t *testing.T) {
	f := newFleet("h1", "h2", "h3")
	f.handle(memhost.Argv("echo"), echoes)
	sum, rec := runOn(t, f, `- hosts: all
  gather_facts: false
  tasks:
    - command: "echo {{ inventory_hostname }}"
      run_once: true
      register: once
    - set_fact: {seen: "{{ once.stdout }}"}
    - command: "echo {{ seen }} on {{ inventory_hostname }}"
`, Options{})
	ran, runner := 0, ""
	for _, name := range []string{"h1", "h2", "h3"} {
		for _, c := range echoed(f.hosts[name]) {
			if c == "echo "+name {
				ran++
				runner = name
			}
		}
	}
	if ran != 1 {
		t.Fatalf("the run_once task ran %d times, want once", ran)
	}
	changed := 0
	for _, name := range []string{"h1", "h2", "h3"} {
		want := "echo " + runner + " on " + name
		if !slices.Contains(echoed(f.hosts[name]), want) {
			t.Errorf("%s ran %q, want %q (the registered result of %s)", name, echoed(f.hosts[name]), want, runner)
		}
		r := recapOf(sum, name)
		changed += r[1]
		if r[0] != 1 || r[2] != 0 {
			t.Errorf("%s recap ok/changed/failed/skipped %v", name, r)
		}
	}
	if changed != 4 { // the run_once task once, the last task on each host
		t.Errorf("changed %d in all, want 4", changed)
	}
	if n := len(rec.results); n != 7 { // run_once 1, set_fact 3, command 3
		t.Errorf("%d results, want 7: the run_once task reported once", n)
	}

	f = newFleet("h1", "h2", "h3")
	f.handle(memhost.Argv("false"), exits(1))
	sum, _ = runOn(t, f, `- hosts: all
  gather_facts: false
  tasks:
    - command: "false"
      run_once: true
    - debug: {msg: after}
`, Options{})
	failed, stopped := 0, 0
	for _, h := range sum.Hosts {
		failed += h.Failed
		if h.Stopped {
			stopped++
		}
		if h.OK != 0 {
			t.Errorf("%s went on after the run_once task failed: %+v", h.Host, h)
		}
	}
	if failed != 1 || stopped != 2 {
		t.Errorf("failed %d, stopped %d; want 1 host failed, 2 stopped", failed, stopped)
	}
}

// TestDelegatedLocalBecome: delegated to localhost (this machine, through
// real sudo), a task becomes another user only when it asks itself; the
// play's or the command line's become does not reach the controller.
func TestDelegatedLocalBecome(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: sudo would ask this user for a password")
	}
	if _, err := exec.LookPath("sudo"); err != nil {
		t.Fatal("sudo is not installed (apt-get install -y sudo, as scripts/test.sh does)")
	}
	yes := true
	local := &delegation{name: "localhost", conn: transport.Local(), local: true}
	for _, tc := range []struct {
		name string
		cli  BecomeOptions
		play playbook.Play
		task playbook.Task
		d    *delegation
		want string
	}{
		{"play become does not reach localhost", BecomeOptions{}, playbook.Play{Become: &yes, BecomeUser: "nobody"}, playbook.Task{}, local, "root"},
		{"-b does not reach localhost", BecomeOptions{Become: true, User: "nobody"}, playbook.Play{}, playbook.Task{}, local, "root"},
		{"the task asks", BecomeOptions{}, playbook.Play{BecomeUser: "daemon"}, playbook.Task{Become: &yes, BecomeUser: "nobody"}, local, "nobody"},
		{"an inventory delegate keeps the play's", BecomeOptions{}, playbook.Play{Become: &yes, BecomeUser: "nobody"}, playbook.Task{},
			&delegation{name: "other", conn: transport.Local()}, "nobody"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hp := &hostPlay{r: &run{opts: Options{Become: tc.cli}}, play: &tc.play,
				s: &hostState{host: &inventory.Host{Name: "remote"}, conn: memhost.New("remote")}}
			conn, err := hp.delegatedConn(&tc.task, nil, tc.d)
			if err != nil {
				t.Fatal(err)
			}
			res, err := conn.Run(context.Background(), transport.Command{Argv: []string{"whoami"}})
			if err != nil || strings.TrimSpace(string(res.Stdout)) != tc.want {
				t.Errorf("whoami: %q %q, %v; want %s", res.Stdout, res.Stderr, err, tc.want)
			}
		})
	}
}

// TestEngineThrottle: with throttle: 2, at most two hosts run the task at
// once. Each command waits (a bounded while) for a third to join it:
// without the bound, four hosts would reach three at once. A templated
// throttle is rendered per host, as Ansible's strategy renders it.
func TestEngineThrottle(t *testing.T) {
	for _, throttle := range []string{"2", `"{{ n }}"`, `"{{ '2' if n > 1 else 4 }}"`} {
		t.Run(throttle, func(t *testing.T) {
			var mu sync.Mutex
			cond := sync.NewCond(&mu)
			inflight, most := 0, 0
			f := newFleet("h1", "h2", "h3", "h4")
			f.handle(memhost.Argv("work"), func(context.Context, *memhost.Host, transport.Command) (transport.Result, error) {
				mu.Lock()
				inflight++
				most = max(most, inflight)
				cond.Broadcast()
				deadline := time.AfterFunc(300*time.Millisecond, func() { mu.Lock(); cond.Broadcast(); mu.Unlock() })
				start := time.Now()
				for inflight < 3 && time.Since(start) < 300*time.Millisecond {
					cond.Wait()
				}
				deadline.Stop()
				inflight--
				mu.Unlock()
				return memhost.OK("done\n"), nil
			})
			sum, _ := runOn(t, f, `- hosts: all
  gather_facts: false
  vars: {n: 2}
  tasks:
    - command: work
      throttle: `+throttle+"\n", Options{Forks: 4})
			if most > 2 {
				t.Errorf("%d hosts ran the task at once, want at most 2", most)
			}
			for _, h := range sum.Hosts {
				if h.Changed != 1 {
					t.Errorf("%s: %+v", h.Host, h)
				}
			}
		})
	}
}

// TestEngineThrottleBad: a throttle that renders to no integer fails the
// host's task, naming the keyword; nothing runs.
func TestEngineThrottleBad(t *testing.T) {
	f := newFleet("h1")
	f.handle(memhost.Argv("work"), echoes)
	sum, rec := runOn(t, f, "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: work\n      throttle: \"{{ 'many' }}\"\n", Options{})
	if h := sum.Hosts[0]; h.Failed != 1 || len(echoed(f.hosts["h1"])) != 0 {
		t.Errorf("recap %+v, ran %q; want the task failed, nothing run", h, echoed(f.hosts["h1"]))
	}
	if len(rec.results) != 1 || rec.results[0].Error != `play.yml:5:17: throttle: "many" is not an integer` {
		t.Errorf("results %+v, want the task failed naming throttle", rec.results)
	}
}

// TestEngineIgnoreUnreachable: a host lost during a task with
// ignore_unreachable goes on, registers unreachable: true and counts
// ignored, as ansible-playbook 2.14; without it the host is unreachable.
func TestEngineIgnoreUnreachable(t *testing.T) {
	for _, ignore := range []bool{true, false} {
		f := newFleet("h1")
		f.handle(memhost.Argv("gone"), func(_ context.Context, h *memhost.Host, _ transport.Command) (transport.Result, error) {
			return transport.Result{}, h.Unreachable("connection reset")
		})
		f.handle(memhost.Argv("echo"), echoes)
		src := "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: gone\n      register: r\n"
		if ignore {
			src += "      ignore_unreachable: true\n"
		}
		src += "    - command: \"echo {{ 'yes' if r.unreachable else 'no' }}\"\n"
		sum, _ := runOn(t, f, src, Options{})
		h := sum.Hosts[0]
		ran := echoed(f.hosts["h1"])
		if ignore && (h.Ignored != 1 || h.Unreachable != 0 || h.Changed != 1 || !slices.Equal(ran, []string{"echo yes"})) {
			t.Errorf("ignore_unreachable: recap %+v, ran %q; want ignored=1, the next task run with r.unreachable", h, ran)
		}
		if !ignore && (h.Unreachable != 1 || len(ran) != 0) {
			t.Errorf("without ignore_unreachable: recap %+v, ran %q; want unreachable, nothing after", h, ran)
		}
	}
}

// TestEngineBlockRunOnce: a block's run_once makes each task inside run
// once (every host goes through the block), not the block as a whole.
func TestEngineBlockRunOnce(t *testing.T) {
	f := newFleet("h1", "h2", "h3")
	f.handle(memhost.Argv("echo"), echoes)
	sum, _ := runOn(t, f, `- hosts: all
  gather_facts: false
  tasks:
    - block:
        - command: echo one
        - command: echo two
          run_once: false
      run_once: true
`, Options{})
	ones, twos := 0, 0
	for _, h := range f.hosts {
		for _, c := range echoed(h) {
			switch c {
			case "echo one":
				ones++
			case "echo two":
				twos++
			}
		}
	}
	if ones != 1 || twos != 3 {
		t.Errorf("echo one ran %d times, echo two %d; want 1 and 3 (%+v)", ones, twos, sum.Hosts)
	}
}
