package modules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
	"tend/runner/modules/sysctlconf"
	"tend/runner/plan"
	"tend/runner/transport"
)

// sysctlSpec sets kernel parameters live and in a sysctl.conf file: Ansible's
// sysctl module, plus a settings mapping, a diff, backups, keys the kernel
// lacks reported instead of written, and every value read back.
var sysctlSpec = Spec{New: newSysctl, Verifiable: true}

// sysctlArgs are the module's YAML arguments.
type sysctlArgs struct {
	Name       string                  `yaml:"name"`
	Value      string                  `yaml:"value"`
	Settings   yamlnode.OrderedStrings `yaml:"settings"`
	File       string                  `yaml:"file"`
	SysctlFile string                  `yaml:"sysctl_file"` // Ansible's name for file
	Reload     *bool                   `yaml:"reload"`
	State      string                  `yaml:"state"`
	SysctlSet  *bool                   `yaml:"sysctl_set"`
	// IgnoreErrors is Ansible's ignoreerrors: sysctl -e -p, so keys this
	// kernel lacks raise no complaint. tend never fails on them anyway: such
	// a key is reported unsupported and skipped, with or without it.
	IgnoreErrors bool   `yaml:"ignoreerrors"`
	Persist      string `yaml:"persist"`
}

// sysctlModule is one validated sysctl task.
type sysctlModule struct {
	file    string
	want    []sysctlconf.Setting // state: present, in the given order
	absent  []string             // state: absent
	reload  bool                 // run sysctl -p FILE after writing it
	liveSet bool                 // write live values (sysctl_set)
	// ignoreErrors runs sysctl -e -p: unknown keys already in the file are
	// not complained about (ignoreerrors).
	ignoreErrors bool
	// strict (persist: strict) fails the task's verification on a key
	// that reverts at boot; by default the report is a warning.
	strict bool
	boot   sysctlBootLayout // where the boot-time readers look
}

const defaultSysctlFile = "/etc/sysctl.conf"

// sysctlStatusChange is plan's "change" value status, spelled out because the
// constant's name collides with the plan.ValueChange type.
const sysctlStatusChange = plan.ValueStatus("change")

func newSysctl(a Args) (Module, error) {
	var args sysctlArgs
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	fail := func(format string, v ...any) (Module, error) {
		return nil, posErr(a.File, a.Node, "sysctl", format, v...)
	}
	m := &sysctlModule{file: defaultSysctlFile, reload: true, liveSet: true, ignoreErrors: args.IgnoreErrors, boot: defaultSysctlBoot}
	switch {
	case args.File != "" && args.SysctlFile != "":
		return fail("give file or sysctl_file, not both")
	case args.File != "":
		m.file = args.File
	case args.SysctlFile != "":
		m.file = args.SysctlFile
	}
	if !sysctlTemplated(m.file) && (!path.IsAbs(m.file) || strings.ContainsAny(m.file, "\n\x00")) {
		return fail("file %q must be an absolute path", m.file)
	}
	if args.Reload != nil {
		m.reload = *args.Reload
	}
	if args.SysctlSet != nil {
		m.liveSet = *args.SysctlSet
	}
	switch args.Persist {
	case "", "warn":
	case "strict":
		m.strict = true
	default:
		if !sysctlTemplated(args.Persist) {
			return nil, posErr(a.File, sysctlArgValue(a.Node, "persist", a.Node), "sysctl", "persist must be warn or strict, not %q", args.Persist)
		}
	}
	state := args.State
	if state == "" {
		state = "present"
	}
	if state != "present" && state != "absent" && !sysctlTemplated(state) {
		return fail("state must be present or absent, not %q", state)
	}

	var keys, values []string
	switch {
	case args.Name != "" && len(args.Settings.Keys) > 0:
		return fail("give name (and value) or settings, not both")
	case args.Name != "":
		keys, values = []string{args.Name}, []string{args.Value}
	case len(args.Settings.Keys) > 0:
		keys = args.Settings.Keys
		for _, k := range keys {
			values = append(values, args.Settings.Values[k])
		}
	case templatedArg(a.Node, "settings"):
		return m, nil // validation before rendering: settings come from a variable
	default:
		return fail("nothing to set: give name and value, or settings")
	}
	if args.Value != "" && args.Name == "" {
		return fail("value needs name")
	}
	if state == "absent" && args.Value != "" {
		return fail("value has no meaning with state: absent")
	}

	// at positions an error about key k (its settings entry, or name).
	at := func(k string, value bool) *yaml.Node {
		if args.Name != "" {
			return sysctlArgValue(a.Node, "name", a.Node)
		}
		s := sysctlArgValue(a.Node, "settings", a.Node)
		if value {
			return sysctlArgValue(s, k, s)
		}
		return sysctlArgKey(s, k, s)
	}
	seen := map[string]string{}
	for i, k := range keys {
		v := values[i]
		if !sysctlTemplated(k) {
			if err := sysctlconf.ValidateKey(k); err != nil {
				return nil, posErr(a.File, at(k, false), "sysctl", "%v", err)
			}
			if prev, dup := seen[sysctlconf.Canonical(k)]; dup {
				return nil, posErr(a.File, at(k, false), "sysctl", "%q and %q are the same key", prev, k)
			}
			seen[sysctlconf.Canonical(k)] = k
		}
		if state == "absent" {
			m.absent = append(m.absent, k)
			continue
		}
		if !sysctlTemplated(v) {
			if err := sysctlconf.ValidateValue(v); err != nil {
				return nil, posErr(a.File, at(k, true), "sysctl", "%s: %v", k, err)
			}
			if sysctlconf.NormalizeValue(v) == "" {
				return nil, posErr(a.File, at(k, true), "sysctl", "%s: empty value", k)
			}
		}
		m.want = append(m.want, sysctlconf.Setting{Key: k, Value: v})
	}
	return m, nil
}

