package modules

import (
	"context"
	"fmt"
	"strings"

	"tend/runner/plan"
	"tend/runner/transport"
)

// BatchRead is the query apt's Check runs first: in a loop over names, the
// runner reads many items' packages in one remote command.
func (m *aptModule) BatchRead() (transport.Command, bool) {
	return m.queryCommand(), true
}

// Verifiable: update_cache runs apt-get update again each time (without
// cache_valid_time, or when the lists did not change), so a re-check after
// it cannot be expected to find nothing to do.
func (m *aptModule) Verifiable() bool { return !m.updateCache }

// read runs the query and parses it.
func (m *aptModule) read(ctx context.Context, conn transport.Conn) (*aptHostState, error) {
	res, err := conn.Run(ctx, m.queryCommand())
	if err != nil {
		return nil, fmt.Errorf("apt: read the package state: %w", err)
	}
	if res.ExitCode != 0 && len(res.Stdout) == 0 {
		return nil, fmt.Errorf("apt: read the package state: exit %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return parseAptQuery(string(res.Stdout), m.debs)
}

// Check reads every name's dpkg state and apt candidate in one command and
// says what apt-get would do; autoremove or autoclean alone is simulated
// (apt-get -s).
func (m *aptModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	st, err := m.read(ctx, conn)
	if err != nil {
		return plan.Change{}, err
	}
	p := m.plan(st)
	if m.cleanupOnly() && p.fail == "" {
		if p.cleanup, err = m.simulateCleanup(ctx, conn); err != nil {
			return plan.Change{}, err
		}
	}
	return m.change(p), nil
}

// cleanupOnly: autoremove/autoclean without packages run on their own.
func (m *aptModule) cleanupOnly() bool {
	return len(m.specs) == 0 && len(m.debs) == 0 && (m.autoremove || m.autoclean)
}

// cleanupVerbs are the apt-get verbs cleanup runs, in Ansible's order.
func (m *aptModule) cleanupVerbs() []string {
	var v []string
	if m.autoclean {
		v = append(v, "autoclean")
	}
	if m.autoremove {
		v = append(v, "autoremove")
	}
	return v
}

// simulateCleanup runs apt-get -s autoremove/autoclean (read-only) and
// lists what they would remove.
func (m *aptModule) simulateCleanup(ctx context.Context, conn transport.Conn) ([]string, error) {
	var out []string
	for _, verb := range m.cleanupVerbs() {
		argv := append(append([]string{}, aptEnv...), "apt-get", "-s", "-q")
		if verb == "autoremove" && m.purge {
			argv = append(argv, "--purge")
		}
		res, err := conn.Run(ctx, transport.Command{Argv: append(argv, verb)})
		if err != nil {
			return nil, fmt.Errorf("apt: simulate %s: %w", verb, err)
		}
		if res.ExitCode != 0 {
			return nil, fmt.Errorf("apt: apt-get -s %s failed (exit %d): %s", verb, res.ExitCode, strings.TrimSpace(string(res.Stderr)))
		}
		for _, line := range strings.Split(string(res.Stdout), "\n") {
			if name, ok := strings.CutPrefix(line, "Remv "); ok && verb == "autoremove" {
				out = append(out, "autoremove "+strings.Fields(name)[0])
			} else if name, ok := strings.CutPrefix(line, "Purg "); ok && verb == "autoremove" {
				out = append(out, "autoremove (purge) "+strings.Fields(name)[0])
			} else if name, ok := strings.CutPrefix(line, "Del "); ok && verb == "autoclean" {
				out = append(out, "autoclean "+strings.Fields(name)[0])
			}
		}
	}
	return out, nil
}

// Apply updates the cache when due (then reads the host again: the
// candidates may have changed), runs one apt-get command for every package
// of the task, and reads the host again: the task changed only when a
// package's installed version or state differs from before.
func (m *aptModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	p, _ := planned.Private.(*aptPlan)
	if p == nil {
		st, err := m.read(ctx, conn)
		if err != nil {
			return plan.Change{}, err
		}
		p = m.plan(st)
	}
	if p.fail != "" {
		return m.change(p), nil
	}
	cacheUpdated := false
	if p.cacheDue {
		argv := append(append([]string{}, aptEnv...), "apt-get", "update", "-q", "-o", fmt.Sprintf("DPkg::Lock::Timeout=%d", m.lockTimeout))
		res, err := conn.Run(ctx, transport.Command{Argv: argv})
		if err != nil {
			return plan.Change{}, fmt.Errorf("apt: apt-get update: %w", err)
		}
		if res.ExitCode != 0 {
			c := m.change(p)
			c.Action, c.Failed = plan.None, true
			c.Msg = "Failed to update apt cache: " + firstNonEmptyStr(strings.TrimSpace(string(res.Stderr)), "unknown reason")
			c.Data = map[string]any{"stdout": string(res.Stdout), "stderr": string(res.Stderr), "rc": res.ExitCode}
			return c, nil
		}
		st, err := m.read(ctx, conn)
		if err != nil {
			return plan.Change{}, err
		}
		cacheUpdated = st.cacheTime != p.st.cacheTime
		p = m.plan(st)
		p.cacheDue = false
		if p.fail != "" {
			return m.change(p), nil
		}
	}
	data := map[string]any{"cache_updated": cacheUpdated, "cache_update_time": p.st.cacheTime}
	if len(m.debs) > 0 || m.state == "absent" {
		data = map[string]any{}
	}
	done := plan.Change{Action: plan.None, Data: data, Summary: "nothing to do"}
	if m.cleanupOnly() {
		return m.applyCleanup(ctx, conn, done)
	}
	if len(p.steps) == 0 {
		if cacheUpdated && len(m.specs) == 0 && len(m.debs) == 0 {
			done.Action, done.Summary = plan.Update, "updated the apt cache"
		} else if len(p.ok) > 0 {
			done.Summary = strings.Join(p.ok, ", ")
		}
		return done, nil
	}
	verb := "install"
	if m.state == "absent" {
		verb = "remove"
	}
	var args []string
	for _, s := range p.steps {
		args = append(args, s.arg)
	}
	argv := m.aptGet(verb, args)
	res, err := conn.Run(ctx, transport.Command{Argv: argv, OwnSession: true})
	if err != nil {
		return plan.Change{}, fmt.Errorf("apt: %s: %w", aptCommandText(argv), err)
	}
	data["stdout"], data["stderr"] = string(res.Stdout), string(res.Stderr)
	after, rerr := m.read(ctx, conn)
	if res.ExitCode != 0 {
		done.Failed, done.Data = true, data
		data["rc"] = res.ExitCode
		if verb == "remove" {
			done.Msg = fmt.Sprintf("'apt-get remove %s' failed: %s", strings.Join(args, " "), strings.TrimSpace(string(res.Stderr)))
		} else {
			done.Msg = fmt.Sprintf("'%s' failed: %s", aptCommandText(argv), strings.TrimSpace(string(res.Stderr)))
		}
	}
	if rerr != nil {
		return plan.Change{}, fmt.Errorf("apt: after %s: %w", verb, rerr)
	}
	var changed []string
	for _, s := range p.steps {
		before, _ := p.st.entry(aptSpecName{name: s.pkg})
		now, _ := after.entry(aptSpecName{name: s.pkg})
		if before != now {
			changed = append(changed, s.describe())
		}
	}
	if len(changed) > 0 {
		done.Action = plan.Update
		done.Summary = aptPast(strings.Join(changed, "; "))
	} else if !done.Failed {
		done.Summary = "apt-get changed nothing"
	}
	return done, nil
}

// aptPast turns a plan's verbs into what was done.
func aptPast(s string) string {
	return strings.NewReplacer("install ", "installed ", "upgrade ", "upgraded ", "remove ", "removed ", "purge ", "purged ").Replace(s)
}

// applyCleanup runs autoclean and/or autoremove; changed as Ansible tells
// it, from apt-get's output.
func (m *aptModule) applyCleanup(ctx context.Context, conn transport.Conn, done plan.Change) (plan.Change, error) {
	marks := map[string]string{"autoremove": "The following packages will be REMOVED", "autoclean": "Del "}
	var out, errs []string
	for _, verb := range m.cleanupVerbs() {
		argv := m.aptGet(verb, nil)
		res, err := conn.Run(ctx, transport.Command{Argv: argv, OwnSession: true})
		if err != nil {
			return plan.Change{}, fmt.Errorf("apt: apt-get %s: %w", verb, err)
		}
		out, errs = append(out, string(res.Stdout)), append(errs, string(res.Stderr))
		done.Data["stdout"], done.Data["stderr"] = strings.Join(out, ""), strings.Join(errs, "")
		if res.ExitCode != 0 {
			done.Failed, done.Msg = true, fmt.Sprintf("'apt-get %s' failed: %s", verb, strings.TrimSpace(string(res.Stderr)))
			done.Data["rc"] = res.ExitCode
			return done, nil
		}
		if strings.Contains(string(res.Stdout), marks[verb]) {
			done.Action, done.Summary = plan.Update, "ran apt-get "+strings.Join(m.cleanupVerbs(), " and ")
		}
	}
	return done, nil
}
