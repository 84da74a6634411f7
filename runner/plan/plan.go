// Package plan holds the data a module's read-only Check returns: what would
// change on a host, shown by a dry run, consumed by Apply, and expected to be
// empty when verification checks again. A plan is data, never behaviour.
package plan

// Action is what a task does (or would do) to a host.
type Action string

// Actions, from least to most intrusive.
const (
	// None: the host already is as asked.
	None Action = "none"
	// Read: a fact was gathered; nothing is changed, in check mode too.
	Read Action = "read"
	// Run: a command would run (command/shell); its effect cannot be predicted.
	Run Action = "run"
	// Update: a file or a live value would change.
	Update Action = "update"
	// Restart: a service would be (re)started or stopped.
	Restart Action = "restart"
)

// Changes reports whether the action alters the host.
func (a Action) Changes() bool { return a == Update || a == Restart || a == Run }

// ValueStatus says what happens to one live value (a sysctl key).
type ValueStatus string

// Value statuses.
const (
	ValueOK          ValueStatus = "ok"          // file and live value already hold it
	ValueChanged     ValueStatus = "change"      // will be written
	ValueUnsupported ValueStatus = "unsupported" // the kernel lacks it here: reported, skipped
	ValueFailed      ValueStatus = "failed"      // written but did not hold
)

// ValueChange is one live setting: key: before → after.
type ValueChange struct {
	Key    string      `json:"key"`
	Before string      `json:"before"`
	After  string      `json:"after"`
	Status ValueStatus `json:"status"`
	Note   string      `json:"note,omitempty"`
}

// FileChange is one file's edit, as a unified diff.
type FileChange struct {
	Path string `json:"path"`
	// Diff is a unified diff (---/+++ headers, @@ hunks); empty when unchanged.
	Diff string `json:"diff"`
	// BeforeSHA256 is the hex SHA-256 of the content Check read; Apply
	// refuses to write when the file no longer has it (stale plan).
	BeforeSHA256 string `json:"before_sha256,omitempty"`
	// Backup is set by Apply: where the previous content was kept.
	Backup string `json:"backup,omitempty"`
	// InPlace is set by Apply when the file had to be rewritten in place.
	InPlace bool `json:"in_place,omitempty"`
}

// Change is what one task does, or would do, on one host.
type Change struct {
	Action  Action        `json:"action"`
	Summary string        `json:"summary,omitempty"`
	Files   []FileChange  `json:"files,omitempty"`
	Values  []ValueChange `json:"values,omitempty"`
	// Warnings are things a reviewer must see that do not fail the task
	// (unsupported keys, unrelated bad lines in sysctl.conf, a namespace note).
	Warnings []string `json:"warnings,omitempty"`
	// Failed marks a result that ran but failed (a non-zero exit code, a value
	// that did not hold). A Go error from a module means it could not run.
	Failed bool   `json:"failed,omitempty"`
	Msg    string `json:"msg,omitempty"`
	// Skipped marks a task the module itself skips, with Summary as the
	// reason (Ansible's AnsibleActionSkip: unarchive whose creates path
	// exists). Nothing was changed; the task is reported skipped.
	Skipped bool `json:"skipped,omitempty"`
	// Data is what `register:` stores for later `when:` and templates
	// (stdout, rc, count, holders, ...).
	Data map[string]any `json:"data,omitempty"`
	// Private carries module state from Check to Apply; never rendered.
	Private any `json:"-"`
	// Undo is set by Apply: how to put back what it changed (undo.go), for
	// a play with rollback:. Empty when nothing it did can be undone.
	Undo []Undo `json:"-"`
}

// Changed reports whether the change alters the host.
func (c Change) Changed() bool { return c.Action.Changes() }
