package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"tend/internal/omap"
	"tend/runner/plan"
	"tend/runner/transport"
)

// The control modules touch no host: debug shows a value, set_fact sets
// host variables, fail fails the host, pause waits, meta steers the play
// (the runner runs meta itself; its spec only validates the action).
var (
	debugSpec   = Spec{New: newDebug, RunsInCheckMode: true}
	setFactSpec = Spec{New: newSetFact, RunsInCheckMode: true}
	failSpec    = Spec{New: newFail, RunsInCheckMode: true}
	pauseSpec   = Spec{New: newPause, RunsInCheckMode: true}
	metaSpec    = Spec{New: newMeta, RunsInCheckMode: true}
)

// hostless is the Apply of modules that never change a host.
type hostless struct{}

// Apply is never called: the module changes nothing.
func (hostless) Apply(_ context.Context, _ transport.Conn, planned plan.Change) (plan.Change, error) {
	return planned, nil
}

// mapArgs returns a mapping node's key/value pairs, refusing keys not in known.
func mapArgs(a Args, module string, known ...string) (map[string]*yaml.Node, error) {
	out := map[string]*yaml.Node{}
	if a.Node == nil || a.Node.Kind == yaml.ScalarNode && a.Node.Value == "" {
		return out, nil
	}
	if a.Node.Kind != yaml.MappingNode {
		return nil, posErr(a.File, a.Node, module, "want a mapping of arguments (%s)", strings.Join(known, ", "))
	}
	for i := 0; i+1 < len(a.Node.Content); i += 2 {
		k := a.Node.Content[i]
		if !slices.Contains(known, k.Value) {
			return nil, posErr(a.File, k, module, "unknown argument %q (known: %s)", k.Value, strings.Join(known, ", "))
		}
		out[k.Value] = a.Node.Content[i+1]
	}
	return out, nil
}

// debugModule shows a message or a variable's value.
type debugModule struct {
	hostless
	msg     any
	hasMsg  bool
	varName string
	eval    func(string) (any, error)
}

// DebugVerbosity returns a debug task's verbosity argument (0 when unset
// or templated): the runner skips the task when -v is lower.
func DebugVerbosity(n *yaml.Node) int {
	if v, ok := lookupArg(n, "verbosity"); ok {
		i, _ := strconv.Atoi(v.Value)
		return i
	}
	return 0
}

func newDebug(a Args) (Module, error) {
	args, err := mapArgs(a, "debug", "msg", "var", "verbosity")
	if err != nil {
		return nil, err
	}
	m := &debugModule{eval: a.Eval, msg: "Hello world!"}
	if n, ok := args["msg"]; ok {
		if err := n.Decode(&m.msg); err != nil {
			return nil, posErr(a.File, n, "debug", "msg: %v", err)
		}
		m.hasMsg = true
	}
	if n, ok := args["var"]; ok {
		if m.hasMsg {
			return nil, posErr(a.File, n, "debug", "give msg or var, not both")
		}
		m.varName = strings.TrimSpace(n.Value)
	}
	if n, ok := args["verbosity"]; ok && !hasTemplate(n.Value) {
		if i, err := strconv.Atoi(n.Value); err != nil || i < 0 {
			return nil, posErr(a.File, n, "debug", "verbosity: want a whole number 0-4, got %q", n.Value)
		}
	}
	return m, nil
}

// Check returns the message (or the variable) as the task's result.
func (m *debugModule) Check(_ context.Context, _ transport.Conn) (plan.Change, error) {
	if m.varName != "" {
		var v any = "VARIABLE IS NOT DEFINED!"
		if m.eval != nil {
			if got, err := m.eval(m.varName); err == nil {
				v = got
			}
		}
		return plan.Change{Action: plan.None, Summary: m.varName + ": " + show(v), Data: map[string]any{m.varName: v}}, nil
	}
	c := plan.Change{Action: plan.None, Summary: show(m.msg), Data: map[string]any{"msg": m.msg}}
	if s, ok := m.msg.(string); ok {
		c.Msg = s
	}
	return c, nil
}

// show renders a value for a summary: strings as they are, others as JSON.
func show(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// identRE is a valid variable name.
var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// pyKeywords are Python's keywords, which Ansible's isidentifier refuses
// as variable names.
var pyKeywords = map[string]bool{
	"False": true, "None": true, "True": true, "and": true, "as": true, "assert": true, "async": true,
	"await": true, "break": true, "class": true, "continue": true, "def": true, "del": true, "elif": true,
	"else": true, "except": true, "finally": true, "for": true, "from": true, "global": true, "if": true,
	"import": true, "in": true, "is": true, "lambda": true, "nonlocal": true, "not": true, "or": true,
	"pass": true, "raise": true, "return": true, "try": true, "while": true, "with": true, "yield": true,
}

// ValidVarName reports whether name may name a variable, as Ansible's
// isidentifier: ASCII letters, digits and _, not starting with a digit,
// and not a Python keyword.
func ValidVarName(name string) bool {
	return identRE.MatchString(name) && !pyKeywords[name]
}

// templateText reports whether a scalar holds a template to render.
func templateText(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && (strings.Contains(n.Value, "{{") || strings.Contains(n.Value, "{%"))
}

// quoteValue shows a rendered value in an error: a string quoted, any
// other with its Go form.
func quoteValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%v", v)
}

// setFactModule sets host variables.
type setFactModule struct {
	hostless
	facts map[string]any
	names []string
}

