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
	// StatusStopped is HostDone's status of a host the run stopped early.
	StatusStopped Status = "stopped"
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

// EventSchema is the version of the event stream's shape (the events and
// their JSON fields, documented in the README). It grows when a field or an
// event is removed or changes meaning; adding one keeps it.
const EventSchema = 1

// RunStart opens a run; it is always the first event.
type RunStart struct {
	// Schema is EventSchema: consumers of the JSON lines check it first.
	Schema   int    `json:"schema"`
	Playbook string `json:"playbook"`
	Check    bool   `json:"check"`
	// Shard is this run's --shard I/N, if any: it ran only that part of
	// the hosts.
	Shard string `json:"shard,omitempty"`
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
	// Changed is set on a failed result whose task reported a change all
	// the same (a command that ran and exited non-zero, a loop with a
	// changed item): Ansible counts such a failure changed when
	// ignore_errors keeps it from failing the host, and so does the recap.
	Changed bool `json:"changed,omitempty"`
	// Rescued is set on a failure a block's rescue: catches; it counts as
	// rescued, not failed, as Ansible counts it.
	Rescued bool `json:"rescued,omitempty"`
	// Delegate is the host a delegate_to task ran on instead (its
	// connection, this host's variables); empty when not delegated.
	Delegate string `json:"delegated_to,omitempty"`
	// DryRun is true when the change was only planned (check mode), false
	// when it was made (also under --check for check_mode: false tasks).
	DryRun   bool          `json:"dry_run,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	// Attempts is how many times a task with until: ran (the last
	// attempt's outcome is the result); 0 for a task without until.
	Attempts int `json:"attempts,omitempty"`
	// HostKey is set on an unreachable result when the host was refused
	// for its key: HostKeyUnknown or HostKeyMismatch.
	HostKey string `json:"host_key,omitempty"`
	// Item is set on the result of one item of a loop: its label (the
	// item, or loop_control.label). Item results are not counted in the
	// recap; the task's own result (Loop set) follows them and is.
	Item string `json:"item,omitempty"`
	// Loop is set on the task's own result of a loop: how its items ended.
	Loop *LoopCounts `json:"loop,omitempty"`
	// Metrics are the values the task's metrics: mapping exposes on this
	// host (metrics.go), evaluated after the task ran (not when skipped).
	Metrics []MetricValue `json:"metrics,omitempty"`
	// Budget is how a task with budget: stood against it (budget.go):
	// spent, a relapse, or how much is used.
	Budget *BudgetUse `json:"budget,omitempty"`
}

// LoopCounts sums up the items of a loop task on one host.
type LoopCounts struct {
	Items   int `json:"items"`
	OK      int `json:"ok"`
	Changed int `json:"changed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
}

// TaskResult.HostKey values.
const (
	HostKeyUnknown  = "unknown"
	HostKeyMismatch = "mismatch"
)

// HostRecap counts one host's outcomes over the run.
type HostRecap struct {
	Host        string `json:"host"`
	OK          int    `json:"ok"`
	Changed     int    `json:"changed"`
	Failed      int    `json:"failed"`
	Skipped     int    `json:"skipped"`
	Unreachable int    `json:"unreachable"`
	Ignored     int    `json:"ignored"`
	// Rescued counts the failures a block's rescue: caught.
	Rescued int `json:"rescued,omitempty"`
	// Relapsed counts the changes a budgeted task made while an earlier
	// one was still within its window (budget.go): the remedy is not holding.
	Relapsed int `json:"relapsed,omitempty"`
	// Stopped is set when the run stopped this host before it finished its
	// work (any_errors_fatal, max_fail_percentage, a failed batch, an
	// interrupt); StopReason says why.
	Stopped    bool   `json:"stopped,omitempty"`
	StopReason string `json:"stop_reason,omitempty"`
	// Applied lists, in order, what this host had changed when the run
	// ended ("task: summary"), so a failed run tells exactly what changed.
	Applied []string `json:"applied,omitempty"`
	// RolledBack says what a play's rollback: put back on the host after
	// its failure, one line each, and what it could not.
	RolledBack []string `json:"rolled_back,omitempty"`
}

// BatchStart opens one batch of a play (serial:): the hosts that run it
// together. A play without serial: has one batch holding all its hosts.
type BatchStart struct {
	Play string `json:"play"`
	// Batch counts from 1; Batches is how many the play has.
	Batch   int      `json:"batch"`
	Batches int      `json:"batches"`
	Hosts   []string `json:"hosts"`
}

