// Package runner executes a playbook across an inventory: each play's hosts
// in batches (serial:), the hosts of a batch in parallel (bounded by
// forks), tasks in order per host, handlers, then verification.
// It never prints: it reports events to an Observer and returns a Summary.
package runner

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-multierror"

	"tend/inventory"
	"tend/runner/plan"
	"tend/runner/playbook"
	"tend/runner/transport"
)

// DefaultForks is how many hosts run at once unless told otherwise: large
// enough that a 500-host fleet is not serialised (Ansible's 5 is a common
// complaint), small enough that the SSH handshakes of a wave do not
// starve two cores. A waiting host costs a goroutine, not a connection.
const DefaultForks = 200

// Options control a run.
type Options struct {
	// Check makes a dry run: nothing is written anywhere; read-only facts
	// are gathered for real and the plan is reported.
	Check bool
	// Forks bounds how many hosts run at once (default DefaultForks).
	Forks int
	// ExtraVars override every other variable (-e).
	ExtraVars map[string]any
	// Limit further restricts every play's hosts (--limit).
	Limit string
	// Shard, after Limit, keeps only this shard's hosts (--shard I/N).
	Shard Shard
	// Tags and SkipTags select tasks as Ansible's --tags and --skip-tags
	// do, special tags included (all, tagged, untagged, always, never).
	// Empty Tags means all.
	Tags, SkipTags []string
	// RetryFile, when set, receives after the run the names of the hosts
	// that failed, were unreachable, were refused for their key or were
	// stopped early, one per line (empty when none), for --limit @FILE.
	RetryFile string
	// Become is the privilege escalation of the command line (-b, -K).
	Become BecomeOptions
	// Approve, when set, is asked before every change an applying run makes
	// (a saved plan: tend run --plan), with the change as Check found it
	// (secrets redacted). An error refuses it: the task fails with that
	// error, nothing of it is changed, and the host stops.
	Approve func(ctx context.Context, host, play, task string, conn transport.Conn, c plan.Change) error
	// Connector opens each host's connection (required): cmd builds it
	// from the command line with package runner/connect.
	Connector Connector
	// Verbosity is how many -v were given: a debug task with a higher
	// verbosity: is skipped (as Ansible).
	Verbosity int
	// Observer receives events; nil means none.
	Observer Observer
	// Stop, when closed, ends the run gracefully: every host finishes the
	// step it is in (no half-written file, no interrupted restart) and runs
	// no further task. Cancelling the Run context instead aborts at once.
	Stop <-chan struct{}
}

// Summary is the outcome of a run.
type Summary struct {
	Hosts []HostRecap `json:"hosts"`
	// Changed is true when anything changed (or would, in check mode).
	Changed bool `json:"changed"`
	// Failed, Unreachable list hosts by outcome.
	Failed      []string `json:"failed,omitempty"`
	Unreachable []string `json:"unreachable,omitempty"`
	// BudgetSpent lists the failed hosts a task's budget stopped (they are
	// in Failed too): when no other host failed, the exit code says so.
	BudgetSpent []string `json:"budget_spent,omitempty"`
	// HostKeyMismatch and HostKeyUnknown list hosts refused for their key.
	HostKeyMismatch []string `json:"host_key_mismatch,omitempty"`
	HostKeyUnknown  []string `json:"host_key_unknown,omitempty"`
	// Stopped lists hosts the run stopped before they finished (they did
	// not fail themselves); Aborted says why the run stopped early.
	Stopped []string `json:"stopped,omitempty"`
	Aborted string   `json:"aborted,omitempty"`
	// RetryFile is the retry file written (Options.RetryFile), or
	// RetryFileError why it could not be.
	RetryFile      string        `json:"retry_file,omitempty"`
	RetryFileError string        `json:"retry_file_error,omitempty"`
	Duration       time.Duration `json:"duration_ns"`
	// errs holds each host's first failure, in host order (Err).
	errs []error
}

