package modules

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/runner/plan"
	"tend/runner/transport"
)

// pamLimitsSpec sets one PAM limit in limits.conf: community.general's
// pam_limits, with its arguments and line rules (editPamLimits), written as
// the other file modules write (atomic, backup, untouched lines kept), plus
// a diff in the dry run and a recheck after apply.
var pamLimitsSpec = Spec{New: newPamLimits, Verifiable: true}

// pamDecimal is a plain decimal integer, which YAML 1.1 and 1.2 read alike.
var pamDecimal = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// defaultLimitsConf is the module's default dest.
const defaultLimitsConf = "/etc/security/limits.conf"

// pamLimitsArgs are the module's YAML arguments (its names).
type pamLimitsArgs struct {
	Domain    *string `yaml:"domain"`
	LimitType *string `yaml:"limit_type"`
	LimitItem *string `yaml:"limit_item"`
	Value     *string `yaml:"value"`
	UseMax    bool    `yaml:"use_max"`
	UseMin    bool    `yaml:"use_min"`
	Backup    *bool   `yaml:"backup"`
	Dest      string  `yaml:"dest"`
	Comment   string  `yaml:"comment"`
}

// pamLimitsModule is one validated pam_limits task.
type pamLimitsModule struct {
	dest  string
	limit pamLimit
	opts  writeOpts
}

func newPamLimits(a Args) (Module, error) {
	var args pamLimitsArgs
	const mod = "pam_limits"
	at, fail, err := decodeTextArgs(a, mod, &args)
	if err != nil {
		return nil, err
	}
	for _, req := range []struct {
		key string
		v   *string
	}{{"domain", args.Domain}, {"limit_type", args.LimitType}, {"limit_item", args.LimitItem}, {"value", args.Value}} {
		if req.v == nil {
			return nil, posErr(a.File, a.Node, mod, "missing required argument: %s", req.key)
		}
	}
	m := &pamLimitsModule{dest: defaultLimitsConf, opts: writeOpts{backup: true}, limit: pamLimit{
		domain: *args.Domain, typ: *args.LimitType, item: *args.LimitItem, value: *args.Value,
		useMax: args.UseMax, useMin: args.UseMin, comment: args.Comment}}
	if args.Backup != nil {
		m.opts.backup = *args.Backup
	}
	if args.Dest != "" {
		m.dest = args.Dest
	}
	l := m.limit
	switch {
	case !sysctlTemplated(m.dest) && (!path.IsAbs(m.dest) || strings.ContainsAny(m.dest, "\n\x00")):
		return fail("dest", "dest %q must be an absolute path (tend expands no ~ nor relative paths)", m.dest)
	case l.useMax && l.useMin:
		return fail("use_min", "Cannot use use_min and use_max at the same time.")
	case !sysctlTemplated(l.typ) && !slices.Contains(pamTypes, l.typ):
		return fail("limit_type", "limit_type must be one of hard, soft, -, not %q", l.typ)
	case !sysctlTemplated(l.item) && !slices.Contains(pamItems, l.item):
		return fail("limit_item", "limit_item must be one of %s, not %q", strings.Join(pamItems, ", "), l.item)
	case !sysctlTemplated(l.domain) && (l.domain == "" || strings.ContainsFunc(l.domain, pyIsSpace) || strings.Contains(l.domain, "#")):
		// The module writes such a domain as given, and never finds the line
		// again: a new one is appended on every run.
		return fail("domain", "domain %q must be one word without '#' (a user, @group, wildcard or range)", l.domain)
	case strings.ContainsAny(l.comment, "\r\n"):
		return fail("comment", "comment must be one line: a newline in it would write another line into %s", m.dest)
	}
	if n := at("value"); n != nil && n.Kind == yaml.ScalarNode && n.Style == 0 && n.ShortTag() == "!!int" && !pamDecimal.MatchString(n.Value) {
		// Ansible's YAML (1.1) reads 0755 as 493, 0x10 as 16, +5 as 5:
		// the module would write another number than the one shown.
		return fail("value", "value %s is not a decimal integer: Ansible's YAML reads it as another number; write it in decimal, or quote it", n.Value)
	}
	if !sysctlTemplated(l.item) && !sysctlTemplated(l.value) {
		if err := pamValueError(l.item, l.value); err != nil {
			return fail("value", "%v", err)
		}
	}
	return m, nil
}

// Check reads the file and plans the edit (a diff).
func (m *pamLimitsModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	return checkEdit(ctx, conn, m.opts, m.plan)
}

// Apply writes what Check planned, or refuses a file that changed since.
func (m *pamLimitsModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	return applyEdit(ctx, conn, planned, m.dest, m.opts, m.plan)
}

// plan reads dest and edits it. A missing dest is created, as the module
// creates it, when its directory exists; else the task fails with the
// module's message.
func (m *pamLimitsModule) plan(ctx context.Context, conn transport.Conn) (*fileEdit, error) {
	const mod = "pam_limits"
	f, err := readTextFile(ctx, conn, mod, m.dest)
	if err != nil {
		return nil, err
	}
	e := &fileEdit{module: mod, file: f, backupKey: "backup_file"}
	if !f.exists {
		dir := path.Dir(m.dest)
		res, err := conn.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", `[ -d "$1" ] && [ -w "$1" ]`, "sh", dir}})
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", mod, dir, err)
		}
		if res.ExitCode != 0 {
			return nil, fmt.Errorf("%s: directory %s is not writable (check presence, access rights, use sudo)", mod, dir)
		}
		e.create = true
	}
	ed, err := editPamLimits(m.dest, f.content, m.limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mod, err)
	}
	e.after = ed.after
	l := m.limit
	switch {
	case !ed.found:
		e.msg = fmt.Sprintf("%s %s %s %s added", l.domain, l.typ, l.item, ed.value)
	default:
		e.msg = fmt.Sprintf("%s %s %s %s → %s", l.domain, l.typ, l.item, ed.old, ed.value)
	}
	if !f.exists {
		e.msg = "created with " + e.msg
	}
	e.data = map[string]any{"msg": ed.msg}
	return e, nil
}
