package metrics

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"tend/runner"
)

// Job is the Pushgateway job label of tend's pushes.
const Job = "tend"

// Targets says where a run's metrics go; empty fields export nothing.
type Targets struct {
	// File is a node_exporter textfile collector file (.prom), replaced
	// atomically (a temporary file renamed in its directory).
	File string
	// Push is a Pushgateway's URL: the metrics are pushed to the group
	// job="tend", playbook=NAME.
	Push string
}

// CheckFile says whether path can be a textfile collector's file: node
// exporter reads only *.prom files.
func CheckFile(path string) error {
	if !strings.HasSuffix(path, ".prom") {
		return fmt.Errorf("%s: node_exporter's textfile collector reads only files named *.prom", path)
	}
	return nil
}

// WriteFile writes the run's metrics to path, keeping the last success
// time the previous file held when this run did not succeed.
func (r *Recorder) WriteFile(path string) ([]string, error) {
	last, err := previousSuccess(path, r.playbook)
	var warns []string
	if err != nil {
		warns = append(warns, fmt.Sprintf("metrics: previous %s unreadable, last success time not kept: %v", path, err))
	}
	reg, w := r.Registry(last)
	warns = append(warns, w...)
	if err := prometheus.WriteToTextfile(path, reg); err != nil {
		return warns, fmt.Errorf("metrics: %w", err)
	}
	return warns, nil
}

// previousSuccess reads tend_run_last_success_timestamp_seconds of
// playbook from an existing file; 0 when there is no file or no value.
func previousSuccess(path, playbook string) (float64, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(f)
	if err != nil {
		return 0, err
	}
	fam, ok := families[LastSuccess]
	if !ok {
		return 0, nil
	}
	for _, m := range fam.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "playbook" && l.GetValue() == playbook && m.GetGauge() != nil {
				return m.GetGauge().GetValue(), nil
			}
		}
	}
	return 0, nil
}

// Push sends the run's metrics to the Pushgateway at url, in the group
// job="tend", playbook=NAME. A successful run replaces the group (PUT); a
// failed one replaces only the metrics it has (POST), so the gateway keeps
// the last success time it holds.
func (r *Recorder) Push(url string) ([]string, error) {
	reg, warns := r.registry(0, nil) // the grouping key labels the playbook
	p := push.New(url, Job).Grouping("playbook", r.playbook).Gatherer(reg)
	var err error
	if r.Succeeded() {
		err = p.Push()
	} else {
		err = p.Add()
	}
	if err != nil {
		return warns, fmt.Errorf("metrics: push to %s: %w", url, err)
	}
	return warns, nil
}

// Export writes and pushes the run's metrics where t says; every problem
// is a message for a warning event (the run's outcome stands).
func (r *Recorder) Export(t Targets) []string {
	var warns []string
	do := func(what string, f func() ([]string, error)) {
		w, err := f()
		warns = append(warns, w...)
		if err != nil {
			warns = append(warns, fmt.Sprintf("%s: metrics were not %s", err, what))
		}
	}
	if t.File != "" {
		do("written", func() ([]string, error) { return r.WriteFile(t.File) })
	}
	if t.Push != "" {
		do("pushed", func() ([]string, error) { return r.Push(t.Push) })
	}
	return warns
}

// Observer returns next with the recorder listening: at the run's end it
// exports to t, reporting each problem as a Warning event before
// next's RunDone (which stays the last event).
func (r *Recorder) Observer(next runner.Observer, t Targets) runner.Observer {
	return &tee{Observer: next, r: r, t: t}
}

type tee struct {
	runner.Observer
	r *Recorder
	t Targets
}

func (o *tee) TaskDone(e runner.TaskResult) {
	o.r.TaskDone(e)
	o.Observer.TaskDone(e)
}

func (o *tee) HostDone(e runner.HostDone) {
	o.r.HostDone(e)
	o.Observer.HostDone(e)
}

func (o *tee) RunDone(s runner.Summary) {
	o.r.RunDone(s)
	for _, w := range o.r.Export(o.t) {
		o.Observer.Warning(runner.Warning{Msg: w})
	}
	o.Observer.RunDone(s)
}

// Name is the playbook label of a playbook argument: its file name
// without directory or .yml/.yaml.
func Name(playbook string) string {
	n := filepath.Base(playbook)
	for _, ext := range []string{".yml", ".yaml"} {
		n = strings.TrimSuffix(n, ext)
	}
	return n
}