// sysctlArgKey returns the key node named key in mapping n, or def.
func sysctlArgKey(n *yaml.Node, key string, def *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i]
			}
		}
	}
	return def
}

// sysctlArgValue returns the value node of key in mapping n, or def.
func sysctlArgValue(n *yaml.Node, key string, def *yaml.Node) *yaml.Node {
	if k := sysctlArgKey(n, key, nil); k != nil {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i] == k {
				return n.Content[i+1]
			}
		}
	}
	return def
}

// sysctlTemplated reports whether s still holds an unrendered template (the
// playbook is being validated before any host is known).
func sysctlTemplated(s string) bool { return yamlnode.IsTemplateText(s) }

// validate re-checks what New let through as sysctlTemplated, now rendered.
func (m *sysctlModule) validate() error {
	if !path.IsAbs(m.file) || strings.ContainsAny(m.file, "\n\x00") {
		return fmt.Errorf("sysctl: file %q must be an absolute path", m.file)
	}
	for _, k := range append(m.absent, sysctlKeys(m.want)...) {
		if err := sysctlconf.ValidateKey(k); err != nil {
			return fmt.Errorf("sysctl: %v", err)
		}
	}
	for _, s := range m.want {
		if err := sysctlconf.ValidateValue(s.Value); err != nil {
			return fmt.Errorf("sysctl: %s: %v", s.Key, err)
		}
	}
	return nil
}

func sysctlKeys(ss []sysctlconf.Setting) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Key
	}
	return out
}

// liveTracked reports whether the task manages live values: written
// directly (sysctl_set) or through sysctl -p (reload).
func (m *sysctlModule) liveTracked() bool { return m.liveSet || m.reload }

// sysctlState is what inspect found on the host and what it would change.
// Check hands it to Apply as plan.Change.Private.
type sysctlState struct {
	file       string // the file inspected (m.file)
	content    []byte // the file as read (nil when missing)
	exists     bool
	sha        string // hex SHA-256 of content, or transport.ExpectAbsent
	newContent []byte
	edits      []sysctlconf.LineEdit
	live       map[string]sysctlLive // by canonical key
	keys       []sysctlKeyPlan       // state: present, in order
	warnings   []string
	boot       *sysctlBoot // what the host will hold at boot; nil without keys to set
}

// sysctlKeyPlan is the plan for one wanted key.
type sysctlKeyPlan struct {
	sysctlconf.Setting
	id          string // canonical key
	path        string // /proc/sys/...
	supported   bool
	fileValue   string
	inFile      bool
	live        string // normalised live value
	liveChange  bool   // live value differs and the task writes it
	fileChange  bool
	unsupported string // why, when !supported
}

