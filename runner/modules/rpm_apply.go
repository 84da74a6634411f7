package modules

import (
	"context"
	"fmt"
	"strings"

	"tend/runner/plan"
	"tend/runner/transport"
)

// rpmPlan is what Check found, for Apply.
type rpmPlan struct {
	st *rpmState
	// install and upgrade are the names dnf install / dnf upgrade get;
	// remove those dnf remove gets.
	install, upgrade, remove []string
	// says are the steps as a dry run tells them; ok the names already as
	// asked.
	says, ok []string
	// missing are names no repository offers (the task fails).
	missing []string
}

// BatchRead is the query dnf's and yum's Check runs first.
func (m *rpmModule) BatchRead() (transport.Command, bool) { return m.queryCommand(), true }

// Verifiable: update_cache refreshes the metadata each run.
func (m *rpmModule) Verifiable() bool { return !m.updateCache }

// available is the version the repositories offer for name (a name with
// a version, name-1.2, matches its package name's line).
func (st *rpmState) offered(name string) (string, bool) {
	if v, ok := st.available[name]; ok {
		return v, true
	}
	for k, v := range st.available {
		if strings.HasPrefix(name, k+"-") {
			return v, true
		}
	}
	return "", false
}

// plan computes what the task would do from what the query read.
func (m *rpmModule) plan(st *rpmState) *rpmPlan {
	p := &rpmPlan{st: st}
	for _, n := range m.names {
		cur, installed := st.installed[n]
		switch {
		case m.state == "absent" && installed:
			p.remove = append(p.remove, n)
			p.says = append(p.says, fmt.Sprintf("remove %s %s", n, cur))
		case m.state == "absent":
			p.ok = append(p.ok, n+" absent")
		case installed && m.state == "latest" && st.updates[n] != "":
			p.upgrade = append(p.upgrade, n)
			p.says = append(p.says, fmt.Sprintf("upgrade %s %s -> %s", n, cur, st.updates[n]))
		case installed:
			p.ok = append(p.ok, n+" "+cur)
		default:
			v, ok := st.offered(n)
			if !ok {
				p.missing = append(p.missing, n)
				continue
			}
			p.install = append(p.install, n)
			p.says = append(p.says, fmt.Sprintf("install %s (available %s)", n, v))
		}
	}
	return p
}

// change renders p for a dry run.
func (m *rpmModule) change(p *rpmPlan) plan.Change {
	c := plan.Change{Action: plan.None, Private: p, Data: map[string]any{"results": []any{}, "rc": 0}}
	if len(p.missing) > 0 {
		c.Failed = true
		if m.mgr == "dnf" {
			var f []any
			for _, n := range p.missing {
				f = append(f, fmt.Sprintf("No package %s available.", n))
			}
			c.Msg, c.Data["failures"], c.Data["rc"] = "Failed to install some of the specified packages", f, 1
		} else {
			c.Msg, c.Data["rc"] = fmt.Sprintf("No package matching '%s' found available, installed or updated", p.missing[0]), 126
		}
		return c
	}
	var parts []string
	if m.updateCache {
		parts = append(parts, "would refresh the "+m.mgr+" metadata")
	}
	for _, s := range p.says {
		parts = append(parts, "would "+s)
	}
	if len(parts) > 0 {
		c.Action = plan.Update
		if len(p.ok) > 0 {
			parts = append(parts, "already as asked: "+strings.Join(p.ok, ", "))
		}
		c.Summary = strings.Join(parts, "; ")
		return c
	}
	c.Summary = strings.Join(p.ok, ", ")
	return c
}

// Check reads every name in one command and says what would change.
func (m *rpmModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	st, err := m.read(ctx, conn)
	if err != nil {
		return plan.Change{}, err
	}
	return m.change(m.plan(st)), nil
}

// read runs the query.
func (m *rpmModule) read(ctx context.Context, conn transport.Conn) (*rpmState, error) {
	res, err := conn.Run(ctx, m.queryCommand())
	if err != nil {
		return nil, fmt.Errorf("%s: read the package state: %w", m.mgr, err)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("%s: read the package state: exit %d: %s", m.mgr, res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return parseRPMQuery(string(res.Stdout)), nil
}

// commands are the dnf/yum commands Apply runs for p, in order.
func (m *rpmModule) commands(p *rpmPlan) [][]string {
	base := func(verb string, names []string) []string {
		a := append([]string{"env", "LC_ALL=C", m.mgr, "-y"}, m.repoOpts()...)
		return append(append(a, verb, "--"), names...)
	}
	var cmds [][]string
	refresh := m.updateCache
	if refresh && (m.mgr == "yum" || (len(p.install)+len(p.upgrade) == 0)) {
		cmds = append(cmds, append(append([]string{"env", "LC_ALL=C", m.mgr, "-y"}, m.repoOpts()...), "makecache"))
		refresh = false
	}
	add := func(verb string, names []string) {
		if len(names) == 0 {
			return
		}
		c := base(verb, names)
		if refresh && m.mgr == "dnf" {
			c = append(c[:4], append([]string{"--refresh"}, c[4:]...)...)
			refresh = false
		}
		cmds = append(cmds, c)
	}
	add("install", p.install)
	add("upgrade", p.upgrade)
	add("remove", p.remove)
	return cmds
}

// Apply runs the commands, then reads every name again: changed when an
// installed version differs from before.
func (m *rpmModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	p, _ := planned.Private.(*rpmPlan)
	if p == nil {
		st, err := m.read(ctx, conn)
		if err != nil {
			return plan.Change{}, err
		}
		p = m.plan(st)
	}
	if len(p.missing) > 0 {
		return m.change(p), nil
	}
	done := plan.Change{Action: plan.None, Data: map[string]any{"results": []any{}, "rc": 0}, Summary: "nothing to do"}
	var stdout, stderr []string
	for _, argv := range m.commands(p) {
		res, err := conn.Run(ctx, transport.Command{Argv: argv, OwnSession: true})
		if err != nil {
			return plan.Change{}, fmt.Errorf("%s: %s: %w", m.mgr, transport.ShellJoin(argv[2:]), err)
		}
		stdout, stderr = append(stdout, string(res.Stdout)), append(stderr, string(res.Stderr))
		done.Data["stdout"], done.Data["stderr"] = strings.Join(stdout, ""), strings.Join(stderr, "")
		if res.ExitCode != 0 {
			done.Failed, done.Data["rc"] = true, res.ExitCode
			done.Msg = fmt.Sprintf("'%s' failed: %s", transport.ShellJoin(argv[2:]), strings.TrimSpace(string(res.Stderr)))
			break
		}
	}
	after, err := m.read(ctx, conn)
	if err != nil {
		return plan.Change{}, err
	}
	var results []any
	for _, n := range m.names {
		b, wasIn := p.st.installed[n]
		a, isIn := after.installed[n]
		switch {
		case !wasIn && isIn:
			results = append(results, "Installed: "+n+"-"+a)
		case wasIn && !isIn:
			results = append(results, "Removed: "+n+"-"+b)
		case wasIn && a != b:
			results = append(results, "Upgraded: "+n+"-"+a)
		}
	}
	if len(results) > 0 {
		done.Action, done.Data["results"] = plan.Update, results
		parts := make([]string, len(results))
		for i, r := range results {
			parts[i] = r.(string)
		}
		done.Summary = strings.Join(parts, "; ")
	} else if m.updateCache && !done.Failed {
		done.Summary = "refreshed the " + m.mgr + " metadata"
	}
	return done, nil
}
