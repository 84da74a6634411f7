package runner

import (
	"time"

	"tend/runner/plan"
)

// Status is the outcome of one task on one host.
type Status string

// Task outcomes, as Ansible users know them.
const (
	StatusOK          Status = "ok"
	StatusChanged     Status = "changed"
	StatusFailed      Status = "failed"
	StatusSkipped     Status = "skipped"
	StatusUnreachable Status = "unreachable"
)

// Phase says which part of a play a task result belongs to.
type Phase string

// Phases of a play on one host.
const (
	PhaseTask    Phase = "task"
	PhaseHandler Phase = "handler"
	// PhaseRecheck is the re-run of every verifiable module's Check after
	// apply: it must find nothing left to change.
	PhaseRecheck Phase = "recheck"
	// PhaseVerify is the play's own verify: list.
	PhaseVerify Phase = "verify"
)

// RunStart opens a run.
type RunStart struct {
	Playbook string `json:"playbook"`
	Check    bool   `json:"check"`
}

// PlayStart opens a play: its name and the hosts it selected.
type PlayStart struct {
	Name  string   `json:"name"`
	Hosts []string `json:"hosts"`
	// Unmatched lists names of the hosts: pattern that matched nothing.
	Unmatched []string `json:"unmatched,omitempty"`
}

// TaskResult is one task's outcome on one host.
type TaskResult struct {
	Host   string      `json:"host"`
	Play   string      `json:"play"`
	Task   string      `json:"task"`
	Module string      `json:"module"`
	Phase  Phase       `json:"phase"`
	Status Status      `json:"status"`
	Change plan.Change `json:"change"`
	// Reason explains a skip ("when: closewait.count > 100 is false",
	// "check mode: command would run").
	Reason string `json:"reason,omitempty"`
	// Error is the failure or unreachability message, if any.
	Error   string `json:"error,omitempty"`
	Ignored bool   `json:"ignored,omitempty"`
	// DryRun is true when the change was only planned (check mode), false
	// when it was made (also under --check for check_mode: false tasks).
	DryRun   bool          `json:"dry_run,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// HostRecap counts one host's outcomes over the run.
type HostRecap struct {
	Host        string `json:"host"`
	OK          int    `json:"ok"`
	Changed     int    `json:"changed"`
	Failed      int    `json:"failed"`
	Skipped     int    `json:"skipped"`
	Unreachable int    `json:"unreachable"`
	Ignored     int    `json:"ignored"`
	// Applied lists, in order, what this host had changed when the run
	// ended ("task: summary"), so a failed run tells exactly what changed.
	Applied []string `json:"applied,omitempty"`
}

// Observer receives the run's events. Calls are serialised by the runner:
// an implementation never sees two calls at once, so its output lines
// never interleave.
type Observer interface {
	RunStarted(RunStart)
	PlayStarted(PlayStart)
	TaskDone(TaskResult)
	RunDone(Summary)
}

// NopObserver ignores every event; embed it to implement only some.
type NopObserver struct{}

// RunStarted does nothing.
func (NopObserver) RunStarted(RunStart) {}

// PlayStarted does nothing.
func (NopObserver) PlayStarted(PlayStart) {}

// TaskDone does nothing.
func (NopObserver) TaskDone(TaskResult) {}

// RunDone does nothing.
func (NopObserver) RunDone(Summary) {}

var _ Observer = NopObserver{}
