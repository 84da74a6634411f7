package runner

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"tend/internal/omap"
	"tend/runner/plan"
	"tend/runner/playbook"
)

// Redacted replaces every occurrence of a secret value in what observers see.
const Redacted = "********"

// NoLogText replaces the arguments and output of a no_log task in every event.
const NoLogText = "(output hidden: no_log)"

// minSecretLen is the shortest value redacted: replacing "on" or "1"
// everywhere would shred the output and reveal nothing useful anyway.
const minSecretLen = 4

// builtinSecretVars are secret without being named in secret_vars.
var builtinSecretVars = []string{"ansible_become_password", "ansible_become_pass", "ansible_password", "ansible_ssh_pass"}

// redactor replaces secret values with Redacted. Secrets are collected per
// host as its tasks' variables are built, and applied run-wide (a secret
// of one host is hidden in every host's output). Safe for concurrent use.
type redactor struct {
	mu      sync.RWMutex
	secrets []string // longest first
	rep     *strings.Replacer
}

func newRedactor(values ...string) *redactor {
	r := &redactor{}
	r.add(values...)
	return r
}

// add registers secret values; values shorter than minSecretLen are ignored.
func (r *redactor) add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	grew := false
	for _, v := range values {
		if len(v) >= minSecretLen && !slices.Contains(r.secrets, v) {
			r.secrets = append(r.secrets, v)
			grew = true
		}
	}
	if !grew {
		return
	}
	// Longest first: the Replacer tries its pairs in order at each position.
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(r.secrets))
	for _, s := range r.secrets {
		pairs = append(pairs, s, Redacted)
	}
	r.rep = strings.NewReplacer(pairs...)
}

// collect registers the values of play p's secret variables in vars: the
// names in p.SecretVars and builtinSecretVars. Templated values are
// rendered; lists and maps contribute every leaf.
func (r *redactor) collect(p *playbook.Play, vars map[string]any) {
	names := builtinSecretVars
	if p != nil && len(p.SecretVars) > 0 {
		names = append(slices.Clone(names), p.SecretVars...)
	}
	var vals []string
	for _, n := range names {
		if v, ok := vars[n]; ok {
			vals = appendLeaves(vals, v, vars)
		}
	}
	r.add(vals...)
}

