package modules

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"tend/runner/plan"
	"tend/runner/transport"
)

// haproxyView is what one read of the socket found: `show stat`'s rows,
// the version (`show info`, for drain) and the weights (`show servers
// state`, when the task sets one).
type haproxyView struct {
	rows                []haproxyRow
	major, minor        int
	versionKnown        bool
	weights             haproxyWeights
	statReply, infoText string
}

// read asks HAProxy, in one remote command, what the task needs.
func (m *haproxyModule) read(ctx context.Context, conn transport.Conn) (haproxyView, error) {
	cmds := []string{"show stat"}
	if m.needsVersion() {
		cmds = append(cmds, "show info")
	}
	if m.weight != "" && m.state == "enabled" {
		cmds = append(cmds, "show servers state")
	}
	replies, err := m.haproxySend(ctx, conn, cmds...)
	if err != nil {
		return haproxyView{}, err
	}
	var v haproxyView
	if v.rows, err = parseHaproxyStat(replies[0]); err != nil {
		return v, err
	}
	for i, c := range cmds[1:] {
		switch c {
		case "show info":
			v.infoText = replies[i+1]
			v.major, v.minor, v.versionKnown = parseHaproxyVersion(replies[i+1])
		case "show servers state":
			if v.weights, err = parseHaproxyServersState(replies[i+1]); err != nil {
				return v, err
			}
		}
	}
	return v, nil
}

// haproxyStep is the plan for one backend: the server's status and
// weight before, and predicted after.
type haproxyStep struct {
	backend       string
	before, after haproxyServerState
}

// haproxyPlan is what the task does on what one read found.
type haproxyPlan struct {
	// passes are the module's passes that run: with a failure, only the
	// first (the module fails in it, before any later pass).
	passes  []haproxyPass
	steps   []haproxyStep
	failMsg string // the module's failure (fail_on_not_found), after steps
	// waits are the servers already as asked whose status the module would
	// still wait for (wait: true): not yet the status it waits for, or,
	// with drain, sessions still open.
	waits []string
}

// plan predicts the task on v: the backends it acts on (the given one or
// every backend, discovered as the module does), and for each the server's
// status after the module's passes. A missing server with fail_on_not_found
// ends the plan with the module's message: backends before it are acted on
// in the first pass, and no later pass runs. Without a pass (drain on an
// old HAProxy) the module looks for nothing, and fails on nothing.
func (m *haproxyModule) plan(v haproxyView) haproxyPlan {
	p := haproxyPlan{passes: m.passes(v.major, v.minor, v.versionKnown)}
	if len(p.passes) == 0 {
		return p
	}
	backends := []string{m.backend}
	if m.backend == "" {
		backends = haproxyBackends(v.rows)
	}
	var checked []bool
	for _, b := range backends {
		row, found := haproxyFind(v.rows, b, m.host)
		if !found && m.failOnNotFound {
			p.failMsg = fmt.Sprintf("The specified backend '%s/%s' was not found!", b, m.host)
			p.passes = p.passes[:1]
			break
		}
		if found {
			st := haproxyServerState{row.Status, row.Weight, row.Scur}
			p.steps = append(p.steps, haproxyStep{backend: b, before: st, after: st})
			checked = append(checked, row.Checked)
		}
	}
	for i := range p.steps {
		st := &p.steps[i]
		for _, pass := range p.passes {
			st.after.Status = haproxyNextStatus(st.after.Status, pass.want, checked[i])
		}
		// show stat's weight is the effective one: a server in maintenance
		// keeps showing the weight it had (a `set weight` shows once it
		// leaves), a running one shows its user weight.
		if w, ok := v.weights[st.backend+"/"+m.host]; ok && m.weight != "" && m.state == "enabled" &&
			!strings.HasPrefix(st.after.Status, "MAINT") {
			st.after.Weight = strconv.Itoa(haproxyTargetWeight(m.weight, w[1]))
		}
		want := p.passes[len(p.passes)-1].want
		if m.wait && st.before == st.after && (!strings.Contains(st.before.Status, want) || (m.drain && st.before.Scur != "0")) {
			w := fmt.Sprintf("would wait until %s/%s is %s (now %s", st.backend, m.host, want, st.before.Status)
			if m.drain {
				w += ", " + st.before.Scur + " sessions"
			}
			p.waits = append(p.waits, w+")")
		}
	}
	return p
}

// haproxyFind is the server's `show stat` line in backend b.
func haproxyFind(rows []haproxyRow, b, sv string) (haproxyRow, bool) {
	for _, r := range rows {
		if r.Px == b && r.Sv == sv {
			return r, true
		}
	}
	return haproxyRow{}, false
}

