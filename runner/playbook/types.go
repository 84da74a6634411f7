package playbook

import (
	"time"

	"gopkg.in/yaml.v3"
)

// Playbook is a parsed playbook file: a list of plays.
type Playbook struct {
	File  string
	Plays []*Play
	// Files are the files read to make the playbook, in the order first
	// read: the playbook itself, then what it imports and includes (task
	// files, other playbooks, roles, vars files). A saved plan binds to
	// their hashes.
	Files []SourceFile
}

// SourceFile is one file a playbook was read from.
type SourceFile struct {
	// Path is the file's path as opened.
	Path string
	// SHA256 is the hex SHA-256 of its content.
	SHA256 string
	// ReadsFacts is MentionsFacts of its content: whether it could read a
	// fact (the runner then gathers them).
	ReadsFacts bool `json:"-"`
}

// Play runs a list of tasks on the hosts its pattern selects.
type Play struct {
	Pos   Pos
	Name  string
	Hosts string // pattern; a YAML list is joined with ","
	// Vars are the play's variables in file order (values decoded: strings stay strings).
	Vars     map[string]any
	Tasks    []*Task
	Handlers []*Task
	// Verify runs after apply (and its handlers); a failure fails the host.
	Verify []*Task

	// VarNames lists the keys of Vars in file order.
	VarNames []string
	// Defaults are the play's default variables (a tend extension, like an
	// Ansible role's defaults/): the lowest precedence, so the inventory
	// and -e override them, unlike vars.
	Defaults     map[string]any
	DefaultNames []string
	// Serial splits the hosts into batches run one after another: each
	// entry is a count ("5") or a percentage ("30%"); the last entry repeats.
	// An entry may be a template ("{{ batch }}"), rendered by the runner
	// with the play's variables and the extra vars. Empty means all hosts
	// at once.
	Serial []string
	// Order is the order of the play's hosts, as Ansible's order keyword:
	// "" or inventory, reverse_inventory, sorted, reverse_sorted, shuffle.
	// Batches (Serial) take hosts in this order.
	Order string
	// MaxFailPercentage aborts the play when more than this share of a
	// batch failed; nil means no limit (0 means any failure aborts).
	MaxFailPercentage *int
	// AnyErrorsFatal aborts the whole run on the first failed host.
	AnyErrorsFatal bool
	// Rollback puts back what the play changed on a host where one of its
	// tasks (or its verification) then failed: files from their backups,
	// live values to what they held (a tend extension; runner/rollback.go).
	Rollback bool
	// GatherFacts: nil or true gathers the hosts' facts before the tasks
	// (as Ansible, with the setup module's one command); false gathers none.
	GatherFacts *bool
	// GatherSubset is the play's gather_subset (a list or a comma-separated
	// string), the argument of its implicit setup task; nil for all.
	GatherSubset *yaml.Node
	// Become runs the play's tasks with privilege escalation; nil means
	// unset (the inventory or command line decides). Tasks may override.
	Become     *bool
	BecomeUser string
	// SecretVars names variables whose values are secret (a tend
	// extension): wherever a variable of that name comes from (inventory,
	// vars, -e), its value is replaced by ******** in every event.
	SecretVars []string
	// Metrics are values the play exposes on each host that finished it
	// (ok or changed), evaluated after its verification.
	Metrics []Metric
	// Environment is set for the programs the play's tasks run (command,
	// shell, a service's restart); a block's and a task's override it by
	// name. Values are templates.
	Environment []EnvVar
	// Tags are the play's tags: the parser has given them to every task
	// of the play (its roles' and pre_tasks/post_tasks included), as
	// Ansible's inheritance does; --tags / --skip-tags then select.
	Tags []string
	// VarsPrompt are the play's vars_prompt entries (varsprompt.go): a
	// default is already among Vars; MissingPrompts finds those without
	// a value.
	VarsPrompt []VarPrompt
	// RemoteUser is the play's SSH user for hosts whose inventory gives
	// no ansible_user (which wins, as in Ansible); "" leaves -u or the
	// default. It may be a template, rendered for each host.
	RemoteUser string
	// RemoteUserPos is where remote_user is given.
	RemoteUserPos Pos
}

