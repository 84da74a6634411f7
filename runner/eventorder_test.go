package runner

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"tend/inventory"
	"tend/runner/connect"
	"tend/runner/modules"
	"tend/runner/playbook"
)

// orderLog records the events it sees, one line each.
type orderLog struct{ lines []string }

var _ Observer = (*orderLog)(nil)

func (l *orderLog) add(f string, a ...any)    { l.lines = append(l.lines, fmt.Sprintf(f, a...)) }
func (l *orderLog) RunStarted(e RunStart)     { l.add("run_start schema=%d", e.Schema) }
func (l *orderLog) PlayStarted(e PlayStart)   { l.add("play_start %s", e.Name) }
func (l *orderLog) BatchStarted(e BatchStart) { l.add("batch_start %d/%d", e.Batch, e.Batches) }
func (l *orderLog) HostStarted(e HostStart)   { l.add("host_start %s %s", e.Host, e.Play) }
func (l *orderLog) TaskStarted(e TaskStart)   { l.add("task_start %s %s %s", e.Host, e.Phase, e.Task) }
func (l *orderLog) TaskDone(e TaskResult)     { l.add("task %s %s %s", e.Host, e.Task, e.Status) }
func (l *orderLog) Progress(e Progress)       { l.add("progress %s %s %s", e.Host, e.Task, e.Msg) }
func (l *orderLog) Warning(e Warning)         { l.add("warning %s %s", e.Host, e.Msg) }
func (l *orderLog) HostStopped(e HostStop)    { l.add("host_stopped %s", e.Host) }
func (l *orderLog) HostDone(e HostDone)       { l.add("host_done %s %s", e.Host, e.Status) }
func (l *orderLog) RunDone(Summary)           { l.add("summary") }

// The engine's event stream, in order, for a play on the local host: the
// schema first, the host started before its tasks, each task started
// before its result, the host done, the summary last.
func TestEventOrder(t *testing.T) {
	pb, err := playbook.Parse("pb.yml", []byte(`- name: p
  hosts: localhost
  tasks:
    - name: one
      command: "true"
    - name: two
      command: "true"
      when: false
`), playbook.ParseOptions{Modules: modules.Names()})
	if err != nil {
		t.Fatal(err)
	}
	log := &orderLog{}
	if _, err := Run(context.Background(), pb, inventory.Implicit(), Options{Observer: log, Connector: connect.Local{}}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"run_start schema=1",
		"play_start p",
		"batch_start 1/1",
		"host_start localhost p",
		"task_start localhost task Gathering Facts", // gather_facts is on by default, as Ansible's
		"task localhost Gathering Facts ok",
		"task_start localhost task one",
		"task localhost one changed",
		"task_start localhost task two",
		"task localhost two skipped",
		"host_done localhost ok",
		"summary",
	}
	if got := strings.Join(log.lines, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}
