// Package modules holds the task modules (command, shell, sysctl, ...). Each
// decodes and validates its own YAML arguments, inspects a host read-only in
// Check, and changes it in Apply. Modules never import the runner.
package modules

import (
	"context"
	"sort"

	"gopkg.in/yaml.v3"

	"tend/internal/diag"
	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// Module is one task's action on one host, built from its arguments.
type Module interface {
	// Check inspects the host without changing anything and returns what
	// Apply would do. Read-only facts are gathered for real here.
	Check(ctx context.Context, conn transport.Conn) (plan.Change, error)
	// Apply makes the planned change and returns what was done. It is only
	// called when planned.Action changes the host.
	Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error)
}

// Verifier is implemented by a module whose verifiability depends on its
// arguments (service: started/stopped can be re-checked, restarted cannot);
// it overrides Spec.Verifiable.
type Verifier interface {
	Verifiable() bool
}

// SecretHolder is implemented by a module holding secret values among its
// arguments (uri's url_password): the runner redacts them from every
// output, as it does secret_vars.
type SecretHolder interface {
	Secrets() []string
}

// IsVerifiable reports whether re-running m's Check after Apply must find
// no change left.
func IsVerifiable(spec Spec, m Module) bool {
	if v, ok := m.(Verifier); ok {
		return v.Verifiable()
	}
	return spec.Verifiable
}

// Args is what a module is built from.
type Args struct {
	// Node is the module's argument node, templates already rendered for the
	// host (positions kept from the playbook).
	Node *yaml.Node
	// File is the playbook file, for positioned errors.
	File string
	// SearchPath is the task's ansible_search_path (its roles' directories,
	// its file's directory, the playbook's) and BaseDir the playbook's
	// directory: where a controller source file (copy's, template's,
	// unarchive's src) is looked for (Args.findSource). Without them, the
	// directory of File is both.
	SearchPath []string
	BaseDir    string
	// Eval evaluates an expression over the host's variables (for assert).
	Eval func(expr string) (any, error)
	// Render renders a template string over the host's variables. It is set
	// for modules whose Spec has RendersOwnArgs: they receive Node
	// unrendered and decide how values enter (shell quotes them).
	Render func(template string) (any, error)
	// RenderPieces renders a template string over the host's variables,
	// handing its output to emit in order: literal text (value false) and
	// each {{ }} output's text (value true), so shell can pass values as
	// data around the text that {% statements %} produce. Set with Render.
	RenderPieces func(template string, emit func(text string, value bool)) error
	// RenderFile renders the text of a template file (named for errors)
	// over the host's variables into text (template's src). It is nil
	// when a playbook is validated, before any host.
	RenderFile func(name, text string) (string, error)
}

// Spec describes a module to the runner.
type Spec struct {
	// New decodes and validates args. With Args.Eval nil and templates
	// unrendered it is also used to validate a playbook before any host is
	// contacted, so it must not fail on a `{{ ... }}` scalar.
	New func(Args) (Module, error)
	// RunsInCheckMode is true for read-only modules (facts, assert, waits
	// that only observe): their Check result is real data in check mode.
	RunsInCheckMode bool
	// Waits is true for modules whose Check may wait a long time (wait_for):
	// a dry run does not run them to predict a verification.
	Waits bool
	// Verifiable is true when re-running Check after Apply must find no
	// change left (sysctl, service started/stopped); false for command/shell.
	Verifiable bool
	// RendersOwnArgs is true when the runner must not render templates in
	// Node: the module renders them itself (command and shell keep every
	// value one argument, never shell syntax).
	RendersOwnArgs bool
}

// Lookup returns the module spec for name.
func Lookup(name string) (Spec, bool) {
	s, ok := all()[name]
	return s, ok
}

// Names lists the registered module names, sorted.
func Names() []string {
	m := all()
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// posErr is a positioned argument error, a *diag.Error printed
// file:line:col: module: msg.
func posErr(file string, n *yaml.Node, module, format string, a ...any) error {
	return diag.Errorf(yamlnode.PosOf(file, n), module, format, a...)
}

// templatedArg reports whether the mapping node's key holds an unrendered
// {{ }} scalar: before rendering (validation) such a value cannot be checked.
func templatedArg(n *yaml.Node, key string) bool {
	if n == nil || n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			return v.Kind == yaml.ScalarNode && yamlnode.IsTemplateText(v.Value)
		}
	}
	return false
}