func newSetFact(a Args) (Module, error) {
	if a.Node == nil || a.Node.Kind != yaml.MappingNode || len(a.Node.Content) == 0 {
		return nil, posErr(a.File, a.Node, "set_fact", "want a mapping of variables to set")
	}
	m := &setFactModule{facts: map[string]any{}}
	for i := 0; i+1 < len(a.Node.Content); i += 2 {
		k, v := a.Node.Content[i], a.Node.Content[i+1]
		if k.Value == "cacheable" {
			continue // accepted: tend keeps no fact cache between runs
		}
		name := k.Value
		if templateText(k) { // "{{ item.var }}": rendered when the task runs, as Ansible's set_fact
			if a.Render == nil {
				continue // checking before the run: its syntax is checked with the arguments
			}
			v, err := a.Render(k.Value)
			if err != nil {
				return nil, posErr(a.File, k, "set_fact", "variable name %q: %v", k.Value, err)
			}
			s, ok := v.(string)
			if !ok || !ValidVarName(s) {
				return nil, posErr(a.File, k, "set_fact", "variable name %q rendered %s, which is not a valid variable name (a letter or _, then letters, digits and _; not a Python keyword)", k.Value, quoteValue(v))
			}
			name = s
		} else if !ValidVarName(name) {
			return nil, posErr(a.File, k, "set_fact", "%q is not a valid variable name", k.Value)
		}
		val, err := omap.FromYAML(v) // a mapping keeps its order
		if err != nil {
			return nil, posErr(a.File, v, "set_fact", "%s: %v", k.Value, err)
		}
		if _, seen := m.facts[name]; !seen {
			m.names = append(m.names, name)
		}
		m.facts[name] = setFactBool(val)
	}
	return m, nil
}

// setFactBool is what Ansible's set_fact makes of a value (jinja2_native
// off, the default): a string true, false, yes or no, in any case, is that
// boolean; anything else, nested values included, stays as it is.
func setFactBool(v any) any {
	if s, ok := v.(string); ok {
		switch strings.ToLower(s) {
		case "true", "yes":
			return true
		case "false", "no":
			return false
		}
	}
	return v
}

// Check returns the variables under ansible_facts, as Ansible's set_fact.
func (m *setFactModule) Check(_ context.Context, _ transport.Conn) (plan.Change, error) {
	return plan.Change{Action: plan.None, Summary: "set " + strings.Join(m.names, ", "),
		Data: map[string]any{"ansible_facts": m.facts}}, nil
}

// failModule fails the task with a message.
type failModule struct {
	hostless
	msg string
}

func newFail(a Args) (Module, error) {
	args, err := mapArgs(a, "fail", "msg")
	if err != nil {
		return nil, err
	}
	m := &failModule{msg: "Failed as requested from task"}
	if n, ok := args["msg"]; ok {
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, posErr(a.File, n, "fail", "msg: %v", err)
		}
		m.msg = show(v)
	}
	return m, nil
}

// Check fails, with the message.
func (m *failModule) Check(_ context.Context, _ transport.Conn) (plan.Change, error) {
	return plan.Change{Action: plan.None, Failed: true, Msg: m.msg, Summary: m.msg}, nil
}

// pauseModule waits a fixed time. Without one, Ansible's pause waits for a
// key press; tend runs unattended and refuses it.
type pauseModule struct {
	hostless
	d time.Duration
}

func newPause(a Args) (Module, error) {
	args, err := mapArgs(a, "pause", "seconds", "minutes", "prompt", "echo")
	if err != nil {
		return nil, err
	}
	m := &pauseModule{}
	found := false
	for key, unit := range map[string]time.Duration{"seconds": time.Second, "minutes": time.Minute} {
		n, ok := args[key]
		if !ok {
			continue
		}
		found = true
		if hasTemplate(n.Value) {
			continue
		}
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || f < 0 {
			return nil, posErr(a.File, n, "pause", "%s: want a non-negative number, got %q", key, n.Value)
		}
		m.d += time.Duration(f * float64(unit))
	}
	if !found {
		return nil, posErr(a.File, a.Node, "pause", "without seconds: or minutes: pause waits for a key press, and tend runs unattended (no prompt): give seconds: or minutes:")
	}
	return m, nil
}

// Check waits (in check mode too, as Ansible); an interrupt ends the wait.
func (m *pauseModule) Check(ctx context.Context, _ transport.Conn) (plan.Change, error) {
	t := time.NewTimer(m.d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return plan.Change{}, fmt.Errorf("pause: %w", ctx.Err())
	}
	return plan.Change{Action: plan.None, Summary: "paused " + m.d.String()}, nil
}

// MetaActions are the meta actions tend runs.
var MetaActions = []string{"flush_handlers", "end_host", "end_play", "clear_host_errors", "noop", "refresh_inventory", "clear_facts"}

// metaModule is never run: the runner runs meta itself.
type metaModule struct{ hostless }

func newMeta(a Args) (Module, error) {
	if a.Node == nil || a.Node.Kind != yaml.ScalarNode || !slices.Contains(MetaActions, a.Node.Value) {
		return nil, posErr(a.File, a.Node, "meta", "want one of %s", strings.Join(MetaActions, ", "))
	}
	return metaModule{}, nil
}

// Check is never called: the runner runs meta itself.
func (metaModule) Check(context.Context, transport.Conn) (plan.Change, error) {
	return plan.Change{Action: plan.None}, nil
}
