package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tend/internal/lab"
)

// asyncPlay runs the async shapes of Ansible playbooks on real hosts:
// poll > 0, poll 0 then async_status until finished, a job polled past
// its limit, and a job that outlives the SSH connection dropping.
const asyncPlay = `
- hosts: all
  gather_facts: false
  vars:
    secret: "pa ss'word"
  tasks:
    - name: polled
      shell: 'echo "got {{ secret }}"; echo warn >&2'
      async: 30
      poll: 1
      register: polled
    - name: fire
      command: sleep 2
      async: 60
      poll: 0
      register: fired
    - name: wait
      async_status:
        jid: "{{ fired.ansible_job_id }}"
      register: job
      until: job.finished
      retries: 30
      delay: 1
    - name: clean
      async_status:
        jid: "{{ fired.ansible_job_id }}"
        mode: cleanup
    - name: too slow
      command: sleep 30
      async: 2
      poll: 1
      register: slow
      ignore_errors: true
    - name: survives
      shell: 'sleep 1; touch "{{ mark }}"; sleep 4; echo survived'
      async: 60
      poll: 1
      register: survived
    - name: registered
      assert:
        that:
          - polled.stdout == "got " + secret
          - polled.stderr == "warn"
          - polled.finished == 1
          - fired.started == 1 and fired.finished == 0
          - job.rc == 0 and job.finished == 1
          - slow.msg == "async task did not complete within the requested time - 2s"
          - survived.stdout == "survived"
`

// untilFile waits for path to exist (at most a minute), then runs f.
func untilFile(path string, f func()) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 1200; i++ {
			if _, err := os.Stat(path); err == nil {
				f()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return done
}

// TestAsyncLab runs asyncPlay on a lab host; while the last job runs, the
// host's SSH sessions are killed: the job goes on and is polled over a
// new connection. A dry run fails the async tasks, as Ansible 2.14's does.
func TestAsyncLab(t *testing.T) {
	l := lab.New(t, 1)
	h := l.Hosts[0]
	inv := l.WriteInventory(t)
	mark := filepath.Join(t.TempDir(), "started")
	pb := writeFile(t, t.TempDir(), "play.yml", asyncPlay)

	done := untilFile(mark, func() { h.KillSessions(t) }) // drop the connection once the last job has started
	stdout, _, code := runLocked(t, "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json", "-e", "mark="+mark, pb)
	<-done
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	events := parseEvents(t, stdout)
	for task, want := range map[string]string{"polled": "changed", "fire": "changed", "wait": "changed", "clean": "ok",
		"too slow": "failed", "survives": "changed", "registered": "ok"} {
		if r := findTask(t, events, h.Name, task); string(r.Status) != want {
			t.Errorf("%s: %s (%s), want %s", task, r.Status, r.Error, want)
		}
	}
	if r := findTask(t, events, h.Name, "too slow"); !r.Ignored || r.Error != "async task did not complete within the requested time - 2s" {
		t.Errorf("too slow: ignored=%v %q", r.Ignored, r.Error)
	}
	sum := summaryOf(t, events)
	if rc := sum.Hosts[0]; rc.Changed != 4 || rc.Failed != 0 || rc.Unreachable != 0 {
		t.Errorf("recap %+v", rc)
	}

	t.Run("check", func(t *testing.T) {
		stdout, _, code := runLocked(t, "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json", "--check", "-e", "mark="+mark, pb)
		if code == 0 {
			t.Errorf("exit 0, want the async task to fail in check mode")
		}
		if r := findTask(t, parseEvents(t, stdout), h.Name, "polled"); r.Status != "failed" || !strings.Contains(r.Error, "check mode and async cannot be used on same task.") {
			t.Errorf("polled in check mode: %s %q", r.Status, r.Error)
		}
	})
}

// waitConnPlay waits for the connection between two commands.
const waitConnPlay = `
- hosts: all
  gather_facts: false
  tasks:
    - name: before
      shell: 'touch "{{ mark }}"; sleep 1'
    - name: wait
      wait_for_connection:
        sleep: 1
        timeout: "{{ wait }}"
        connect_timeout: 2
      register: w
    - name: after
      shell: 'touch "{{ mark }}.after"; echo "{{ w.elapsed }}"'
`

// TestWaitForConnectionLab stops a lab host's sshd (its open session
// lives on) while a play runs: wait_for_connection waits for a new
// connection, so the next task runs only once sshd is started again. With
// sshd kept down, it fails with Ansible's message at its timeout; in check
// mode it is skipped.
func TestWaitForConnectionLab(t *testing.T) {
	l := lab.New(t, 1)
	h := l.Hosts[0]
	inv := l.WriteInventory(t)
	pb := writeFile(t, t.TempDir(), "play.yml", waitConnPlay)
	mark := filepath.Join(t.TempDir(), "before")

	var ranEarly bool
	done := untilFile(mark, func() {
		h.StopSSHD(t)
		time.Sleep(4 * time.Second) // the run must not go on meanwhile
		_, err := os.Stat(mark + ".after")
		ranEarly = err == nil
		h.StartSSHD(t)
	})
	stdout, _, code := runLocked(t, "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json", "-e", "mark="+mark, "-e", "wait=120", pb)
	<-done
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	if ranEarly {
		t.Errorf("the task after wait_for_connection ran while sshd was stopped: it did not wait for a new connection")
	}
	events := parseEvents(t, stdout)
	if r := findTask(t, events, h.Name, "wait"); r.Status != "ok" {
		t.Errorf("wait: %s %s", r.Status, r.Error)
	}
	if r := findTask(t, events, h.Name, "after"); r.Status != "changed" {
		t.Errorf("after: %s %s", r.Status, r.Error)
	}

	t.Run("timeout", func(t *testing.T) {
		os.Remove(mark)
		stopped := untilFile(mark, func() { h.StopSSHD(t) })
		stdout, _, code := runLocked(t, "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json", "-e", "mark="+mark, "-e", "wait=3", pb)
		<-stopped
		h.StartSSHD(t)
		if code == 0 {
			t.Errorf("exit 0 with sshd stopped")
		}
		if r := findTask(t, parseEvents(t, stdout), h.Name, "wait"); r.Status != "failed" || !strings.Contains(r.Error, "timed out waiting for ping module test: ") {
			t.Errorf("wait with sshd stopped: %s %q", r.Status, r.Error)
		}
	})

	t.Run("check", func(t *testing.T) {
		stdout, _, _ := runLocked(t, "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json", "--check", "-e", "mark="+mark, "-e", "wait=2", pb)
		if r := findTask(t, parseEvents(t, stdout), h.Name, "wait"); r.Status != "skipped" {
			t.Errorf("wait in check mode: %s %s", r.Status, r.Error)
		}
	})
}
