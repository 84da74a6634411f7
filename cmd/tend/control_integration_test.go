package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"tend/internal/lab"
	"tend/runner"
)

// interval is when a task ran on a host, as the host's clock recorded it.
type interval struct {
	host       string
	start, end float64
}

// readIntervals reads the NAME.start / NAME.end stamps (date +%s.%N) the
// hosts wrote under dir.
func readIntervals(t *testing.T, dir string, hosts []*lab.Host) []interval {
	t.Helper()
	var out []interval
	for _, h := range hosts {
		iv := interval{host: h.Name}
		for _, p := range []struct {
			ext string
			v   *float64
		}{{".start", &iv.start}, {".end", &iv.end}} {
			b, err := os.ReadFile(filepath.Join(dir, h.Name+p.ext))
			if err != nil {
				t.Fatalf("%s did not run: %v", h.Name, err)
			}
			if *p.v, err = strconv.ParseFloat(strings.TrimSpace(string(b)), 64); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, iv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out
}

const stampedPlay = `
- name: one at a time
  hosts: all
  serial: "{{ batch }}"
  tasks:
    - name: stamp
      shell: date +%s.%N > "{{ dir }}/{{ inventory_hostname }}.start"; sleep 0.3; date +%s.%N > "{{ dir }}/{{ inventory_hostname }}.end"
`

func TestSerialRunsBatchesOneAfterAnother(t *testing.T) {
	l := lab.New(t, 3)
	inv := l.WriteInventory(t)
	for _, c := range []struct {
		batch   string
		batches int
	}{{"1", 3}, {"3", 1}} {
		t.Run("serial "+c.batch, func(t *testing.T) {
			dir := t.TempDir()
			pb := writeFile(t, dir, "play.yml", stampedPlay)
			stdout, _, code := runLocked(t, "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json",
				"-e", "dir="+dir, "-e", "batch="+c.batch, pb)
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			if got := len(eventsOf[runner.BatchStart](t, parseEvents(t, stdout), "batch_start")); got != c.batches {
				t.Errorf("%d batches, want %d", got, c.batches)
			}
			ivs := readIntervals(t, dir, l.Hosts) // every host ran
			if c.batch != "1" {
				return // may overlap: nothing more to check
			}
			for i := 1; i < len(ivs); i++ {
				if ivs[i].start < ivs[i-1].end {
					t.Errorf("%s started at %.6f, before %s ended at %.6f: batches overlapped",
						ivs[i].host, ivs[i].start, ivs[i-1].host, ivs[i-1].end)
				}
			}
		})
	}
}

func TestBatchWhoseHostsAllFailStopsThePlay(t *testing.T) {
	l := lab.New(t, 3)
	dir := t.TempDir()
	pb := writeFile(t, dir, "play.yml", `
- hosts: all
  serial: 1
  tasks:
    - name: fails everywhere
      shell: touch "{{ dir }}/{{ inventory_hostname }}.ran"; exit 3
- name: later play
  hosts: all
  tasks:
    - shell: touch "{{ dir }}/{{ inventory_hostname }}.later"
`)
	stdout, _, code := runLocked(t, "-i", l.WriteInventory(t), "--known-hosts", l.KnownHosts, "--format", "json", "-e", "dir="+dir, pb)
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	events := parseEvents(t, stdout)
	batches := eventsOf[runner.BatchStart](t, events, "batch_start")
	if len(batches) != 1 || batches[0].Batches != 3 {
		t.Fatalf("batches started: %+v, want only the first of 3", batches)
	}
	first := batches[0].Hosts[0]
	var ran, later []string
	for _, h := range l.Hosts {
		if _, err := os.Stat(filepath.Join(dir, h.Name+".ran")); err == nil {
			ran = append(ran, h.Name)
		}
		if _, err := os.Stat(filepath.Join(dir, h.Name+".later")); err == nil {
			later = append(later, h.Name)
		}
	}
	if !reflect.DeepEqual(ran, []string{first}) || len(later) > 0 {
		t.Errorf("ran on %v (later play on %v), want only %s, the host of batch 1", ran, later, first)
	}
	s := summaryOf(t, events)
	if len(s.Stopped) != 2 || !strings.Contains(s.Aborted, "every host of batch 1/3") {
		t.Errorf("stopped %v (%q), want the 2 hosts of batches 2 and 3", s.Stopped, s.Aborted)
	}
}

func TestTaskTimeoutEndsTheRemoteCommand(t *testing.T) {
	l := lab.New(t, 2)
	h1, h2 := l.Hosts[0], l.Hosts[1]
	dir := t.TempDir()
	pb := writeFile(t, dir, "play.yml", `
- hosts: all
  tasks:
    - name: hangs
      shell: echo $$ > "{{ dir }}/sleep.pid"; exec sleep 30
      timeout: 1
      when: inventory_hostname == slow
    - name: next
      command: "true"
`)
	stdout, _, code := runLocked(t, "-i", l.WriteInventory(t), "--known-hosts", l.KnownHosts, "--format", "json",
		"-e", "dir="+dir, "-e", "slow="+h1.Name, pb)
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	events := parseEvents(t, stdout)
	hang := findTask(t, events, h1.Name, "hangs")
	if hang.Status != runner.StatusFailed || !strings.Contains(hang.Error, "timed out after 1s") {
		t.Errorf("hangs on %s: %s %q, want failed, timed out after 1s", h1.Name, hang.Status, hang.Error)
	}
	if s := findTask(t, events, h2.Name, "next").Status; s != runner.StatusChanged {
		t.Errorf("the run did not go on: next on %s is %s", h2.Name, s)
	}
	for _, e := range eventsOf[runner.TaskResult](t, events, "task") {
		if e.Host == h1.Name && e.Task == "next" {
			t.Errorf("%s ran the next task after it timed out", h1.Name)
		}
	}
	// The sleep ran (it wrote its PID) and is gone: no sleep is left in h1's
	// network namespace, and its PID is not a sleep any more.
	b, err := os.ReadFile(filepath.Join(dir, "sleep.pid"))
	if err != nil {
		t.Fatalf("the hanging command never started: %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	// tend returned after the transport's kill; the kernel may still be
	// reaping: a bounded wait for the process to vanish, not a timing claim.
	gone := false
	for i := 0; i < 50 && !gone; i++ {
		out, _, err := h1.Exec(context.Background(), "sh", "-c", "pgrep -x sleep --ns $$ --nslist net || true")
		if err != nil {
			t.Fatal(err)
		}
		comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		gone = strings.TrimSpace(out) == "" && strings.TrimSpace(string(comm)) != "sleep"
		if !gone {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !gone {
		out, _, _ := h1.Exec(context.Background(), "sh", "-c", "pgrep -a sleep --ns $$ --nslist net")
		t.Errorf("the timed-out command is still running in %s: %s", h1.Name, out)
	}
}
