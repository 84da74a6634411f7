// Package savedplan is the reviewed dry run as a file: `tend run --check
// --out PLAN` records, per host, every change the dry run showed, bound by a
// fingerprint; `tend run --plan PLAN` then applies only those changes and
// refuses a host whose state moved since the plan (a file edited, a value
// or a process that is no longer what the reviewer saw). Like Terraform's
// saved plans, minus the state file: the host itself is the state.
package savedplan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"tend/runner/plan"
	"tend/runner/transport"
)

// Version is the plan file format this package writes and reads.
const Version = 1

// Plan is a saved dry run.
type Plan struct {
	Version int `json:"tend_plan"`
	// Playbook is the playbook's path as given, PlaybookSHA256 its content's
	// hash: a plan applies to that exact playbook only.
	Playbook       string    `json:"playbook"`
	PlaybookSHA256 string    `json:"playbook_sha256"`
	Limit          string    `json:"limit,omitempty"`
	Created        time.Time `json:"created"`
	// Hosts holds every host the dry run reached, with the changes it would
	// make there (none for a host already in the wanted state).
	Hosts map[string][]Task `json:"hosts"`
}

// Task is one approved change on one host.
type Task struct {
	Play   string      `json:"play"`
	Task   string      `json:"task"`
	Action plan.Action `json:"action"`
	// Summary is what the reviewer read (secrets already redacted).
	Summary string `json:"summary,omitempty"`
	// Fingerprint binds the change: action, files (path, content before,
	// diff) and live values (key, new value), or the summary of a restart or
	// a command. Contents appear only as hashes.
	Fingerprint string `json:"fingerprint"`
	Files       []File `json:"files,omitempty"`
}

// File is a file a planned change edits, as it was when planned.
type File struct {
	Path         string `json:"path"`
	BeforeSHA256 string `json:"before_sha256"`
}

// Fingerprint hashes what a change does (see Task.Fingerprint).
func Fingerprint(c plan.Change) string {
	h := sha256.New()
	field := func(s string) { fmt.Fprintf(h, "%d:%s;", len(s), s) }
	field(string(c.Action))
	for _, f := range c.Files {
		field(f.Path)
		field(f.BeforeSHA256)
		field(f.Diff)
	}
	for _, v := range c.Values {
		field(v.Key)
		field(v.After)
	}
	if len(c.Files) == 0 && len(c.Values) == 0 {
		field(c.Summary)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// HashFile returns the hex SHA-256 of a file's content: the playbook's,
// hashed from the very bytes that were parsed.
func HashFile(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// Recorder builds a plan from what a dry run shows. It knows nothing of
// the engine: cmd feeds it from the run's events. Safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	plan Plan
}

// NewRecorder records into a plan of playbook (content hash sha) and limit.
func NewRecorder(playbook, sha, limit string) *Recorder {
	return &Recorder{plan: Plan{Version: Version, Playbook: playbook, PlaybookSHA256: sha,
		Limit: limit, Created: time.Now().UTC(), Hosts: map[string][]Task{}}}
}

// Reached notes that the dry run reached host: it is in the plan, with no
// change unless Add gives one.
func (r *Recorder) Reached(host string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.plan.Hosts[host]; !ok {
		r.plan.Hosts[host] = []Task{}
	}
}

// Add records a change the dry run would make on host, by task of play.
// A change that changes nothing only marks the host reached.
func (r *Recorder) Add(host, play, task string, c plan.Change) {
	r.Reached(host)
	if !c.Changed() {
		return
	}
	t := Task{Play: play, Task: task, Action: c.Action, Summary: c.Summary, Fingerprint: Fingerprint(c)}
	for _, f := range c.Files {
		t.Files = append(t.Files, File{Path: f.Path, BeforeSHA256: f.BeforeSHA256})
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.plan.Hosts[host] = append(r.plan.Hosts[host], t)
}

// Save writes the plan to path atomically (temp file, fsync, rename), mode 0600.
func (r *Recorder) Save(path string) error {
	r.mu.Lock()
	data, err := json.MarshalIndent(r.plan, "", "  ")
	r.mu.Unlock()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("saving the plan: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err = tmp.Write(append(data, '\n')); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("saving the plan %s: %w", path, err)
	}
	return nil
}

// Load reads a plan file.
func Load(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("plan %s: not a tend plan: %w", path, err)
	}
	if p.Version != Version || p.Hosts == nil {
		return nil, fmt.Errorf("plan %s: not a tend plan of version %d (tend_plan: %d)", path, Version, p.Version)
	}
	return &p, nil
}

// ErrStale is wrapped by every refusal of Approve.
var ErrStale = errors.New("the host changed since the plan was made; make a new plan (tend run --check --out) and review it")

// Approver is the approval hook of an applying run on p (cmd gives it to
// the engine as its Options.Approve).
func (p *Plan) Approver() func(ctx context.Context, host, play, task string, conn transport.Conn, c plan.Change) error {
	var mu sync.Mutex
	checked := map[string]error{} // host → result of its file check
	return func(ctx context.Context, host, play, task string, conn transport.Conn, c plan.Change) error {
		planned, ok := p.Hosts[host]
		if !ok {
			return fmt.Errorf("host %s is not in the plan: %w", host, ErrStale)
		}
		mu.Lock()
		err, done := checked[host]
		mu.Unlock()
		if !done {
			// Before the host's first change: every file the plan edits there
			// must still be as planned, or nothing is changed on it.
			err = checkFiles(ctx, conn, planned)
			mu.Lock()
			checked[host] = err
			mu.Unlock()
		}
		if err != nil {
			return err
		}
		fp := Fingerprint(c)
		i := slices.IndexFunc(planned, func(t Task) bool { return t.Play == play && t.Task == task && t.Fingerprint == fp })
		if i >= 0 {
			return nil
		}
		for _, t := range planned {
			if t.Play == play && t.Task == task {
				return fmt.Errorf("task %q: the change now is %q, the plan approved %q: %w", task, c.Summary, t.Summary, ErrStale)
			}
		}
		return fmt.Errorf("task %q: the plan approved no change here, now: %q: %w", task, c.Summary, ErrStale)
	}
}

// checkFiles compares the content of every file planned on a host with
// the plan's.
func checkFiles(ctx context.Context, conn transport.Conn, planned []Task) error {
	seen := map[string]bool{}
	for _, t := range planned {
		for _, f := range t.Files {
			if seen[f.Path] {
				continue
			}
			seen[f.Path] = true
			got := transport.ExpectAbsent
			data, err := transport.ReadFile(ctx, conn, f.Path)
			switch {
			case errors.Is(err, os.ErrNotExist):
			case err != nil:
				return fmt.Errorf("checking %s against the plan: %w", f.Path, err)
			default:
				got = HashFile(data)
			}
			if got != f.BeforeSHA256 {
				return fmt.Errorf("%s changed since the plan (sha256 %s, planned %s): %w", f.Path, got, f.BeforeSHA256, ErrStale)
			}
		}
	}
	return nil
}