// haproxyNextStatus is the status `show stat` shows after a pass that puts
// the server in admin state want (UP: ready, MAINT, DRAIN), as HAProxy's
// admin flags work: enable clears maintenance and drain, disable sets
// maintenance (and clears drain), drain sets drain (and clears
// maintenance). A maintenance inherited from a tracked server ("MAINT (via
// b/s)") or from DNS resolution ("MAINT (resolution)") stays; drain shows
// only on a running server ("DOWN" stays "DOWN"). A server leaving
// maintenance is running at once (HAProxy starts it as if its checks had
// just passed): "UP" with checks, "no check" without.
func haproxyNextStatus(s, want string, checked bool) string {
	if strings.HasPrefix(s, "MAINT (") {
		return s
	}
	up := "no check"
	if checked {
		up = "UP"
	}
	running := s == "no check" || strings.HasPrefix(s, "UP") || s == "NOLB"
	switch want {
	case "MAINT":
		return "MAINT"
	case "DRAIN":
		if s == "MAINT" || running {
			return "DRAIN"
		}
		return s
	default: // UP
		if s == "MAINT" || strings.HasPrefix(s, "DRAIN") {
			return up
		}
		return s
	}
}

// acts reports whether Apply has something to do: a change, or a wait.
func (p haproxyPlan) acts() bool { return p.changed() || len(p.waits) > 0 }

// changed reports whether the plan changes what `show stat` shows.
func (p haproxyPlan) changed() bool {
	for _, st := range p.steps {
		if st.before.Status != st.after.Status || st.before.Weight != st.after.Weight {
			return true
		}
	}
	return false
}

// Check reads the socket and predicts the module's outcome: which of the
// server's lines change status or weight. Nothing is sent that changes
// HAProxy (show stat, show info, show servers state are reads).
func (m *haproxyModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	v, err := m.read(ctx, conn)
	if res, done, err := haproxyFailure(err); done {
		return res, err
	}
	p := m.plan(v)
	before := haproxyStateFor(v.rows, m.backend, m.host)
	ch := plan.Change{Action: plan.None, Data: map[string]any{"state_before": haproxyStatesData(before)}}
	for _, st := range p.steps {
		if st.before == st.after {
			continue
		}
		ch.Values = append(ch.Values, plan.ValueChange{Key: st.backend + "/" + m.host,
			Before: haproxyDescribe(st.before), After: haproxyDescribe(st.after), Status: sysctlStatusChange})
	}
	switch {
	case p.failMsg != "" && !p.acts():
		ch.Failed, ch.Msg = true, p.failMsg
		return ch, nil
	case p.acts():
		ch.Action = plan.Update
		ch.Summary = strings.Join(append([]string{m.summary(p)}, p.waits...), "; ")
		if p.failMsg != "" {
			ch.Summary += "; then fails: " + p.failMsg
		}
		return ch, nil
	}
	ch.Data["state_after"] = haproxyStatesData(before)
	ch.Summary = m.summary(p)
	return ch, nil
}

// haproxyDescribe is a server's state for a summary: "UP, weight 10".
func haproxyDescribe(s haproxyServerState) string {
	return s.Status + ", weight " + s.Weight
}

// summary says what the plan does to each server, or why nothing.
func (m *haproxyModule) summary(p haproxyPlan) string {
	if len(p.passes) == 0 {
		return "HAProxy's version is older than 1.5 or unknown: the module ignores drain"
	}
	if len(p.steps) == 0 {
		where := "no backend"
		if m.backend != "" {
			where = "backend " + m.backend
		}
		return "no server " + m.host + " in " + where + ": nothing to do"
	}
	var out []string
	for _, st := range p.steps {
		sv := st.backend + "/" + m.host
		switch {
		case st.before == st.after:
			out = append(out, sv+": "+haproxyDescribe(st.before))
		case st.before.Status != st.after.Status:
			w := ""
			if st.before.Weight != st.after.Weight {
				w = ", weight " + st.after.Weight
			}
			out = append(out, fmt.Sprintf("would set %s %s%s (now %s)", sv, haproxyVerb(m, p), w, haproxyDescribe(st.before)))
		default:
			out = append(out, fmt.Sprintf("would set the weight of %s to %s (now %s)", sv, st.after.Weight, st.before.Weight))
		}
	}
	return strings.Join(out, "; ")
}

// haproxyVerb names the state the plan's passes put a server in.
func haproxyVerb(m *haproxyModule, p haproxyPlan) string {
	switch {
	case m.state == "disabled" && m.drain && len(p.passes) == 1:
		return "to drain"
	case m.state == "disabled" && m.drain:
		return "to drain, then to maintenance"
	case m.state == "disabled":
		return "to maintenance"
	case m.state == "drain":
		return "to drain"
	}
	return "ready"
}

// haproxyFailure turns a socket that cannot be reached into the task's
// failure (done, no error); another error is returned as it is.
func haproxyFailure(err error) (plan.Change, bool, error) {
	if err == nil {
		return plan.Change{}, false, nil
	}
	var se *haproxySocketError
	if errors.As(err, &se) {
		return plan.Change{Action: plan.None, Failed: true, Msg: se.Error()}, true, nil
	}
	return plan.Change{}, true, err
}

