// Package metrics turns a run's events into Prometheus metrics: written
// for node_exporter's textfile collector (--metrics-file) or pushed to a
// Pushgateway (--metrics-push). It observes the engine's event stream and
// never changes a run's outcome: an export that fails is a warning.
package metrics

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tend/runner"
)

// Metric names tend itself exports.
const (
	LastSuccess = "tend_run_last_success_timestamp_seconds"
	Duration    = "tend_run_duration_seconds"
	Hosts       = "tend_run_hosts"
	HostChanged = "tend_host_changed"
	// BudgetSpent is 1 for a task whose budget: stopped it on the host.
	BudgetSpent = "tend_budget_spent"
	// Relapse is 1 for a budgeted task that changed the host again within
	// its window: the previous remedy did not hold.
	Relapse = "tend_relapse"
)

// Outcomes are the values of tend_run_hosts' outcome label: every one is
// exported, 0 when no host ended so, so a series never vanishes.
var Outcomes = []string{"ok", "changed", "failed", "unreachable", "stopped"}

// Recorder collects what a run exports: it is a runner.Observer of the
// run's TaskDone and HostDone (the values of tasks' and plays' metrics:
// mappings) and RunDone (the recap).
type Recorder struct {
	runner.NopObserver
	playbook string
	now      func() time.Time

	mu     sync.Mutex
	values []hostValue
	budget []budgetValue
	sum    *runner.Summary
	end    time.Time
}

// hostValue is one value of a playbook's metrics: on one host.
type hostValue struct {
	host string
	runner.MetricValue
}

// budgetValue is how a budgeted task stood on one host.
type budgetValue struct {
	host, task     string
	spent, relapse bool
}

// NewRecorder returns a recorder labelling every metric with playbook
// (the playbook's name, also the push grouping key); now stamps a success.
func NewRecorder(playbook string, now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{playbook: playbook, now: now}
}

// TaskDone keeps the values the task's metrics: mapping exposed.
func (r *Recorder) TaskDone(e runner.TaskResult) {
	r.add(e.Host, e.Metrics)
	if e.Budget != nil && e.Item == "" {
		r.mu.Lock()
		r.budget = append(r.budget, budgetValue{e.Host, e.Task, e.Budget.Spent, e.Budget.Relapse})
		r.mu.Unlock()
	}
}

func (r *Recorder) add(host string, ms []runner.MetricValue) {
	if len(ms) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range ms {
		r.values = append(r.values, hostValue{host: host, MetricValue: m})
	}
}

// HostDone keeps the values the play's metrics: mapping exposed.
func (r *Recorder) HostDone(e runner.HostDone) {
	r.add(e.Host, e.Metrics)
}

// RunDone keeps the run's recap and the time it ended.
func (r *Recorder) RunDone(s runner.Summary) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum, r.end = &s, r.now()
}

// Succeeded says whether the run ended with every host ok or changed: only
// such a run moves tend_run_last_success_timestamp_seconds.
func (r *Recorder) Succeeded() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.succeeded()
}

func (r *Recorder) succeeded() bool {
	s := r.sum
	return s != nil && len(s.Failed) == 0 && len(s.Unreachable) == 0 && len(s.HostKeyMismatch) == 0 &&
		len(s.HostKeyUnknown) == 0 && len(s.Stopped) == 0 && s.Aborted == ""
}

// outcome is the host's outcome in tend_run_hosts.
func outcome(s *runner.Summary, h runner.HostRecap) string {
	switch {
	case slices.Contains(s.Unreachable, h.Host) || slices.Contains(s.HostKeyMismatch, h.Host) || slices.Contains(s.HostKeyUnknown, h.Host):
		return "unreachable"
	case slices.Contains(s.Failed, h.Host):
		return "failed"
	case h.Stopped || slices.Contains(s.Stopped, h.Host):
		return "stopped"
	case h.Changed > 0:
		return "changed"
	}
	return "ok"
}

