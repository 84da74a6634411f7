package views

import (
	"encoding/json"
	"io"

	"tend/runner"
)

// JSONLines renders each event as one JSON object on its own line, for
// machines (cron wrappers, log shippers). Nothing else goes to its writer.
type JSONLines struct {
	enc *json.Encoder
}

var _ runner.Observer = (*JSONLines)(nil)

// NewJSONLines returns a JSON lines view writing to w.
func NewJSONLines(w io.Writer) *JSONLines { return &JSONLines{enc: json.NewEncoder(w)} }

type jsonEvent struct {
	Event string `json:"event"`
	Data  any    `json:"data"`
}

func (j *JSONLines) emit(kind string, data any) { _ = j.enc.Encode(jsonEvent{Event: kind, Data: data}) }

// RunStarted emits {"event":"run_start"}, the first event; its data
// carries "schema" (runner.EventSchema).
func (j *JSONLines) RunStarted(e runner.RunStart) { j.emit("run_start", e) }

// PlayStarted emits {"event":"play_start"}.
func (j *JSONLines) PlayStarted(e runner.PlayStart) { j.emit("play_start", e) }

// BatchStarted emits {"event":"batch_start"}.
func (j *JSONLines) BatchStarted(e runner.BatchStart) { j.emit("batch_start", e) }

// HostStarted emits {"event":"host_start"}.
func (j *JSONLines) HostStarted(e runner.HostStart) { j.emit("host_start", e) }

// TaskStarted emits {"event":"task_start"}.
func (j *JSONLines) TaskStarted(e runner.TaskStart) { j.emit("task_start", e) }

// Progress emits {"event":"progress"}: what a host's task waits for.
func (j *JSONLines) Progress(e runner.Progress) { j.emit("progress", e) }

// TaskDone emits {"event":"task"}.
func (j *JSONLines) TaskDone(e runner.TaskResult) { j.emit("task", e) }

// Warning emits {"event":"warning"}.
func (j *JSONLines) Warning(e runner.Warning) { j.emit("warning", e) }

// HostStopped emits {"event":"host_stopped"}.
func (j *JSONLines) HostStopped(e runner.HostStop) { j.emit("host_stopped", e) }

// HostDone emits {"event":"host_done"}.
func (j *JSONLines) HostDone(e runner.HostDone) { j.emit("host_done", e) }

// RunDone emits the final {"event":"summary"}.
func (j *JSONLines) RunDone(s runner.Summary) { j.emit("summary", s) }