// Apply reads the socket again, sends the module's commands for each
// backend (one connection per command line, as the module; every backend's
// lines in one remote command unless it waits), waits when asked, and reads
// again: changed when the server's status, weight or sessions differ, as
// the module compares them.
func (m *haproxyModule) Apply(ctx context.Context, conn transport.Conn, _ plan.Change) (plan.Change, error) {
	v, err := m.read(ctx, conn)
	if res, done, err := haproxyFailure(err); done {
		return res, err
	}
	p := m.plan(v)
	before := haproxyStateFor(v.rows, m.backend, m.host)
	var cmds, outputs, warnings []string
	send := func(lines []string) error {
		if len(lines) == 0 {
			return nil
		}
		replies, err := m.haproxySend(ctx, conn, lines...)
		if err != nil {
			return err
		}
		for i, r := range replies {
			cmds, outputs = append(cmds, lines[i]), append(outputs, strings.TrimSpace(r))
			if w := haproxyComplaint(r); w != "" {
				warnings = append(warnings, "HAProxy answered "+lines[i]+": "+w)
			}
		}
		return nil
	}
	result := func(ch plan.Change) plan.Change {
		ch.Warnings = append(ch.Warnings, warnings...)
		if ch.Data == nil {
			ch.Data = map[string]any{}
		}
		if ch.Failed && len(cmds) > 0 {
			ch.Action = plan.Update // something was sent before the failure
		}
		if len(cmds) > 0 {
			ch.Data["command"], ch.Data["output"] = cmds, outputs
		}
		return ch
	}
	for _, pass := range p.passes {
		var batch []string
		for _, st := range p.steps {
			if !m.wait {
				batch = append(batch, pass.line(st.backend))
				continue
			}
			if err := send([]string{pass.line(st.backend)}); err != nil {
				return haproxyApplyFailure(err, result)
			}
			if msg, err := m.waitFor(ctx, conn, st.backend, pass.want); err != nil || msg != "" {
				if err != nil {
					return haproxyApplyFailure(err, result)
				}
				return result(plan.Change{Action: plan.None, Failed: true, Msg: msg,
					Data: map[string]any{"state_before": haproxyStatesData(before)}}), nil
			}
		}
		if err := send(batch); err != nil {
			return haproxyApplyFailure(err, result)
		}
	}
	data := map[string]any{"state_before": haproxyStatesData(before)}
	if p.failMsg != "" {
		return result(plan.Change{Action: plan.None, Failed: true, Msg: p.failMsg, Data: data}), nil
	}
	after, err := m.read(ctx, conn)
	if err != nil {
		return haproxyApplyFailure(err, result)
	}
	afterStates := haproxyStateFor(after.rows, m.backend, m.host)
	data["state_after"] = haproxyStatesData(afterStates)
	ch := plan.Change{Action: plan.None, Data: data, Summary: "ran " + strings.Join(cmds, "; ")}
	if len(cmds) == 0 {
		ch.Summary = m.summary(p)
	}
	if !reflect.DeepEqual(before, afterStates) {
		ch.Action = plan.Update
	}
	return result(ch), nil
}

// haproxyApplyFailure is a failure in the middle of Apply: a socket that
// cannot be reached fails the task with what was sent so far registered.
func haproxyApplyFailure(err error, result func(plan.Change) plan.Change) (plan.Change, error) {
	res, _, err := haproxyFailure(err)
	if err != nil {
		return plan.Change{}, err
	}
	return result(res), nil
}

// haproxyGetWeightRE is `get weight`'s answer.
var haproxyGetWeightRE = regexp.MustCompile(`^[0-9]+ \(initial [0-9]+\)$`)

// haproxyComplaint is what in a reply is not the answer of a command that
// worked: `enable server`, `set weight` and the like answer nothing, `get
// weight` "N (initial M)". The module ignores such answers ("Permission
// denied", "No such server."); tend ignores them too (the change is read
// from `show stat`) but shows them as warnings.
func haproxyComplaint(reply string) string {
	var rest []string
	for _, l := range strings.Split(reply, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || haproxyGetWeightRE.MatchString(l) {
			continue
		}
		rest = append(rest, l)
	}
	return strings.Join(rest, " ")
}

// waitFor is the module's wait_until_status: up to wait_retries-1 reads of
// `show stat`, wait_interval apart, until the server's status holds want
// (and, with drain, it has no current session). A server that never gets
// there is the module's failure message; ctx ends the wait early.
func (m *haproxyModule) waitFor(ctx context.Context, conn transport.Conn, backend, want string) (string, error) {
	for i := 1; i < m.waitRetries; i++ {
		replies, err := m.haproxySend(ctx, conn, "show stat")
		if err != nil {
			return "", err
		}
		rows, err := parseHaproxyStat(replies[0])
		if err != nil {
			return "", err
		}
		if st := haproxyStateFor(rows, backend, m.host); len(st) > 0 && strings.Contains(st[0].Status, want) {
			if !m.drain || st[0].Scur == "0" {
				return "", nil
			}
		}
		t := time.NewTimer(m.waitInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("haproxy: waiting for %s/%s to be %s: %w", backend, m.host, want, ctx.Err())
		case <-t.C:
		}
	}
	return fmt.Sprintf("server %s/%s not status '%s' after %d retries. Aborting.", backend, m.host, want, m.waitRetries), nil
}
