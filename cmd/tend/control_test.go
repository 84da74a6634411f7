package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"tend/runner"
)

// runLocked runs `tend run` with a lock file of its own, so that test
// processes running at once never collide on the default lock (one per
// playbook name).
func runLocked(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return tendRun(t, append([]string{"run", "--lock-file", filepath.Join(t.TempDir(), "run.lock")}, args...)...)
}

// localInventory writes an inventory of named hosts that all run on this
// machine over the local connection: the runner's control logic is the
// same whatever carries the commands.
func localInventory(t *testing.T, dir string, names ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("all:\n  hosts:\n")
	for _, n := range names {
		b.WriteString("    " + n + ":\n      ansible_connection: local\n")
	}
	return writeFile(t, dir, "hosts.yml", b.String())
}

// exists lists which of dir/name.suffix exist, for each name.
func exists(dir, suffix string, names ...string) []string {
	var out []string
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n+suffix)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// summaryOf decodes the final summary event.
func summaryOf(t *testing.T, events []event) runner.Summary {
	t.Helper()
	var s runner.Summary
	if err := json.Unmarshal(events[len(events)-1].Data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// eventsOf decodes every event of one kind into a T.
func eventsOf[T any](t *testing.T, events []event, kind string) []T {
	t.Helper()
	var out []T
	for _, e := range events {
		if e.Event == kind {
			var v T
			if err := json.Unmarshal(e.Data, &v); err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
	}
	return out
}

// stampPlay runs task 1 (failing where inventory_hostname is in
// `failing`), then task 2, each leaving a file NAME.t1 / NAME.t2 in dir.
const stampPlay = `
- hosts: all
  %s
  tasks:
    - name: task 1
      shell: touch "{{ dir }}/{{ inventory_hostname }}.t1"
      failed_when: inventory_hostname in failing
    - name: task 2
      shell: touch "{{ dir }}/{{ inventory_hostname }}.t2"
`

func runStampPlay(t *testing.T, controls string, failing []string, hosts ...string) (dir string, events []event, code int) {
	t.Helper()
	dir = t.TempDir()
	inv := localInventory(t, dir, hosts...)
	pb := writeFile(t, dir, "play.yml", strings.Replace(stampPlay, "%s", controls, 1))
	f, _ := json.Marshal(map[string]any{"failing": failing, "dir": dir})
	stdout, _, code := runLocked(t, "-i", inv, "--format", "json", "-e", string(f), pb)
	return dir, parseEvents(t, stdout), code
}

func TestMaxFailPercentageBoundary(t *testing.T) {
	hosts := []string{"h1", "h2", "h3", "h4"}
	t.Run("exactly 25% continues", func(t *testing.T) {
		dir, events, code := runStampPlay(t, "max_fail_percentage: 25", []string{"h1"}, hosts...)
		if code != exitFailed {
			t.Errorf("exit %d, want %d", code, exitFailed)
		}
		if got := exists(dir, ".t2", hosts...); !reflect.DeepEqual(got, []string{"h2", "h3", "h4"}) {
			t.Errorf("task 2 ran on %v, want h2 h3 h4: 1 of 4 failed is not MORE than 25%%", got)
		}
		if s := summaryOf(t, events); len(s.Stopped) > 0 || s.Aborted != "" {
			t.Errorf("stopped %v (%s), want none", s.Stopped, s.Aborted)
		}
	})
	t.Run("50% aborts", func(t *testing.T) {
		dir, events, code := runStampPlay(t, "max_fail_percentage: 25", []string{"h1", "h2"}, hosts...)
		if code != exitFailed {
			t.Errorf("exit %d, want %d", code, exitFailed)
		}
		if got := exists(dir, ".t1", hosts...); len(got) != 4 {
			t.Errorf("task 1 ran on %v, want every host (they run it together)", got)
		}
		if got := exists(dir, ".t2", hosts...); len(got) > 0 {
			t.Errorf("task 2 ran on %v after 2 of 4 hosts failed", got)
		}
		s := summaryOf(t, events)
		if !reflect.DeepEqual(s.Failed, []string{"h1", "h2"}) || !reflect.DeepEqual(s.Stopped, []string{"h3", "h4"}) {
			t.Errorf("failed %v stopped %v, want h1 h2 / h3 h4", s.Failed, s.Stopped)
		}
		if !strings.Contains(s.Aborted, "max_fail_percentage 25% exceeded: 2 of 4 hosts of batch 1 failed") {
			t.Errorf("aborted: %q", s.Aborted)
		}
		for _, st := range eventsOf[runner.HostStop](t, events, "host_stopped") {
			if st.Task != "task 2" {
				t.Errorf("%s stopped before %q, want task 2", st.Host, st.Task)
			}
		}
	})
}

func TestAnyErrorsFatal(t *testing.T) {
	hosts := []string{"h1", "h2", "h3"}
	// Batch 1 is h1 and h2; h1 fails task 1: h2 finishes task 1 and stops,
	// batch 2 (h3) never starts.
	dir, events, code := runStampPlay(t, "any_errors_fatal: true\n  serial: 2", []string{"h1"}, hosts...)
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	batches := eventsOf[runner.BatchStart](t, events, "batch_start")
	if len(batches) != 1 || !reflect.DeepEqual(batches[0].Hosts, []string{"h1", "h2"}) || batches[0].Batches != 2 {
		t.Fatalf("batches started: %+v, want only batch 1/2 of h1 h2", batches)
	}
	if got := exists(dir, ".t1", hosts...); !reflect.DeepEqual(got, []string{"h1", "h2"}) {
		t.Errorf("task 1 ran on %v, want h1 h2", got)
	}
	if got := exists(dir, ".t2", hosts...); len(got) > 0 {
		t.Errorf("task 2 ran on %v after h1 failed with any_errors_fatal", got)
	}
	s := summaryOf(t, events)
	if !reflect.DeepEqual(s.Failed, []string{"h1"}) || !reflect.DeepEqual(s.Stopped, []string{"h2", "h3"}) {
		t.Errorf("failed %v stopped %v, want h1 / h2 h3", s.Failed, s.Stopped)
	}
	if s.Aborted != "any_errors_fatal: h1 failed" {
		t.Errorf("aborted %q", s.Aborted)
	}
}

func TestRetriesUntil(t *testing.T) {
	dir := t.TempDir()
	pb := writeFile(t, dir, "play.yml", `
- hosts: localhost
  tasks:
    - name: third time lucky
      shell: f="{{ dir }}/lucky"; n=$(cat "$f" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$f"; echo $n
      register: r
      until: r.stdout == "3"
      retries: 5
      delay: 0
    - name: attempts registered
      assert:
        that: [r.attempts == 3, r.stdout == "3", not r.failed]
    - name: never
      shell: f="{{ dir }}/never"; n=$(cat "$f" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$f"; echo $n
      register: nv
      until: nv.stdout == "never"
      retries: 2
      delay: 0
      ignore_errors: true
    - name: default retries
      shell: f="{{ dir }}/dflt"; n=$(cat "$f" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$f"
      until: false
      delay: 0
      ignore_errors: true
`)
	stdout, _, code := runLocked(t, "-c", "local", "--format", "json", "-e", "dir="+dir, pb)
	if code != 0 {
		t.Fatalf("exit %d, want 0 (the failures are ignored)", code)
	}
	events := parseEvents(t, stdout)
	lucky := findTask(t, events, "localhost", "third time lucky")
	if lucky.Status != runner.StatusChanged || lucky.Attempts != 3 {
		t.Errorf("third time lucky: %s after %d attempts, want changed after 3", lucky.Status, lucky.Attempts)
	}
	if s := findTask(t, events, "localhost", "attempts registered").Status; s != runner.StatusOK {
		t.Errorf("assert on the registered attempts: %s", s)
	}
	never := findTask(t, events, "localhost", "never")
	if never.Status != runner.StatusFailed || never.Attempts != 3 || !strings.Contains(never.Error, "still false after 3 attempts") {
		t.Errorf("never: %s after %d attempts (%s), want failed after 3 (retries 2)", never.Status, never.Attempts, never.Error)
	}
	for file, want := range map[string]string{"lucky": "3", "never": "3", "dflt": "4"} {
		if b, _ := os.ReadFile(filepath.Join(dir, file)); strings.TrimSpace(string(b)) != want {
			t.Errorf("%s ran %q times, want %s", file, strings.TrimSpace(string(b)), want)
		}
	}
}

func TestRetryFile(t *testing.T) {
	dir := t.TempDir()
	// h1 fails, h2 is unreachable (nothing listens on port 1), h3 is fine.
	inv := writeFile(t, dir, "hosts.yml", `all:
  hosts:
    h1: {ansible_connection: local}
    h2: {ansible_host: 127.0.0.1, ansible_port: 1}
    h3: {ansible_connection: local}
`)
	pb := writeFile(t, dir, "play.yml", "- hosts: all\n  tasks:\n    - command: 'true'\n      failed_when: inventory_hostname == 'h1'\n")
	retry := filepath.Join(dir, "play.retry")
	stdout, _, code := runLocked(t, "-i", inv, "--retry-file", retry, pb)
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	if b, err := os.ReadFile(retry); err != nil || string(b) != "h1\nh2\n" {
		t.Errorf("retry file %q (%v), want \"h1\\nh2\\n\"", b, err)
	}
	for _, want := range []string{"FAILED: h1\n", "UNREACHABLE: h2\n", "to retry these hosts: --limit @" + retry + "\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text recap lacks %q", want)
		}
	}
	// A run where nothing fails leaves an empty list: nothing to retry.
	ok := writeFile(t, dir, "ok.yml", "- hosts: h1,h3\n  tasks:\n    - command: 'true'\n")
	if _, _, code := runLocked(t, "-i", inv, "--retry-file", retry, ok); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if b, _ := os.ReadFile(retry); len(b) != 0 {
		t.Errorf("retry file after a clean run: %q, want empty", b)
	}
}

func TestRetryFileListsStoppedHosts(t *testing.T) {
	_, events, _ := runStampPlay(t, "serial: 1", []string{"h1", "h2", "h3"}, "h1", "h2", "h3")
	s := summaryOf(t, events)
	if !slices.Equal(s.RetryHosts(), []string{"h1", "h2", "h3"}) {
		t.Errorf("retry hosts %v, want the failed h1 and the stopped h2 h3", s.RetryHosts())
	}
}
