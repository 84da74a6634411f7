package modules

import (
	"context"
	"fmt"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// assertSpec checks that expressions over the host's variables hold:
// Ansible's assert. It touches no host, so it runs in check mode too.
// Its messages are rendered only when used (RendersOwnArgs), so a fail_msg
// may name variables that exist only when the assertion fails.
var assertSpec = Spec{New: newAssert, RunsInCheckMode: true, RendersOwnArgs: true}

// assertArgs are the YAML arguments of assert.
type assertArgs struct {
	That       []string `yaml:"that,required"`
	Msg        string   `yaml:"msg"`
	FailMsg    string   `yaml:"fail_msg"`
	SuccessMsg string   `yaml:"success_msg"`
	Quiet      bool     `yaml:"quiet"`
}

// assertModule is one assert task.
type assertModule struct {
	file    string
	that    []string
	nodes   []*yaml.Node // position of each expression
	failMsg string
	okMsg   string
	quiet   bool
	eval    func(string) (any, error)
	render  func(string) (any, error)
}

func newAssert(a Args) (Module, error) {
	var args assertArgs
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	if args.Msg != "" && args.FailMsg != "" {
		return nil, posErr(a.File, argValueNode(a.Node, "msg"), "assert", "give msg or fail_msg, not both")
	}
	m := &assertModule{file: a.File, that: args.That, failMsg: args.FailMsg + args.Msg,
		okMsg: args.SuccessMsg, quiet: args.Quiet, eval: a.Eval, render: a.Render}
	if len(m.that) == 0 {
		return nil, posErr(a.File, argValueNode(a.Node, "that"), "assert", "that: no expression to check")
	}
	v := argValueNode(a.Node, "that")
	for i, e := range m.that {
		n := v
		if v != nil && v.Kind == yaml.SequenceNode && i < len(v.Content) {
			n = v.Content[i]
		}
		if e == "" {
			return nil, posErr(a.File, n, "assert", "that: empty expression")
		}
		m.nodes = append(m.nodes, n)
	}
	return m, nil
}

// Check evaluates every expression; the first that is not true fails the
// task with its text and position. An expression that cannot be evaluated
// (an undefined variable) fails it too, saying why.
func (m *assertModule) Check(_ context.Context, _ transport.Conn) (plan.Change, error) {
	if m.eval == nil {
		return plan.Change{}, fmt.Errorf("assert: no expression evaluator")
	}
	for i, e := range m.that {
		fail := func(why string) (plan.Change, error) {
			msg := m.renderMsg(m.failMsg)
			if msg == "" {
				msg = "assertion failed: " + e
			}
			pos := posErr(m.file, m.nodes[i], "assert", "%s: %s", e, why).Error()
			return plan.Change{Action: plan.None, Failed: true, Msg: msg, Summary: pos,
				Data: map[string]any{"assertion": e, "evaluated_to": false, "msg": msg}}, nil
		}
		v, err := m.eval(e)
		if err != nil {
			return fail(err.Error())
		}
		b, ok := v.(bool)
		if !ok {
			return fail(fmt.Sprintf("evaluated to %v (%T), not a boolean", v, v))
		}
		if !b {
			return fail("evaluated to false")
		}
	}
	msg := m.renderMsg(m.okMsg)
	if msg == "" {
		msg = "all assertions passed"
	}
	c := plan.Change{Action: plan.None, Data: map[string]any{"evaluated_to": true, "msg": msg}}
	if !m.quiet {
		c.Summary = msg
	}
	return c, nil
}

// Apply never runs (assert changes nothing); it returns the planned result.
func (m *assertModule) Apply(_ context.Context, _ transport.Conn, planned plan.Change) (plan.Change, error) {
	return planned, nil
}

// renderMsg renders a message template when it is about to be shown; a
// message that cannot be rendered is shown raw with the reason, so the
// assertion's own failure is never hidden behind a template error.
func (m *assertModule) renderMsg(msg string) string {
	if m.render == nil || !yamlnode.IsTemplateText(msg) {
		return msg
	}
	v, err := m.render(msg)
	if err != nil {
		return fmt.Sprintf("%s (message not rendered: %v)", msg, err)
	}
	return fmt.Sprint(v)
}