// Check reads the file, every key's live value and the boot-time sysctl.d
// files (one command, and a second one only when the file sets other keys)
// and plans, saying what the host will hold at boot (sysctl_boot.go). The
// plan carries what it saw to Apply (Private).
func (m *sysctlModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	st, err := m.inspect(ctx, conn)
	if err != nil {
		return plan.Change{}, err
	}
	c := m.change(st)
	c.Private = st
	return c, nil
}

// inspect gathers the host's state for the task: the file, one probe of
// /proc/sys for our keys and the listing of the boot-time files in one
// command, then, only if the file sets keys this task does not, whether
// they exist.
func (m *sysctlModule) inspect(ctx context.Context, conn transport.Conn) (*sysctlState, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	st := &sysctlState{file: m.file, sha: transport.ExpectAbsent}
	var ours []string
	for _, s := range m.want {
		ours = append(ours, sysctlconf.KeyToProcPath(s.Key))
	}
	read, err := sysctlReadProbe(ctx, conn, m.file, ours, m.boot)
	if err != nil {
		return nil, err
	}
	probe := read.probe
	if read.exists {
		st.content, st.exists = read.content, true
		sum := sha256.Sum256(read.content)
		st.sha = hex.EncodeToString(sum[:])
	}

	ourIDs := map[string]bool{}
	for _, k := range append(sysctlKeys(m.want), m.absent...) {
		ourIDs[sysctlconf.Canonical(k)] = true
	}
	var others []string
	otherLine := map[string]sysctlconf.Line{}
	for _, l := range sysctlconf.Parse(st.content) {
		if l.Kind != sysctlconf.Assign || l.Glob || ourIDs[l.ID()] || sysctlconf.ValidateKey(l.Key) != nil {
			continue
		}
		p := sysctlconf.KeyToProcPath(l.Key)
		if _, dup := otherLine[p]; !dup && len(others) < sysctlMaxProbeOthers {
			others = append(others, p)
		}
		otherLine[p] = l
	}
	if len(others) > 0 {
		op, err := sysctlProbeLive(ctx, conn, nil, others, false)
		if err != nil {
			return nil, err
		}
		probe.others = op.others
	}
	st.live = map[string]sysctlLive{}

	eff := sysctlconf.Effective(st.content)
	var supported []sysctlconf.Setting
	for i, s := range m.want {
		k := sysctlKeyPlan{Setting: s, id: sysctlconf.Canonical(s.Key), path: ours[i]}
		k.fileValue, k.inFile = eff[k.id]
		lk := probe.keys[i]
		st.live[k.id] = lk
		k.unsupported = sysctlUnsupportedReason(k.id, k.path, lk, probe)
		k.supported = k.unsupported == ""
		if k.supported {
			k.live = sysctlconf.NormalizeValue(lk.value)
			k.fileChange = !k.inFile || !sysctlconf.ValuesEqual(k.fileValue, s.Value)
			k.liveChange = m.liveTracked() && !sysctlconf.ValuesEqual(k.live, s.Value)
			supported = append(supported, s)
		} else if k.inFile {
			st.warnings = append(st.warnings, fmt.Sprintf("%s: %s already sets this key, which this host lacks; sysctl -p will report it (remove it with state: absent)", s.Key, m.file))
		}
		st.keys = append(st.keys, k)
	}
	for i, p := range others {
		if probe.others[i] == "missing" {
			l := otherLine[p]
			reload := "sysctl -p will report it"
			if m.ignoreErrors {
				reload = "sysctl -e -p ignores it (ignoreerrors)"
			}
			st.warnings = append(st.warnings, fmt.Sprintf("%s:%d: %s: no %s on this host; %s (not a key this task sets)", m.file, l.Num, l.Key, p, reload))
		}
	}
	for _, b := range sysctlconf.BadLines(st.content) {
		st.warnings = append(st.warnings, fmt.Sprintf("%s:%d: %s: %q (not a key this task sets)", m.file, b.Line, b.Reason, b.Text))
	}
	st.newContent, st.edits = sysctlconf.Edit(st.content, supported, m.absent)
	if len(supported) > 0 {
		st.boot = sysctlBootReport(read.boot, m.boot, m.file, st.newContent, st.exists || len(st.newContent) > 0, st.keys)
	}
	return st, nil
}

// sysctlMaxProbeOthers bounds how many of the file's other keys Check looks up.
const sysctlMaxProbeOthers = 512