// HostStop says a host was stopped before finishing its work in a play:
// its other tasks (and later plays) do not run on it.
type HostStop struct {
	Host string `json:"host"`
	Play string `json:"play"`
	// Task is the first task that did not run ("handlers and verification"
	// when the host had finished its tasks); empty when the host had not
	// started the play (its batch never began).
	Task string `json:"task,omitempty"`
	// Reason says why ("any_errors_fatal: mq1 failed", "max_fail_percentage
	// 25 exceeded: 2 of 4 hosts of batch 1 failed", "interrupted").
	Reason string `json:"reason"`
}

// HostDone closes one play on one host, whatever its outcome.
type HostDone struct {
	Host   string `json:"host"`
	Play   string `json:"play"`
	Status Status `json:"status"` // ok, failed, unreachable, or stopped
	// Metrics are the values of the play's metrics: on this host (only
	// when it finished the play: Status ok).
	Metrics []MetricValue `json:"metrics,omitempty"`
	// Rollback is what the play's rollback: did on a host that failed after
	// changing (or, in check mode, would do); nil otherwise (rollback.go).
	Rollback *Rollback `json:"rollback,omitempty"`
}

// HostStart says a host begins a play: it holds a fork slot and is about
// to connect (or reuse its connection) and run its first task.
type HostStart struct {
	Host string `json:"host"`
	Play string `json:"play"`
}

// TaskStart says a task begins on a host (TaskDone follows, whatever the
// outcome); in PhaseRecheck it is the re-check of an applied task.
type TaskStart struct {
	Host   string `json:"host"`
	Play   string `json:"play"`
	Task   string `json:"task"`
	Module string `json:"module,omitempty"`
	Phase  Phase  `json:"phase"`
}

// Warning is a non-fatal note: a connection warning (a malformed
// known_hosts line, a host key recorded, an ssh_config or inventory option
// ignored) or one about a host's run (pending handlers found or not
// cleared). Host, Play and Task give its context when it has one.
type Warning struct {
	Host string `json:"host,omitempty"`
	Play string `json:"play,omitempty"`
	Task string `json:"task,omitempty"`
	Msg  string `json:"msg"`
}

// Progress says what a host's task is waiting for while it waits (a
// service's port and greeting after a restart). The runner paces it: the
// first comes a second into the wait, then at most one a second per host,
// all between the task's TaskStart and its TaskDone; a wait shorter than a
// second gives none.
type Progress struct {
	Host string `json:"host"`
	Play string `json:"play"`
	Task string `json:"task"`
	// Msg is what the task waits for, in the module's words ("waiting for
	// :61616 greeting (accepts, no greeting yet)").
	Msg string `json:"msg"`
	// Elapsed is how long the task has run so far.
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Observer receives the run's events: the one stream every view renders.
// Order: RunStarted first, RunDone last; per play PlayStarted, then per
// batch BatchStarted; per host HostStarted, TaskStarted and TaskDone per
// task (Progress between them while it waits; a loop's item results, Item set, come before its TaskDone), HostDone last (HostStopped before it when the run stopped the host;
// a host stopped before it began has no HostStarted).
//
// The runner serialises its own calls: an implementation never sees two at
// once, so its output lines never interleave. Warning is the exception: it
// also comes from connection code outside the engine (cmd routes the
// Connector's warnings here), from any goroutine and possibly before
// RunStarted; the views' factory makes every view safe for that. Embed
// NopObserver to implement only some events.
type Observer interface {
	RunStarted(RunStart)
	PlayStarted(PlayStart)
	BatchStarted(BatchStart)
	HostStarted(HostStart)
	TaskStarted(TaskStart)
	Progress(Progress)
	TaskDone(TaskResult)
	Warning(Warning)
	HostStopped(HostStop)
	HostDone(HostDone)
	RunDone(Summary)
}

// NopObserver ignores every event; embed it to implement only some.
type NopObserver struct{}

var _ Observer = NopObserver{}

// RunStarted does nothing.
func (NopObserver) RunStarted(RunStart) {}

// PlayStarted does nothing.
func (NopObserver) PlayStarted(PlayStart) {}

// BatchStarted does nothing.
func (NopObserver) BatchStarted(BatchStart) {}

// HostStarted does nothing.
func (NopObserver) HostStarted(HostStart) {}

// TaskStarted does nothing.
func (NopObserver) TaskStarted(TaskStart) {}

// Progress does nothing.
func (NopObserver) Progress(Progress) {}

// TaskDone does nothing.
func (NopObserver) TaskDone(TaskResult) {}

// Warning does nothing.
func (NopObserver) Warning(Warning) {}

// HostStopped does nothing.
func (NopObserver) HostStopped(HostStop) {}

// HostDone does nothing.
func (NopObserver) HostDone(HostDone) {}

// RunDone does nothing.
func (NopObserver) RunDone(Summary) {}
