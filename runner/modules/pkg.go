package modules

import (
	"context"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/runner/plan"
	"tend/runner/transport"
)

// packageSpec is Ansible's package: the host's package manager's module
// (apt, dnf or yum) with the same arguments. The manager is use:, else the
// host's ansible_pkg_mgr fact, else read from the host (the setup
// module's pkg_mgr probe) when Check starts.
var packageSpec = Spec{New: newPackage}

// packageBackends are the modules package can hand a task to.
var packageBackends = map[string]Spec{"apt": aptSpec, "dnf": dnfSpec, "yum": yumSpec}

// pkgMgrProbe is the pkg section of FactsScript: the package managers
// found, in Ansible's order of preference.
const pkgMgrProbe = `for p in apt-get dnf yum zypper apk pacman; do command -v "$p" >/dev/null 2>&1 && echo "$p"; done; exit 0`

// packageModule is one package task.
type packageModule struct {
	args Args
	// backend is the manager's module, built in New when the manager is
	// known (use:, or the fact), else in Check.
	backend Module
	mgr     string
}

// packagePrivate carries the backend's plan through package's.
type packagePrivate struct {
	backend Module
	inner   any
}

func newPackage(a Args) (Module, error) {
	use, fromArg := "auto", false
	node := a.Node
	if a.Node != nil && a.Node.Kind == yaml.MappingNode {
		cp := *a.Node
		cp.Content = nil
		for i := 0; i+1 < len(a.Node.Content); i += 2 {
			if k, v := a.Node.Content[i], a.Node.Content[i+1]; k.Value == "use" {
				use, fromArg = strings.TrimSpace(v.Value), true
			} else {
				cp.Content = append(cp.Content, k, v)
			}
		}
		node = &cp
	}
	args := a
	args.Node = node
	m := &packageModule{args: args}
	if use == "auto" && a.Eval != nil {
		if v, err := a.Eval("ansible_pkg_mgr"); err == nil {
			if s, ok := v.(string); ok && s != "" && s != "unknown" {
				use = s
			}
		}
	}
	switch {
	case hasTemplate(use):
		return m, nil
	case use != "auto":
		if err := m.build(use); err != nil {
			if _, ok := packageBackends[use]; !ok && fromArg {
				return nil, posErr(a.File, argValueNode(a.Node, "use"), "package", "%s", strings.TrimPrefix(err.Error(), "package: "))
			}
			return nil, err
		}
		return m, nil
	}
	// Unknown manager: the arguments must suit one of the backends.
	var first error
	for _, name := range []string{"apt", "dnf"} {
		_, err := packageBackends[name].New(args)
		if err == nil {
			return m, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// build makes the backend for manager mgr.
func (m *packageModule) build(mgr string) error {
	spec, ok := packageBackends[mgr]
	if !ok {
		return fmt.Errorf("package: tend has no module for the package manager %q (it has apt, dnf and yum); set use:", mgr)
	}
	b, err := spec.New(m.args)
	if err != nil {
		return err
	}
	m.backend, m.mgr = b, mgr
	return nil
}

// BatchRead is the backend's first read, when the manager is known.
func (m *packageModule) BatchRead() (transport.Command, bool) {
	if br, ok := m.backend.(interface {
		BatchRead() (transport.Command, bool)
	}); ok {
		return br.BatchRead()
	}
	return transport.Command{}, false
}

// Verifiable is the backend's.
func (m *packageModule) Verifiable() bool {
	if v, ok := m.backend.(Verifier); ok {
		return v.Verifiable()
	}
	return true
}

// Check finds the manager when no fact said it (one read-only command),
// then runs the backend's Check.
func (m *packageModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	if m.backend == nil {
		res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", pkgMgrProbe}, MaxOutput: 4096})
		if err != nil {
			return plan.Change{}, fmt.Errorf("package: find the package manager: %w", err)
		}
		mgr := pkgMgr(string(res.Stdout))
		if mgr == "unknown" {
			return plan.Change{}, fmt.Errorf("package: could not detect which package manager to use; gather facts or set use:")
		}
		if err := m.build(mgr); err != nil {
			return plan.Change{}, err
		}
	}
	c, err := m.backend.Check(ctx, conn)
	if err != nil {
		return c, err
	}
	c.Private = &packagePrivate{backend: m.backend, inner: c.Private}
	return c, nil
}

// Apply runs the backend's Apply on its own plan.
func (m *packageModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	p, _ := planned.Private.(*packagePrivate)
	if p == nil {
		c, err := m.Check(ctx, conn)
		if err != nil {
			return c, err
		}
		p = c.Private.(*packagePrivate)
	}
	planned.Private = p.inner
	return p.backend.Apply(ctx, conn, planned)
}
