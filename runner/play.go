package runner

import (
	"context"
	"fmt"
	"sync"

	"tend/inventory"
	"tend/runner/playbook"
)

// selection is what a play runs once --tags / --skip-tags are applied.
// Handlers are not filtered: a notified handler runs (as with Ansible).
type selection struct {
	tasks, verify []*playbook.Task
}

// runPlay runs one play: its live hosts in batches (serial:), one batch
// after another, the hosts of a batch in parallel up to Forks. It sets
// r.abort when the run must stop: any_errors_fatal, max_fail_percentage,
// a batch whose every host failed (as Ansible, this ends the run), or an
// interrupt. The hosts that then never ran are reported stopped.
func (r *run) runPlay(ctx context.Context, index int, p *playbook.Play, hosts []*inventory.Host, sizes []string) {
	sel := selection{tasks: selectTags(p.Tasks, r.opts.Tags, r.opts.SkipTags), verify: selectTags(p.Verify, r.opts.Tags, r.opts.SkipTags)}
	if !explicit(sel.tasks) && len(sel.verify) == 0 {
		return // --tags selected nothing here: no host is contacted for this play
	}
	sel.tasks = withGather(p, sel.tasks)
	r.revive()      // hosts meta: clear_host_errors cleared
	r.lists.reset() // magiclists.go: this play's lists
	r.playHosts = make([]string, len(hosts))
	for i, h := range hosts {
		r.playHosts[i] = h.Name
	}
	var live []*hostState
	for _, s := range r.states(hosts) {
		if !s.dead {
			live = append(live, s) // not failed, unreachable or stopped in an earlier play
		}
	}
	batches := splitBatches(live, sizes)
	for i, members := range batches {
		if ctx.Err() != nil || r.stopped() {
			r.abort = "interrupted"
		}
		if _, ended := r.endedPlays.Load(p); ended {
			return // meta: end_play: later batches do not start
		}
		if r.abort != "" {
			for _, rest := range batches[i:] {
				r.stopUnstarted(p, rest, r.abort, true)
			}
			return
		}
		b := newBatch(p, i+1, len(batches), len(members))
		b.playIndex = index
		names := make([]string, len(members))
		for j, s := range members {
			names[j] = s.host.Name
		}
		b.names = names
		// hostvars reads what other hosts' earlier tasks set: every host
		// finishes a task before any starts the next (Ansible's linear strategy).
		b.lockstep = b.lockstep || playMentions(p, "hostvars") || playSteers(p)
		r.obs.BatchStarted(BatchStart{Play: p.Name, Batch: b.index, Batches: b.batches, Hosts: names})
		var wg sync.WaitGroup
		for _, s := range members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.runHost(ctx, p, s, b, sel)
			}()
		}
		wg.Wait()
		switch reason := b.stopReason(); {
		case reason != "":
			r.abort = reason
		case b.failedCount() == len(members):
			if len(batches) > 1 {
				r.abort = fmt.Sprintf("every host of batch %d/%d of %s failed", b.index, b.batches, playLabel(p))
			} else {
				r.abort = fmt.Sprintf("every host of %s failed", playLabel(p))
			}
		}
	}
}

// states returns the per-host states of hosts, created on first use.
func (r *run) states(hosts []*inventory.Host) []*hostState {
	out := make([]*hostState, len(hosts))
	for i, h := range hosts {
		out[i] = r.state(h)
	}
	return out
}

// stopUnstarted stops the hosts that will not run play p because the run
// stopped. done says whether the play had started (its hosts then get a
// HostDone, for progress); a host stops once, and a host that already
// failed is left as it is.
func (r *run) stopUnstarted(p *playbook.Play, hosts []*hostState, reason string, done bool) {
	for _, s := range hosts {
		if s.dead {
			continue
		}
		s.dead = true
		s.recap.Stopped, s.recap.StopReason = true, reason
		r.obs.HostStopped(HostStop{Host: s.host.Name, Play: p.Name, Reason: "not started: " + reason})
		if done {
			r.obs.HostDone(HostDone{Host: s.host.Name, Play: p.Name, Status: StatusStopped})
		}
	}
}

// acquire takes a fork slot; false when the run was interrupted while
// waiting for one.
func (r *run) acquire(ctx context.Context) bool {
	select {
	case r.forks <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	case <-r.opts.Stop: // nil: never
		return false
	}
}

func (r *run) release() { <-r.forks }

// stopReason is why the host must not start another task, or "".
func (hp *hostPlay) stopReason(ctx context.Context) string {
	if ctx.Err() != nil || hp.r.stopped() {
		return "interrupted"
	}
	return hp.b.stopReason()
}

// stop ends the host's run before task (its name; "" when unknown): it
// did not fail, the run stopped it. Later plays skip it.
func (hp *hostPlay) stop(task, reason string) {
	s := hp.s
	s.dead = true
	s.recap.Stopped, s.recap.StopReason = true, reason
	hp.status = StatusStopped
	hp.r.obs.HostStopped(HostStop{Host: s.host.Name, Play: hp.play.Name, Task: task, Reason: reason})
}

// finish closes the play on the host: it leaves the batch's barrier and
// reports HostDone.
func (hp *hostPlay) finish() {
	hp.b.leave()
	hp.r.obs.HostDone(HostDone{Host: hp.s.host.Name, Play: hp.play.Name, Status: hp.status, Metrics: hp.playMetrics(), Rollback: hp.rolled})
}

// counted records the host's failure in its batch, once per play.
func (hp *hostPlay) counted(how Status) {
	if hp.status != StatusOK {
		return
	}
	hp.status = how
	hp.b.hostFailed(hp.s.host.Name, string(how), hp.fatal())
}

// workLeft reports whether the host has anything left to do after its
// tasks: notified handlers, or (applying) re-checks and verify tasks.
func (hp *hostPlay) workLeft(sel selection) bool {
	for _, h := range hp.play.Handlers {
		if hp.isNotified(h) {
			return true
		}
	}
	return !hp.r.opts.Check && (len(hp.applied) > 0 || len(sel.verify) > 0)
}

// playLabel names a play in messages: its name, or its position.
func playLabel(p *playbook.Play) string {
	if p.Name != "" {
		return fmt.Sprintf("play %q", p.Name)
	}
	return "the play at " + p.Pos.String()
}

// firstName is the display name of the first task, or "".
func firstName(tasks []*playbook.Task) string {
	if len(tasks) == 0 {
		return ""
	}
	return tasks[0].DisplayName()
}

// hold takes a fork slot unless the host holds one; false when the run
// was interrupted while waiting.
func (hp *hostPlay) hold(ctx context.Context) bool {
	if hp.holding {
		return true
	}
	if !hp.r.acquire(ctx) {
		return false
	}
	hp.holding = true
	return true
}

// unhold gives the host's fork slot back, if it holds one.
func (hp *hostPlay) unhold() {
	if hp.holding {
		hp.r.release()
		hp.holding = false
	}
}