func appendLeaves(out []string, v any, vars map[string]any) []string {
	switch x := v.(type) {
	case nil:
	case map[string]any:
		for _, e := range x {
			out = appendLeaves(out, e, vars)
		}
	case *omap.Map:
		for _, e := range x.Plain() {
			out = appendLeaves(out, e, vars)
		}
	case []any:
		for _, e := range x {
			out = appendLeaves(out, e, vars)
		}
	case string:
		out = append(out, x)
		if s, err := renderVar(x, vars); err == nil && s != x {
			out = append(out, s)
		}
	default:
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// str redacts one string.
func (r *redactor) str(s string) string {
	r.mu.RLock()
	rep := r.rep
	r.mu.RUnlock()
	if rep == nil || s == "" {
		return s
	}
	return rep.Replace(s)
}

func (r *redactor) strs(in []string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = r.str(s)
	}
	return out
}

// result returns e with every secret redacted, sharing nothing mutable
// with e (registered variables keep the real values).
func (r *redactor) result(e TaskResult) TaskResult {
	e.Task, e.Reason, e.Error, e.Item = r.str(e.Task), r.str(e.Reason), r.str(e.Error), r.str(e.Item)
	e.Change = r.change(e.Change)
	return e
}

func (r *redactor) change(c plan.Change) plan.Change {
	c.Summary, c.Msg = r.str(c.Summary), r.str(c.Msg)
	c.Warnings = r.strs(c.Warnings)
	if c.Files != nil {
		files := make([]plan.FileChange, len(c.Files))
		for i, f := range c.Files {
			f.Path, f.Diff, f.Backup = r.str(f.Path), r.str(f.Diff), r.str(f.Backup)
			files[i] = f
		}
		c.Files = files
	}
	if c.Values != nil {
		values := make([]plan.ValueChange, len(c.Values))
		for i, v := range c.Values {
			v.Key, v.Before, v.After, v.Note = r.str(v.Key), r.str(v.Before), r.str(v.After), r.str(v.Note)
			values[i] = v
		}
		c.Values = values
	}
	if c.Data != nil {
		c.Data, _ = r.value(c.Data).(map[string]any)
	}
	return c
}

// value redacts the strings inside a result value, copying containers.
// A value of another type (a module's struct) is redacted through its JSON
// form when that form holds a secret, so no view can print one.
func (r *redactor) value(v any) any {
	switch x := v.(type) {
	case nil, bool, int, int64, float64:
		return v
	case string:
		return r.str(x)
	case []string:
		return r.strs(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.value(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[r.str(k)] = r.value(e)
		}
		return out
	case *omap.Map:
		out := omap.New(x.Len())
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			out.Set(r.str(k), r.value(e))
		}
		return out
	case map[string]string:
		out := make(map[string]string, len(x))
		for k, e := range x {
			out[r.str(k)] = r.str(e)
		}
		return out
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Struct, reflect.Pointer, reflect.Slice, reflect.Map, reflect.Array, reflect.Interface:
		b, err := json.Marshal(v)
		if err != nil {
			return Redacted // cannot inspect it: do not show it
		}
		if s := string(b); r.str(s) != s {
			var generic any
			if json.Unmarshal(b, &generic) == nil {
				return r.value(generic)
			}
			return Redacted
		}
	}
	return v
}

// hostDone redacts the free text of a rollback report.
func (r *redactor) hostDone(e HostDone) HostDone {
	if e.Rollback == nil {
		return e
	}
	rb := *e.Rollback
	rb.Items = make([]RollbackItem, len(e.Rollback.Items))
	for i, it := range e.Rollback.Items {
		it.Detail, it.Target = r.str(it.Detail), r.str(it.Target)
		rb.Items[i] = it
	}
	e.Rollback = &rb
	return e
}

// summary redacts the free text of a run's summary.
func (r *redactor) summary(s Summary) Summary {
	hosts := make([]HostRecap, len(s.Hosts))
	for i, h := range s.Hosts {
		h.Applied = r.strs(h.Applied)
		h.RolledBack = r.strs(h.RolledBack)
		h.StopReason = r.str(h.StopReason)
		hosts[i] = h
	}
	s.Hosts = hosts
	s.Aborted, s.RetryFileError = r.str(s.Aborted), r.str(s.RetryFileError)
	return s
}

// hideNoLog replaces the arguments and output of a no_log task's result:
// summary (which shows the command line), message, error, warnings, diffs,
// live values and registered data (only its booleans are kept). Paths of
// files and backups stay: where a backup is matters for recovery.
func hideNoLog(e *TaskResult) {
	hide := func(s string) string {
		if s == "" {
			return ""
		}
		return NoLogText
	}
	e.Error = hide(e.Error)
	c := &e.Change
	c.Summary, c.Msg = hide(c.Summary), hide(c.Msg)
	if len(c.Warnings) > 0 {
		c.Warnings = []string{NoLogText}
	}
	if c.Files != nil {
		files := make([]plan.FileChange, len(c.Files))
		for i, f := range c.Files {
			f.Diff = hide(f.Diff)
			files[i] = f
		}
		c.Files = files
	}
	if c.Values != nil {
		values := make([]plan.ValueChange, len(c.Values))
		for i, v := range c.Values {
			v.Before, v.After, v.Note = hide(v.Before), hide(v.After), hide(v.Note)
			values[i] = v
		}
		c.Values = values
	}
	if c.Data != nil {
		data := map[string]any{"censored": NoLogText}
		for k, v := range c.Data {
			if b, ok := v.(bool); ok {
				data[k] = b
			}
		}
		c.Data = data
	}
}

// redactingObserver redacts every event before the user's observer sees
// it, so every view (human, JSON lines, any future one) is covered.
type redactingObserver struct {
	o Observer
	r *redactor
}

// redactObserver wraps o; nil stays nil.
func redactObserver(o Observer, r *redactor) Observer {
	if o == nil {
		return nil
	}
	return &redactingObserver{o: o, r: r}
}

var _ Observer = (*redactingObserver)(nil)

func (w *redactingObserver) RunStarted(e RunStart)     { w.o.RunStarted(e) }
func (w *redactingObserver) PlayStarted(e PlayStart)   { w.o.PlayStarted(e) }
func (w *redactingObserver) BatchStarted(e BatchStart) { w.o.BatchStarted(e) }
func (w *redactingObserver) HostStarted(e HostStart)   { w.o.HostStarted(e) }
func (w *redactingObserver) TaskDone(e TaskResult)     { w.o.TaskDone(w.r.result(e)) }
func (w *redactingObserver) HostDone(e HostDone)       { w.o.HostDone(w.r.hostDone(e)) }
func (w *redactingObserver) RunDone(s Summary)         { w.o.RunDone(w.r.summary(s)) }

func (w *redactingObserver) TaskStarted(e TaskStart) {
	e.Task = w.r.str(e.Task)
	w.o.TaskStarted(e)
}

func (w *redactingObserver) Progress(e Progress) {
	e.Task, e.Msg = w.r.str(e.Task), w.r.str(e.Msg)
	w.o.Progress(e)
}

func (w *redactingObserver) Warning(e Warning) {
	e.Task, e.Msg = w.r.str(e.Task), w.r.str(e.Msg)
	w.o.Warning(e)
}

func (w *redactingObserver) HostStopped(e HostStop) {
	e.Task, e.Reason = w.r.str(e.Task), w.r.str(e.Reason)
	w.o.HostStopped(e)
}
