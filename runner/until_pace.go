package runner

import (
	"fmt"
	"strconv"
	"time"

	"tend/runner/playbook"
	"tend/runner/template"
)

// retryPace returns the task's retries and delay: the literal ones, a
// templated one rendered with the host's variables (Ansible's int
// fields: an integer, or a string of decimal digits), or the defaults.
// A rendered value that is no whole number >= 0 is a positioned error.
func (hp *hostPlay) retryPace(t *playbook.Task) (retries int, delay time.Duration, err error) {
	retries, delay = DefaultRetries, DefaultDelay
	if t.Retries != nil {
		retries = *t.Retries
	}
	if t.Delay != nil {
		delay = *t.Delay
	}
	if t.RetriesTemplate != "" {
		if retries, err = hp.renderCount(t, "retries", t.RetriesTemplate); err != nil {
			return 0, 0, err
		}
	}
	if t.DelayTemplate != "" {
		secs, err := hp.renderCount(t, "delay", t.DelayTemplate)
		if err != nil {
			return 0, 0, err
		}
		delay = time.Duration(secs) * time.Second
	}
	return retries, delay, nil
}

// renderCount renders a templated integer keyword of t.
func (hp *hostPlay) renderCount(t *playbook.Task, key, tmpl string) (int, error) {
	pos, ok := t.KeyPos[key]
	if !ok {
		pos = t.Pos
	}
	v, err := template.Render(tmpl, hp.vars(t))
	if err != nil {
		return 0, fmt.Errorf("%s: %s: %w", pos, key, err)
	}
	n, ok := wholeNumber(v)
	if !ok || n < 0 || n > 1<<31-1 {
		return 0, fmt.Errorf("%s: %s: %q rendered %s; must be a whole number >= 0", pos, key, tmpl, describeValue(v))
	}
	return n, nil
}

// wholeNumber reads an int, a float with no fraction, or a string of
// decimal digits, as Ansible's int conversion of a templated field does.
func wholeNumber(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case uint64:
		return int(x), x <= 1<<31-1
	case float64:
		return int(x), x == float64(int(x))
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}

// describeValue shows a rendered value in an error: a string quoted,
// anything else with its Go form.
func describeValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%v", v)
}
