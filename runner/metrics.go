package runner

import (
	"fmt"
	"strconv"
	"strings"

	"tend/runner/playbook"
	"tend/runner/template"
)

// MetricValue is one value a task's metrics: mapping exposed on a host: a
// gauge named Name with Labels (the host's label is added by consumers).
type MetricValue struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	Value  float64           `json:"value"`
}

// checkMetric compiles a metric's expression and label templates.
func checkMetric(m playbook.Metric) error {
	if err := template.Check(m.Expr); err != nil {
		return err
	}
	for k, v := range m.Labels {
		if err := template.CheckTemplate(v); err != nil {
			return fmt.Errorf("label %s: %w", k, err)
		}
	}
	return nil
}

// metrics evaluates t's metrics: with the host's variables after the task
// (its registered result included). A skipped or failed task exposes
// nothing; a value that cannot be evaluated is a warning, not a failure:
// metrics observe the remediation and never change its outcome.
func (hp *hostPlay) metrics(t *playbook.Task, st Status) []MetricValue {
	if len(t.Metrics) == 0 || (st != StatusOK && st != StatusChanged) {
		return nil
	}
	return hp.evalMetrics(t.Metrics, hp.vars(t), t.DisplayName())
}

// playMetrics evaluates the play's metrics: on a host that finished it.
func (hp *hostPlay) playMetrics() []MetricValue {
	if len(hp.play.Metrics) == 0 || hp.status != StatusOK {
		return nil
	}
	return hp.evalMetrics(hp.play.Metrics, hp.vars(nil), "")
}

// evalMetrics evaluates ms with vars; task names the warnings' task.
func (hp *hostPlay) evalMetrics(ms []playbook.Metric, vars map[string]any, task string) []MetricValue {
	var out []MetricValue
	for _, m := range ms {
		mv, err := evalMetric(m, vars)
		if err != nil {
			hp.r.obs.Warning(Warning{Host: hp.s.host.Name, Play: hp.play.Name, Task: task,
				Msg: fmt.Sprintf("metric %s not exposed: %v", m.Name, err)}) // the observer redacts it
			continue
		}
		for k, v := range mv.Labels { // a label never carries a secret (secret_vars): TaskDone and HostDone are not redacted for it
			mv.Labels[k] = hp.r.red.str(v)
		}
		out = append(out, mv)
	}
	return out
}

// evalMetric evaluates one metric: its value must be a number, a bool
// (1 or 0) or a string holding a number.
func evalMetric(m playbook.Metric, vars map[string]any) (MetricValue, error) {
	mv := MetricValue{Name: m.Name}
	if len(m.Labels) > 0 {
		mv.Labels = make(map[string]string, len(m.Labels))
		for k, tmpl := range m.Labels {
			v, err := template.Render(tmpl, vars)
			if err != nil {
				return mv, fmt.Errorf("label %s: %w", k, err)
			}
			mv.Labels[k] = fmt.Sprint(v)
		}
	}
	v, err := template.Eval(m.Expr, vars)
	if err != nil {
		return mv, err
	}
	switch x := v.(type) {
	case bool:
		if x {
			mv.Value = 1
		}
	case int:
		mv.Value = float64(x)
	case int64:
		mv.Value = float64(x)
	case float64:
		mv.Value = x
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return mv, fmt.Errorf("%s is %q, not a number", m.Expr, x)
		}
		mv.Value = f
	default:
		return mv, fmt.Errorf("%s is %T, not a number", m.Expr, v)
	}
	return mv, nil
}