// Task is one step: exactly one module with its arguments, plus controls.
type Task struct {
	Pos    Pos
	Name   string
	Module string
	// ModulePos is where the module key stands.
	ModulePos Pos
	// Field is the task's path in the playbook, such as "tasks[2]" or
	// "handlers[0]", for messages.
	Field string
	// KeyPos is where the value of each keyword given stands ("when",
	// "until", ...), for messages about it.
	KeyPos map[string]Pos
	// Args is the module's raw argument node (a mapping or, for command and
	// shell, a scalar free-form string); templates are rendered per host.
	Args *yaml.Node
	Vars map[string]any
	// RoleDirs, for a task read from a role, is the role's absolute
	// directory, then those of the roles it was loaded from, outwards
	// (a dependency's dependent role; the role whose task imported or
	// included it): where the task's source files and lookups look first,
	// as Ansible's search path follows the role dependency chain.
	RoleDirs []string

	Register string
	// When, ChangedWhen, FailedWhen are expressions ANDed together; a
	// single string and a list are both accepted in YAML.
	When        []string
	ChangedWhen []string
	FailedWhen  []string
	Notify      []string
	// CheckMode, when set to false, runs the task for real under --check
	// (Ansible's check_mode: false) — only for read-only commands.
	CheckMode    *bool
	IgnoreErrors bool
	Timeout      time.Duration
	// Listen lets a handler be notified under another name (handlers only).
	Listen []string
	// Shadowed is set on a handler whose name a later handler of the play
	// (another role's, or the play's own) also has: notifying the name
	// runs that later one only, as Ansible 2.14; Listen still reaches it.
	Shadowed bool

	// VarNames lists the keys of Vars in file order.
	VarNames []string
	// Tags select tasks with --tags / --skip-tags.
	Tags []string
	// Retries, Until and Delay repeat the task until every Until
	// expression holds, at most Retries more times, Delay apart. Retries
	// and Delay are nil when not given: the runner then uses Ansible's
	// defaults (3 retries, 5s).
	Retries *int
	Until   []string
	Delay   *time.Duration
	// RetriesTemplate and DelayTemplate hold a templated retries: or
	// delay: ("{{ n }}"), rendered per host when the task runs; Retries
	// or Delay is then nil.
	RetriesTemplate string
	DelayTemplate   string
	// Become overrides the play's Become when non-nil.
	Become     *bool
	BecomeUser string
	// NoLog hides the task's arguments and output from every view.
	NoLog bool
	// BoolTemplates holds the boolean keywords given as a template
	// (no_log: "{{ mask_secrets | bool }}"), by keyword (one of
	// TemplatedBools), its own or inherited from a block, import or role
	// entry: the runner renders each per host (per loop item) after when,
	// by Ansible's boolean rules, and it overrides the literal field. Its
	// position is KeyPos[keyword].
	BoolTemplates map[string]string
	// Metrics are values the task exposes on each host after it runs
	// (--metrics-file, --metrics-push).
	Metrics []Metric
	// DelegateTo, when set, runs the task over another host's connection
	// (a template: an inventory host, or localhost for this machine) with
	// the variables of the host it runs for.
	DelegateTo string
	// DelegateFacts gives the facts a delegated setup or set_fact task
	// gathers or sets to the delegate (an inventory host), not to the
	// host the task runs for, as Ansible's delegate_facts: true.
	DelegateFacts bool
	// RunOnce runs the task on the first host of the batch only; every
	// host of the batch gets its result.
	RunOnce bool
	// IgnoreUnreachable lets the host go on when it cannot be reached
	// during the task: the result registers unreachable: true and counts
	// as ignored.
	IgnoreUnreachable bool
	// AnyErrorsFatal is the task's any_errors_fatal (its own, else its
	// block's, import's or role entry's); nil leaves it to the play's.
	// When it holds, a host failing the task stops the run as a play's
	// any_errors_fatal does.
	AnyErrorsFatal *bool
	// RemoteUser is the task's remote_user (its own, else its block's,
	// import's or role entry's): the SSH user the task logs in as on a
	// host whose inventory gives no ansible_user, over the play's. A
	// user name or a template rendered per host. Its position is
	// KeyPos["remote_user"].
	RemoteUser string
	// Throttle, when positive, bounds how many hosts run the task at once.
	Throttle int
	// ThrottleTemplate is throttle given as a template ("{{ n }}"),
	// rendered per host when the task runs, as Ansible's strategy does.
	ThrottleTemplate string
	// Budget, when set, limits how often the task may change a host
	// across runs (budget.go); nil means unlimited.
	Budget *Budget
	// Environment is the task's environment: its own over its blocks'
	// (the play's is merged by the runner).
	Environment []EnvVar
	// Async, when set, is the task's async: time limit in seconds (a
	// whole number > 0, or a template rendered per host); Poll is its
	// poll: interval ("" means playbook.DefaultPoll; "0" fires and
	// forgets). Both are "" for a normal task (async: 0 included).
	Async, Poll string
	// Loop, when set, runs the task once per item (loop: or with_*).
	Loop *Loop
	// IncludeVars, set for an include_vars task (Module "include_vars"),
	// holds the variables read from its files at parse time; running the
	// task gives them to the host, above task vars and below registered
	// variables.
	IncludeVars map[string]any
	// Dynamic marks an include_tasks or include_role (Module
	// "include_tasks" or "include_role"): the tasks it brought in are
	// Block.Tasks (read before the run). As Ansible's dynamic includes, its
	// own when is evaluated once, when it runs, and its when, tags,
	// ignore_errors and no_log are its own: only its vars (and what an
	// apply: gives) reach the included tasks. An include_tasks that runs is
	// reported ok ("included: FILE"); an include_role only when skipped.
	Dynamic bool
	// Deferred, set on an include_tasks or include_vars whose file name
	// needs host data (a fact, a host variable, its loop variable), reads
	// the file when the host runs it (include.go).
	Deferred *Deferred
	// Block, set for a block task (Module "block"), holds its three lists.
	// The parser has already given the block's keywords (when, become,
	// become_user, vars, tags, ignore_errors, check_mode, no_log) to every
	// task inside it, as Ansible's inheritance does.
	Block *Block
	// Implicit marks a task the parser added, not the playbook: the
	// meta: flush_handlers that ends pre_tasks, and the one that ends the
	// roles and tasks before post_tasks (Ansible's implicit flushes). Tags
	// never filter it out.
	Implicit bool
}

// Block is what a block task runs: Tasks; on a failure among them,
// Rescue; then Always, whatever happened.
type Block struct {
	Tasks, Rescue, Always []*Task
}

// Flatten lists tasks and, depth first, every task inside their blocks
// (the block tasks themselves included), for checks that walk them all.
func Flatten(tasks []*Task) []*Task {
	out := make([]*Task, 0, len(tasks))
	for _, t := range tasks {
		out = append(out, t)
		if t.Block != nil {
			out = append(out, Flatten(t.Block.Tasks)...)
			out = append(out, Flatten(t.Block.Rescue)...)
			out = append(out, Flatten(t.Block.Always)...)
		}
	}
	return out
}

// DisplayName is the name shown in output: Name, or "module" when unnamed.
func (t *Task) DisplayName() string {
	if t.Name != "" {
		return t.Name
	}
	return t.Module
}
