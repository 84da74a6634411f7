package playbook

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// Budget limits how often a task may change one host (its budget:
// mapping): at most Max successful changes within Per, counted across
// runs on the host itself. Max and Per are kept as written: either may be
// a template, rendered with the host's variables when the task runs.
type Budget struct {
	Pos Pos
	// Max is the number of changes allowed within the window.
	Max    string
	MaxPos Pos
	// Per is the window: a Go duration ("24h") or whole seconds.
	Per    string
	PerPos Pos
}

// ParseBudgetMax reads a budget's max: a whole number of at least 1.
func ParseBudgetMax(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("must be a whole number of at least 1, not %q", s)
	}
	return n, nil
}

// ParseBudgetPer reads a budget's window: a Go duration ("24h", "90m")
// or a whole number of seconds, longer than zero.
func ParseBudgetPer(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if secs, err := strconv.ParseInt(s, 10, 64); err == nil {
		if secs < 1 || secs > int64(1<<62)/int64(time.Second) {
			return 0, fmt.Errorf("must be a duration longer than zero, not %q", s)
		}
		return time.Duration(secs) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf(`must be a duration like "24h" longer than zero, not %q`, s)
	}
	return d, nil
}

// budget reads a task's budget: {max: N, per: DURATION} mapping; literal
// values are checked here, templated ones when the task runs.
func (p *parser) budget(v *yaml.Node, field string) *Budget {
	v = yamlnode.Resolve(v)
	if v.Kind != yaml.MappingNode {
		p.Errorf(v, field, `must be a mapping like {max: 3, per: 24h}, not %s`, yamlnode.Describe(v))
		return nil
	}
	b := &Budget{Pos: yamlnode.PosOf(p.File(), v)}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], yamlnode.Resolve(v.Content[i+1])
		kf := yamlnode.JoinPath(field, k.Value)
		if val.Kind != yaml.ScalarNode || yamlnode.IsNull(val) {
			p.Errorf(val, kf, "must be a value or a template, not %s", yamlnode.Describe(val))
			continue
		}
		templated := yamlnode.IsTemplateText(val.Value)
		switch k.Value {
		case "max":
			b.Max, b.MaxPos = val.Value, yamlnode.PosOf(p.File(), val)
			if !templated {
				if _, err := ParseBudgetMax(val.Value); err != nil {
					p.Errorf(val, kf, "%v", err)
				}
			}
		case "per":
			b.Per, b.PerPos = val.Value, yamlnode.PosOf(p.File(), val)
			if !templated {
				if _, err := ParseBudgetPer(val.Value); err != nil {
					p.Errorf(val, kf, "%v", err)
				}
			}
		default:
			p.Errorf(k, kf, "unknown budget key %q: only max and per", k.Value)
		}
	}
	if b.Max == "" {
		p.Errorf(v, field, "needs max: (how many changes are allowed)")
	}
	if b.Per == "" {
		p.Errorf(v, field, "needs per: (the window, like 24h)")
	}
	return b
}