// Err aggregates the failure of every host that failed, was unreachable or
// was refused for its key (go-multierror), one line per host sorted by
// name, for the last lines of a run's log: nil when none did. Hosts stopped
// early did not fail and are not in it.
func (s *Summary) Err() error {
	if len(s.errs) == 0 {
		return nil
	}
	return &multierror.Error{Errors: s.errs, ErrorFormat: func(errs []error) string {
		var b strings.Builder
		fmt.Fprintf(&b, "%d %s did not succeed:", len(errs), plural(len(errs), "host", "hosts"))
		for _, e := range errs {
			b.WriteString("\n  " + e.Error())
		}
		return b.String()
	}}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// InputError means the playbook, inventory or options are invalid; no host
// was contacted.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Run executes every play of pb on the hosts of inv. It returns an
// *InputError before contacting any host when the input is invalid; per-host
// outcomes are in the Summary, not in the returned error.
func Run(ctx context.Context, pb *playbook.Playbook, inv *inventory.Inventory, opts Options) (*Summary, error) {
	if err := Validate(pb); err != nil {
		return nil, &InputError{Err: err}
	}
	if opts.Forks <= 0 {
		opts.Forks = DefaultForks
	}
	red := newRedactor(opts.Become.Password) // every event is redacted before the observer sees it
	obs := newSerialObserver(redactObserver(opts.Observer, red))
	r := &run{opts: opts, pb: pb, inv: inv, obs: obs, red: red, hosts: map[string]*hostState{}, forks: make(chan struct{}, opts.Forks)}
	r.facts, r.down, r.cleared = map[string]map[string]any{}, map[string]bool{}, map[string]bool{}
	r.delegatedVars = map[string]map[string]any{}
	// Resolve every play's hosts and batch sizes first: a bad pattern or
	// serial is input, not a host failure.
	plays := make([][]*inventory.Host, len(pb.Plays))
	sizes := make([][]string, len(pb.Plays))
	unmatchedTerms := make([][]string, len(pb.Plays))
	for i, p := range pb.Plays {
		hosts, unmatched, err := selectHosts(inv, p.Hosts, opts.Limit)
		if err != nil {
			return nil, &InputError{Err: fmt.Errorf("%s: hosts: %w", p.Pos, err)}
		}
		plays[i] = orderHosts(opts.Shard.filter(hosts), p.Order)
		unmatchedTerms[i] = unmatched
		if sizes[i], err = serialSizes(p, opts.ExtraVars); err != nil {
			return nil, &InputError{Err: err}
		}
	}
	if err := checkDeferred(pb, inv, opts.ExtraVars); err != nil { // deferredcheck.go
		return nil, &InputError{Err: err}
	}
	if opts.Connector == nil {
		return nil, errors.New("runner: Options.Connector is nil: nothing can reach the hosts")
	}
	start := time.Now()
	obs.RunStarted(RunStart{Schema: EventSchema, Playbook: pb.File, Check: opts.Check, Shard: opts.Shard.String()})
	r.connPlan = planConns(plays, sizes, opts.Forks)  // connlife.go
	r.readsFacts = factsRead(pb, inv, opts.ExtraVars) // factsuse.go
	defer r.closeAll()
	for i, p := range pb.Plays {
		if r.abort == "" && (ctx.Err() != nil || r.stopped()) {
			r.abort = "interrupted"
		}
		if r.abort != "" {
			// The run stopped: the hosts this play would have run are stopped too.
			r.stopUnstarted(p, r.states(plays[i]), r.abort, false)
			continue
		}
		if live := r.currentInv(); live != inv { // add_host, group_by (inventorychange.go)
			hosts, unmatched, err := selectHosts(live, p.Hosts, opts.Limit)
			if err == nil {
				plays[i], unmatchedTerms[i] = orderHosts(opts.Shard.filter(hosts), p.Order), unmatched
			}
		}
		names := make([]string, len(plays[i]))
		for j, h := range plays[i] {
			names[j] = h.Name
		}
		obs.PlayStarted(PlayStart{Name: p.Name, Hosts: names, Unmatched: unmatchedTerms[i]})
		for _, term := range unmatchedTerms[i] {
			// As Ansible: a term that matches nothing is ignored, with a warning.
			obs.Warning(Warning{Play: p.Name, Msg: fmt.Sprintf("hosts: %q matched no host in the inventory; ignored", term)})
		}
		r.runPlay(ctx, i, p, plays[i], sizes[i])
	}
	sum := r.summary()
	sum.Duration = time.Since(start)
	if opts.RetryFile != "" {
		if err := writeRetryFile(opts.RetryFile, sum.RetryHosts()); err != nil {
			sum.RetryFileError = err.Error()
		} else {
			sum.RetryFile = opts.RetryFile
		}
	}
	obs.RunDone(*sum)
	return sum, nil
}

// orderHosts returns a play's hosts in the order its order keyword asks
// for (Ansible's inventory.get_hosts(order=...)): as the inventory lists
// them, reversed, sorted by name, reverse-sorted, or shuffled.
func orderHosts(hosts []*inventory.Host, order string) []*inventory.Host {
	out := slices.Clone(hosts)
	switch order {
	case "reverse_inventory":
		slices.Reverse(out)
	case "sorted":
		slices.SortStableFunc(out, func(a, b *inventory.Host) int { return strings.Compare(a.Name, b.Name) })
	case "reverse_sorted":
		slices.SortStableFunc(out, func(a, b *inventory.Host) int { return strings.Compare(b.Name, a.Name) })
	case "shuffle":
		rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	return out
}

// selectHosts applies a play's pattern, then --limit.
func selectHosts(inv *inventory.Inventory, pattern, limit string) ([]*inventory.Host, []string, error) {
	hosts, unmatched, err := inv.Select(pattern)
	if err != nil {
		return nil, nil, err
	}
	if limit != "" {
		hosts, err = inv.Limit(hosts, limit)
		if err != nil {
			return nil, nil, err
		}
	}
	return hosts, unmatched, nil
}

// run is the state of one Run call.
type run struct {
	opts  Options
	pb    *playbook.Playbook
	obs   *serialObserver
	forks chan struct{} // a slot per host running at once (Options.Forks)
	// abort, once set, is why the run stopped early: no later batch or
	// play starts. Only the goroutine running the plays touches it.
	abort string
	red   *redactor // secret values, hidden from every event
	mu    sync.Mutex
	hosts map[string]*hostState
	order []string
	inv   *inventory.Inventory
	magic // facts and what the magic variables need (magic.go)

	// connPlan says which hosts keep their connection after a play: none
	// after its last play, only those the next play starts with before
	// (connlife.go).
	connPlan connPlan
	// idle counts the connections kept between plays (connlife.go).
	idle idleConns
	// readsFacts is whether anything in the run could read a gathered
	// fact; without, default fact gathering is left out (factsuse.go).
	readsFacts bool

	// delegated holds the delegate_to connections (delegate.go).
	delegated delegates
	// throttled holds the slots of tasks with throttle: (throttle.go).
	throttled throttles
}

// state returns the per-host state, created on first use.
func (r *run) state(h *inventory.Host) *hostState {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.hosts[h.Name]; ok {
		s.host = h // add_host or group_by may have changed it; it is not running now
		return s
	}
	s := &hostState{host: h, recap: HostRecap{Host: h.Name}, registered: map[string]any{}}
	r.hosts[h.Name] = s
	r.order = append(r.order, h.Name)
	return s
}

func (r *run) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.hosts {
		if s.conn != nil {
			_ = s.conn.Close()
		}
	}
	r.delegated.closeAll()
	_ = r.opts.Connector.Close() // jump hosts last: the targets' streams run through them
}

// summary aggregates every host's recap and errors.
func (r *run) summary() *Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	sum := &Summary{}
	names := append([]string(nil), r.order...)
	sort.Strings(names)
	for _, n := range names {
		s := r.hosts[n]
		sum.Hosts = append(sum.Hosts, s.recap)
		if s.recap.Changed > 0 {
			sum.Changed = true
		}
		var hk *transport.HostKeyError
		switch {
		case errors.As(s.err, &hk) && hk.Mismatch:
			sum.HostKeyMismatch = append(sum.HostKeyMismatch, n)
		case errors.As(s.err, &hk):
			sum.HostKeyUnknown = append(sum.HostKeyUnknown, n)
		case s.recap.Unreachable > 0:
			sum.Unreachable = append(sum.Unreachable, n)
		case s.recap.Failed > 0:
			sum.Failed = append(sum.Failed, n)
			if s.budgetSpent {
				sum.BudgetSpent = append(sum.BudgetSpent, n)
			}
		case s.recap.Stopped:
			sum.Stopped = append(sum.Stopped, n)
		}
		if s.err != nil { // redacted: the error may quote a secret the views hide
			sum.errs = append(sum.errs, errors.New(r.red.str(s.err.Error())))
		}
	}
	if len(sum.Stopped) > 0 {
		sum.Aborted = r.abort // "stopped early" only when it stopped something
	}
	return sum
}

