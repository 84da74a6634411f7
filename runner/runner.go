// Package runner executes a playbook across an inventory: hosts in parallel
// (bounded by forks), tasks in order per host, handlers, then verification.
// It never prints: it reports events to an Observer and returns a Summary.
package runner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-multierror"
	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"

	"tend/inventory"
	"tend/runner/modules"
	"tend/runner/playbook"
	"tend/runner/template"
	"tend/runner/transport"
)

// DefaultForks is how many hosts run at once unless told otherwise: large
// enough that a fleet is not serialised (Ansible's 5 is a common complaint).
const DefaultForks = 50

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
	// Connect settings shared by every host.
	Connect ConnectOptions
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
	// HostKeyMismatch and HostKeyUnknown list hosts refused for their key.
	HostKeyMismatch []string      `json:"host_key_mismatch,omitempty"`
	HostKeyUnknown  []string      `json:"host_key_unknown,omitempty"`
	Duration        time.Duration `json:"duration_ns"`
	// Err aggregates every host's failure (go-multierror); nil on success.
	Err error `json:"-"`
}

// InputError means the playbook, inventory or options are invalid; no host
// was contacted.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Validate checks every task's module arguments before any host is
// contacted, so a typo fails the run at once with its position.
func Validate(pb *playbook.Playbook) error {
	var errs *multierror.Error
	check := func(tasks []*playbook.Task) {
		for _, t := range tasks {
			spec, ok := modules.Lookup(t.Module)
			if !ok {
				errs = multierror.Append(errs, &playbook.Error{Pos: t.ModulePos, Field: t.Module, Msg: "unknown module"})
				continue
			}
			if _, err := spec.New(modules.Args{Node: t.Args, File: pb.File}); err != nil {
				errs = multierror.Append(errs, err)
			}
			for _, f := range []struct {
				name  string
				conds []string
			}{{"when", t.When}, {"changed_when", t.ChangedWhen}, {"failed_when", t.FailedWhen}, {"until", t.Until}} {
				for _, c := range f.conds {
					if err := template.Check(c); err != nil {
						errs = multierror.Append(errs, &playbook.Error{Pos: t.Pos, Field: f.name, Msg: err.Error()})
					}
				}
			}
			if err := checkTemplates(pb.File, t.Args); err != nil {
				errs = multierror.Append(errs, err)
			}
		}
	}
	for _, p := range pb.Plays {
		check(p.Tasks)
		check(p.Handlers)
		check(p.Verify)
	}
	return errs.ErrorOrNil()
}

// checkTemplates compiles every {{ }} in a module's arguments, so a syntax
// error is reported with its position before any host is contacted.
func checkTemplates(file string, n *yaml.Node) error {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		if err := template.CheckTemplate(n.Value); err != nil {
			return &playbook.Error{Pos: playbook.Pos{File: file, Line: n.Line, Col: n.Column}, Msg: err.Error()}
		}
		return nil
	}
	for _, c := range n.Content {
		if err := checkTemplates(file, c); err != nil {
			return err
		}
	}
	return nil
}

// Run executes every play of pb on the hosts of inv. It returns an
// *InputError before contacting any host when the input is invalid; per-host
// failures are in Summary.Err, not in the returned error.
func Run(ctx context.Context, pb *playbook.Playbook, inv *inventory.Inventory, opts Options) (*Summary, error) {
	if err := Validate(pb); err != nil {
		return nil, &InputError{Err: err}
	}
	if opts.Forks <= 0 {
		opts.Forks = DefaultForks
	}
	obs := &serialObserver{o: opts.Observer}
	r := &run{opts: opts, pb: pb, obs: obs, hosts: map[string]*hostState{}}
	// Resolve every play's hosts first: a bad pattern is input, not a host failure.
	plays := make([][]*inventory.Host, len(pb.Plays))
	for i, p := range pb.Plays {
		hosts, unmatched, err := selectHosts(inv, p.Hosts, opts.Limit)
		if err != nil {
			return nil, &InputError{Err: fmt.Errorf("%s: hosts: %w", p.Pos, err)}
		}
		plays[i] = hosts
		_ = unmatched
	}
	start := time.Now()
	obs.RunStarted(RunStart{Playbook: pb.File, Check: opts.Check})
	defer r.closeAll()
	for i, p := range pb.Plays {
		if err := ctx.Err(); err != nil {
			break
		}
		names := make([]string, len(plays[i]))
		for j, h := range plays[i] {
			names[j] = h.Name
		}
		obs.PlayStarted(PlayStart{Name: p.Name, Hosts: names})
		r.runPlay(ctx, p, plays[i])
	}
	sum := r.summary()
	sum.Duration = time.Since(start)
	obs.RunDone(*sum)
	return sum, nil
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
	mu    sync.Mutex
	hosts map[string]*hostState
	order []string
}

// state returns the per-host state, created on first use.
func (r *run) state(h *inventory.Host) *hostState {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.hosts[h.Name]; ok {
		return s
	}
	s := &hostState{host: h, recap: HostRecap{Host: h.Name}, registered: map[string]any{}}
	r.hosts[h.Name] = s
	r.order = append(r.order, h.Name)
	return s
}

// runPlay runs one play on its hosts, in parallel up to Forks.
func (r *run) runPlay(ctx context.Context, p *playbook.Play, hosts []*inventory.Host) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.opts.Forks)
	for _, h := range hosts {
		s := r.state(h)
		if s.dead {
			continue // failed or unreachable in an earlier play
		}
		g.Go(func() error {
			r.runHost(gctx, p, s)
			return nil // a host's failure never stops the others
		})
	}
	_ = g.Wait()
}

func (r *run) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.hosts {
		if s.conn != nil {
			_ = s.conn.Close()
		}
	}
}

// summary aggregates every host's recap and errors.
func (r *run) summary() *Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	sum := &Summary{}
	var errs *multierror.Error
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
		}
		if s.err != nil {
			errs = multierror.Append(errs, s.err)
		}
	}
	sum.Err = errs.ErrorOrNil()
	return sum
}

// ErrInterrupted marks hosts stopped by Options.Stop before a task.
var ErrInterrupted = errors.New("interrupted")

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

// serialObserver serialises calls to the user's observer.
type serialObserver struct {
	mu sync.Mutex
	o  Observer
}

func (s *serialObserver) RunStarted(e RunStart)   { s.call(func(o Observer) { o.RunStarted(e) }) }
func (s *serialObserver) PlayStarted(e PlayStart) { s.call(func(o Observer) { o.PlayStarted(e) }) }
func (s *serialObserver) TaskDone(e TaskResult)   { s.call(func(o Observer) { o.TaskDone(e) }) }
func (s *serialObserver) RunDone(e Summary)       { s.call(func(o Observer) { o.RunDone(e) }) }

func (s *serialObserver) call(f func(Observer)) {
	if s.o == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.o)
}