// Registry builds the run's metrics. lastSuccess is the previous
// success's time (Unix seconds; 0 when none): a failed run keeps it, since
// an export replaces the whole file. A playbook metric whose labels clash
// with an earlier one of the same name is left out, with a warning.
func (r *Recorder) Registry(lastSuccess float64) (*prometheus.Registry, []string) {
	return r.registry(lastSuccess, prometheus.Labels{"playbook": r.playbook})
}

// registry builds the metrics with the constant labels pb: none for a
// push, whose grouping key carries the playbook label.
func (r *Recorder) registry(lastSuccess float64, pb prometheus.Labels) (*prometheus.Registry, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reg := prometheus.NewRegistry()
	gauge := func(name, help string, v float64) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: pb})
		g.Set(v)
		reg.MustRegister(g)
	}
	if r.succeeded() {
		lastSuccess = float64(r.end.UnixNano()) / 1e9
	}
	if lastSuccess > 0 {
		gauge(LastSuccess, "When the playbook last ran with every host ok or changed (Unix time).", lastSuccess)
	}
	if r.sum == nil {
		return reg, nil
	}
	gauge(Duration, "How long the playbook's last run took.", r.sum.Duration.Seconds())
	hosts := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: Hosts, ConstLabels: pb,
		Help: "Hosts of the last run by outcome: ok, changed, failed, unreachable, stopped."}, []string{"outcome"})
	changed := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: HostChanged, ConstLabels: pb,
		Help: "1 when the last run changed (or would change, with --check) the host."}, []string{"host"})
	for _, o := range Outcomes {
		hosts.WithLabelValues(o)
	}
	for _, h := range r.sum.Hosts {
		hosts.WithLabelValues(outcome(r.sum, h)).Inc()
		v := 0.0
		if h.Changed > 0 {
			v = 1
		}
		changed.WithLabelValues(h.Host).Set(v)
	}
	reg.MustRegister(hosts, changed)
	if len(r.budget) > 0 {
		spent := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: BudgetSpent, ConstLabels: pb,
			Help: "1 when the task's budget: was spent on the host, so it did not run."}, []string{"host", "task"})
		relapse := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: Relapse, ConstLabels: pb,
			Help: "1 when the budgeted task changed the host again within its window: the remedy is not holding."}, []string{"host", "task"})
		for _, b := range r.budget {
			spent.WithLabelValues(b.host, b.task).Set(b2f(b.spent))
			relapse.WithLabelValues(b.host, b.task).Set(b2f(b.relapse))
		}
		reg.MustRegister(spent, relapse)
	}
	return reg, r.register(reg, pb)
}

// register adds the playbook's own metrics (metrics: mappings), one
// gauge vector per name labelled host plus the mapping's labels.
func (r *Recorder) register(reg *prometheus.Registry, pb prometheus.Labels) []string {
	var warns []string
	vecs := map[string]*prometheus.GaugeVec{}
	keys := map[string][]string{}
	for _, v := range r.values {
		names := append(slices.Sorted(maps.Keys(v.Labels)), "host")
		sort.Strings(names)
		vec, ok := vecs[v.Name]
		if !ok {
			vec = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: v.Name, ConstLabels: pb,
				Help: "Exposed by the playbook's metrics: mapping."}, names)
			if err := reg.Register(vec); err != nil {
				warns = append(warns, fmt.Sprintf("metrics: %s not exported: %v", v.Name, err))
				vecs[v.Name], keys[v.Name] = nil, nil
				continue
			}
			vecs[v.Name], keys[v.Name] = vec, names
		}
		if vec == nil {
			continue
		}
		if !slices.Equal(keys[v.Name], names) {
			warns = append(warns, fmt.Sprintf("metrics: %s on %s has labels %s, not %s as before: left out",
				v.Name, v.host, strings.Join(names, ","), strings.Join(keys[v.Name], ",")))
			continue
		}
		lv := maps.Clone(v.Labels)
		if lv == nil {
			lv = prometheus.Labels{}
		}
		lv["host"] = v.host
		vec.With(lv).Set(v.Value)
	}
	return warns
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