// stopped reports whether a graceful stop was requested.
func (r *run) stopped() bool {
	if r.opts.Stop == nil {
		return false
	}
	select {
	case <-r.opts.Stop:
		return true
	default:
		return false
	}
}

// serialObserver serialises calls to the user's observer (nil: none).
type serialObserver struct {
	mu sync.Mutex
	o  Observer
}

func newSerialObserver(o Observer) *serialObserver { return &serialObserver{o: o} }

var _ Observer = (*serialObserver)(nil)

func (s *serialObserver) RunStarted(e RunStart)     { s.call(func(o Observer) { o.RunStarted(e) }) }
func (s *serialObserver) PlayStarted(e PlayStart)   { s.call(func(o Observer) { o.PlayStarted(e) }) }
func (s *serialObserver) BatchStarted(e BatchStart) { s.call(func(o Observer) { o.BatchStarted(e) }) }
func (s *serialObserver) HostStarted(e HostStart)   { s.call(func(o Observer) { o.HostStarted(e) }) }
func (s *serialObserver) TaskStarted(e TaskStart)   { s.call(func(o Observer) { o.TaskStarted(e) }) }
func (s *serialObserver) TaskDone(e TaskResult)     { s.call(func(o Observer) { o.TaskDone(e) }) }
func (s *serialObserver) Progress(e Progress)       { s.call(func(o Observer) { o.Progress(e) }) }
func (s *serialObserver) Warning(e Warning)         { s.call(func(o Observer) { o.Warning(e) }) }
func (s *serialObserver) HostStopped(e HostStop)    { s.call(func(o Observer) { o.HostStopped(e) }) }
func (s *serialObserver) HostDone(e HostDone)       { s.call(func(o Observer) { o.HostDone(e) }) }
func (s *serialObserver) RunDone(e Summary)         { s.call(func(o Observer) { o.RunDone(e) }) }

func (s *serialObserver) call(f func(Observer)) {
	if s.o == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.o)
}
