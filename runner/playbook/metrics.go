package playbook

import (
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// Metric is one value a task exposes (its metrics: mapping): after the
// task, on each host, Expr is evaluated with the host's variables and
// exported as a gauge with the host's label and Labels (rendered too).
type Metric struct {
	Pos Pos
	// Name is the metric's name, such as tend_mq_closewait_sockets.
	Name string
	// Labels are the constant labels written after the name in the key
	// ({phase="before"}); their values may be templates.
	Labels map[string]string
	// Expr is the value: an expression (closewait.count), or a template
	// ("{{ closewait.count }}") when it holds {{.
	Expr string
}

var (
	metricNameRe = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNameRe  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	labelRe      = regexp.MustCompile(`^\s*([^=\s]+)\s*=\s*"([^"]*)"\s*$`)
)

// reservedLabels are set by tend on every playbook metric (host,
// playbook) or by a Pushgateway (job, instance).
var reservedLabels = map[string]bool{"host": true, "playbook": true, "job": true, "instance": true}

// metrics reads a play's or task's metrics: mapping, each key a metric name with
// optional labels in Prometheus syntax: name{label="value",...}.
func (p *parser) metrics(v *yaml.Node, field string) []Metric {
	v = yamlnode.Resolve(v)
	if v.Kind != yaml.MappingNode {
		p.Errorf(v, field, "must be a mapping from a metric name to an expression, not %s", yamlnode.Describe(v))
		return nil
	}
	var out []Metric
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], yamlnode.Resolve(v.Content[i+1])
		kf := yamlnode.JoinPath(field, k.Value)
		m := Metric{Pos: yamlnode.PosOf(p.File(), k)}
		var msg string
		m.Name, m.Labels, msg = parseMetricKey(k.Value)
		if msg != "" {
			p.Errorf(k, kf, "%s", msg)
			continue
		}
		if val.Kind != yaml.ScalarNode || yamlnode.IsNull(val) {
			p.Errorf(val, kf, "must be an expression or a template, not %s", yamlnode.Describe(val))
			continue
		}
		m.Expr = val.Value
		out = append(out, m)
	}
	return out
}

// parseMetricKey splits name{label="value",...}; msg says what is wrong.
func parseMetricKey(key string) (name string, labels map[string]string, msg string) {
	name, rest, hasLabels := strings.Cut(key, "{")
	if !metricNameRe.MatchString(name) {
		return "", nil, "metric name " + quote(name) + " is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)"
	}
	if !hasLabels {
		return name, nil, ""
	}
	body, ok := strings.CutSuffix(rest, "}")
	if !ok {
		return "", nil, "metric " + quote(key) + ": labels must end with }"
	}
	labels = map[string]string{}
	for _, part := range strings.Split(body, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		sub := labelRe.FindStringSubmatch(part)
		switch {
		case sub == nil:
			return "", nil, "metric " + quote(key) + ": label " + quote(strings.TrimSpace(part)) + ` must be name="value"`
		case !labelNameRe.MatchString(sub[1]) || strings.HasPrefix(sub[1], "__"):
			return "", nil, "metric " + quote(key) + ": " + quote(sub[1]) + " is not a label name"
		case reservedLabels[sub[1]]:
			return "", nil, "metric " + quote(key) + ": label " + quote(sub[1]) + " is set by tend"
		}
		labels[sub[1]] = sub[2]
	}
	return name, labels, ""
}

func quote(s string) string { return strconv.Quote(s) }
