package runner

import (
	"fmt"
	"strings"

	"tend/internal/yamlnode"

	"tend/runner/playbook"
	"tend/runner/template"
)

// renderBoolKeywords renders the task's templated boolean keywords
// (playbook.TemplatedBools: no_log: "{{ mask_secrets | bool }}") with the
// host's variables into hp.kw, as ansible-core's post-validation does
// for each host and loop item. strict is the pass after when: a keyword
// that fails to render, or renders no boolean, is an error at its
// position. The lenient pass before when (ansible-core renders no_log
// for the play context before when) keeps what renders and drops the rest.
func (hp *hostPlay) renderBoolKeywords(t *playbook.Task, vars map[string]any, strict bool) error {
	hp.kw = nil
	if len(t.BoolTemplates) == 0 {
		return nil
	}
	kw := map[string]bool{}
	defer func() { hp.kw = kw }()
	for _, key := range playbook.TemplatedBools {
		tmpl, ok := t.BoolTemplates[key]
		if !ok {
			continue
		}
		pos, ok := t.KeyPos[key]
		if !ok {
			pos = t.Pos
		}
		// A no_log that fails to render hides nothing: the task stops
		// before its module runs, and its error is the keyword's own.
		v, err := template.Render(tmpl, vars)
		if err != nil {
			if !strict {
				continue
			}
			if key == "no_log" {
				kw[key] = false
			}
			return fmt.Errorf("%s: %s: %w", pos, key, err)
		}
		if v == OmitToken {
			continue // as not given: the default
		}
		b, ok := ansibleBoolean(v)
		if !ok {
			if !strict {
				continue
			}
			if key == "no_log" {
				kw[key] = false
			}
			return fmt.Errorf("%s: %s: %q rendered %s, which is not a valid boolean (true/false, yes/no, on/off, y/n, t/f, 1/0)", pos, key, tmpl, describeValue(v))
		}
		kw[key] = b
	}
	return nil
}

// ansibleBoolean converts a rendered keyword as ansible-core's boolean()
// does for a task field: a bool, the numbers 1 and 0, or one of its
// words in any case with surrounding space; None (an unset field) is
// false.
func ansibleBoolean(v any) (bool, bool) {
	switch x := v.(type) {
	case nil:
		return false, true
	case bool:
		return x, true
	case int:
		return x == 1, x == 0 || x == 1
	case int64:
		return x == 1, x == 0 || x == 1
	case float64:
		return x == 1, x == 0 || x == 1
	case string:
		return yamlnode.AnsibleBool(strings.TrimSpace(x))
	}
	return false, false
}

// boolKeyword is the value of boolean keyword key for the task running
// now: its rendered template (hp.kw) when it has one, else literal. set
// is false for a template that was not rendered (or rendered omit).
func (hp *hostPlay) boolKeyword(t *playbook.Task, key string, literal bool) (value, set bool) {
	if _, ok := t.BoolTemplates[key]; !ok {
		return literal, true
	}
	value, set = hp.kw[key]
	return value, set
}

// noLog reports whether the running task's output is hidden: a literal
// no_log, or a template that rendered true or has not rendered (a
// secret is never shown on a guess).
func (hp *hostPlay) noLog(t *playbook.Task) bool {
	if t.NoLog {
		return true
	}
	v, set := hp.boolKeyword(t, "no_log", false)
	return v || !set
}

// ignoreErrors is the running task's ignore_errors.
func (hp *hostPlay) ignoreErrors(t *playbook.Task) bool {
	v, _ := hp.boolKeyword(t, "ignore_errors", t.IgnoreErrors)
	return v
}

// ignoreUnreachable is the running task's ignore_unreachable.
func (hp *hostPlay) ignoreUnreachable(t *playbook.Task) bool {
	v, _ := hp.boolKeyword(t, "ignore_unreachable", t.IgnoreUnreachable)
	return v
}

// optBool is a keyword that may be unset (become, check_mode): its
// rendered template, or the literal pointer.
func (hp *hostPlay) optBool(t *playbook.Task, key string, literal *bool) *bool {
	if _, ok := t.BoolTemplates[key]; !ok {
		return literal
	}
	if v, set := hp.kw[key]; set {
		return &v
	}
	return nil
}

// checkMode is the running task's check_mode, nil when not given.
func (hp *hostPlay) checkMode(t *playbook.Task) *bool {
	return hp.optBool(t, "check_mode", t.CheckMode)
}

// taskBecome is the running task's become, nil when not given.
func (hp *hostPlay) taskBecome(t *playbook.Task) *bool {
	return hp.optBool(t, "become", t.Become)
}

// factsDelegated reports whether the facts the running task sets go to
// its delegate (delegate_facts on set_fact or a fact module: setup,
// package_facts, service_facts).
func (hp *hostPlay) factsDelegated(t *playbook.Task) bool {
	v, _ := hp.boolKeyword(t, "delegate_facts", t.DelegateFacts)
	return v && (factModules[t.Module] || t.Module == "set_fact")
}
