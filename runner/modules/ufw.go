package modules

import (
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// ufwSpec manages the Uncomplicated Firewall as community.general.ufw
// does: state, default policies, one rule and logging, each a ufw command
// run in that order. Check reads `ufw status verbose` and the user rules'
// tuples, and predicts a rule with `ufw --dry-run`; Apply runs the commands
// and is changed when the status or the user rules differ afterwards.
var ufwSpec = Spec{New: newUfw, Verifiable: true}

// ufwArgs are the YAML arguments of community.general.ufw, one field per
// name (aliases included: DecodeStrict knows one name a field).
type ufwArgs struct {
	State        string `yaml:"state"`
	Default      string `yaml:"default"`
	Policy       string `yaml:"policy"`
	Logging      string `yaml:"logging"`
	Direction    string `yaml:"direction"`
	Delete       bool   `yaml:"delete"`
	Route        bool   `yaml:"route"`
	Insert       *int   `yaml:"insert"`
	InsertRel    string `yaml:"insert_relative_to"`
	Rule         string `yaml:"rule"`
	Interface    string `yaml:"interface"`
	If           string `yaml:"if"`
	InterfaceIn  string `yaml:"interface_in"`
	IfIn         string `yaml:"if_in"`
	InterfaceOut string `yaml:"interface_out"`
	IfOut        string `yaml:"if_out"`
	Log          bool   `yaml:"log"`
	FromIP       string `yaml:"from_ip"`
	From         string `yaml:"from"`
	Src          string `yaml:"src"`
	FromPort     string `yaml:"from_port"`
	ToIP         string `yaml:"to_ip"`
	Dest         string `yaml:"dest"`
	To           string `yaml:"to"`
	ToPort       string `yaml:"to_port"`
	Port         string `yaml:"port"`
	Proto        string `yaml:"proto"`
	Protocol     string `yaml:"protocol"`
	Name         string `yaml:"name"`
	App          string `yaml:"app"`
	Comment      string `yaml:"comment"`
}

// ufwModule is one ufw task. Empty strings are arguments not given.
type ufwModule struct {
	state, policy, logging, direction, rule string
	delete, route, log                      bool
	insert                                  *int
	iface, ifaceIn, ifaceOut                string
	fromIP, fromPort, toIP, toPort          string
	proto, app, comment                     string
	// unsettled is set by Apply when a check after it cannot find nothing
	// to do (see Verifiable).
	unsettled bool
}

// ufwChoices are the values the module accepts, as community.general's.
var ufwChoices = map[string][]string{
	"state":     {"enabled", "disabled", "reloaded", "reset"},
	"default":   {"allow", "deny", "reject"},
	"logging":   {"full", "high", "low", "medium", "off", "on"},
	"direction": {"in", "incoming", "out", "outgoing", "routed"},
	"rule":      {"allow", "deny", "limit", "reject"},
	"proto":     {"ah", "any", "esp", "ipv6", "tcp", "udp", "gre", "igmp"},
}

func newUfw(a Args) (Module, error) {
	bad := func(key, format string, v ...any) error {
		return posErr(a.File, argValueNode(a.Node, key), "ufw", format, v...)
	}
	var args ufwArgs
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	m := &ufwModule{state: args.State, logging: args.Logging, direction: args.Direction, rule: args.Rule,
		delete: args.Delete, route: args.Route, insert: args.Insert, log: args.Log,
		fromPort: args.FromPort, comment: args.Comment}
	// Each aliased argument: at most one of its names.
	for _, al := range []struct {
		dst  *string
		keys []string
		vals []string
	}{
		{&m.policy, []string{"default", "policy"}, []string{args.Default, args.Policy}},
		{&m.iface, []string{"interface", "if"}, []string{args.Interface, args.If}},
		{&m.ifaceIn, []string{"interface_in", "if_in"}, []string{args.InterfaceIn, args.IfIn}},
		{&m.ifaceOut, []string{"interface_out", "if_out"}, []string{args.InterfaceOut, args.IfOut}},
		{&m.fromIP, []string{"from_ip", "from", "src"}, []string{args.FromIP, args.From, args.Src}},
		{&m.toIP, []string{"to_ip", "dest", "to"}, []string{args.ToIP, args.Dest, args.To}},
		{&m.toPort, []string{"to_port", "port"}, []string{args.ToPort, args.Port}},
		{&m.proto, []string{"proto", "protocol"}, []string{args.Proto, args.Protocol}},
		{&m.app, []string{"name", "app"}, []string{args.Name, args.App}},
	} {
		used := ""
		for i := 0; a.Node != nil && a.Node.Kind == yaml.MappingNode && i+1 < len(a.Node.Content); i += 2 {
			k := a.Node.Content[i].Value
			j := slices.Index(al.keys, k)
			if j < 0 {
				continue
			}
			if used != "" {
				return nil, bad(k, "%s and %s are the same argument; give one", used, k)
			}
			used, *al.dst = k, al.vals[j]
		}
	}
	if m.fromIP == "" {
		m.fromIP = "any"
	}
	if m.toIP == "" {
		m.toIP = "any"
	}
	for key, v := range map[string]string{"state": m.state, "default": m.policy, "logging": m.logging,
		"direction": m.direction, "rule": m.rule, "proto": m.proto} {
		if err := ufwChoice(a, key, v); err != nil {
			return nil, err
		}
	}
	if rel := args.InsertRel; rel != "" && rel != "zero" && !hasTemplate(rel) {
		return nil, bad("insert_relative_to", "insert_relative_to: %s is not supported by tend's ufw (only zero: insert counts from the first rule)", rel)
	}
	given := func(keys ...string) string {
		for _, k := range keys {
			if _, ok := lookupArg(a.Node, k); ok {
				return k
			}
		}
		return ""
	}
	if m.state == "" && m.policy == "" && m.rule == "" && m.logging == "" {
		return nil, posErr(a.File, a.Node, "ufw", "one of the following is required: state, default, rule, logging")
	}
	if k1, k2 := given("name", "app"), given("proto", "protocol"); k1 != "" && k2 != "" {
		return nil, bad(k2, "parameters are mutually exclusive: name|proto|logging (%s and %s given)", k1, k2)
	}
	if k1, k2 := given("name", "app", "proto", "protocol"), given("logging"); k1 != "" && k2 != "" {
		return nil, bad(k2, "parameters are mutually exclusive: name|proto|logging (%s and %s given)", k1, k2)
	}
	if k := given("interface_in", "if_in", "interface_out", "if_out"); k != "" && m.direction != "" {
		return nil, bad(k, "parameters are mutually exclusive: direction|%s", k)
	}
	if k := given("interface", "if"); k != "" && m.direction == "" {
		return nil, bad(k, "missing parameter(s) required by '%s': direction", k)
	}
	if !hasTemplate(m.direction) {
		if m.policy != "" && m.direction != "" && m.direction != "incoming" && m.direction != "outgoing" && m.direction != "routed" {
			return nil, bad("direction", `For default, direction must be one of "outgoing", "incoming" and "routed", or direction must not be specified.`)
		}
		if m.rule != "" && m.direction != "" && m.direction != "in" && m.direction != "out" {
			return nil, bad("direction", `For rules, direction must be one of "in" and "out", or direction must not be specified.`)
		}
	}
	if m.rule != "" && !m.route && m.ifaceIn != "" && m.ifaceOut != "" {
		return nil, bad(given("interface_out", "if_out"), "Only route rules can combine interface_in and interface_out")
	}
	return m, nil
}

// ufwChoice checks one value against the module's choices (a template is
// checked once rendered).
func ufwChoice(a Args, key, v string) error {
	if v == "" || hasTemplate(v) {
		return nil
	}
	for _, c := range ufwChoices[key] {
		if v == c {
			return nil
		}
	}
	node := argValueNode(a.Node, key)
	if key == "default" {
		node = argValueNode(a.Node, firstGivenKey(a.Node, "default", "policy"))
	} else if key == "proto" {
		node = argValueNode(a.Node, firstGivenKey(a.Node, "proto", "protocol"))
	}
	return posErr(a.File, node, "ufw", "value of %s must be one of: %s, got: %s%s", key,
		strings.Join(ufwChoices[key], ", "), v, yamlnode.DidYouMean(v, ufwChoices[key]))
}

// firstGivenKey is the first of keys present in the mapping, else keys[0].
func firstGivenKey(n *yaml.Node, keys ...string) string {
	for _, k := range keys {
		if _, ok := lookupArg(n, k); ok {
			return k
		}
	}
	return keys[0]
}

// ufwCommand is one ufw invocation of the task: its arguments after the
// program (and after --dry-run when predicted).
type ufwCommand struct {
	key  string // state, default, rule or logging
	args []string
}

// ufwStateVerbs are the ufw verbs of state's values.
var ufwStateVerbs = map[string]string{"enabled": "enable", "disabled": "disable", "reloaded": "reload", "reset": "reset"}

// commands are the task's ufw commands in community.general's order
// (state, default, rule, logging). withComment is false for a ufw older
// than 0.35, which has no comments (the module then leaves it out).
func (m *ufwModule) commands(withComment bool) []ufwCommand {
	var out []ufwCommand
	if m.state != "" {
		out = append(out, ufwCommand{"state", []string{"-f", ufwStateVerbs[m.state]}})
	}
	if m.policy != "" {
		c := []string{"default", m.policy}
		if m.direction != "" {
			c = append(c, m.direction)
		}
		out = append(out, ufwCommand{"default", c})
	}
	if m.rule != "" {
		out = append(out, ufwCommand{"rule", m.ruleArgs(withComment)})
	}
	if m.logging != "" {
		out = append(out, ufwCommand{"logging", []string{"logging", m.logging}})
	}
	return out
}

// ruleArgs is ufw's long rule form, as the module builds it:
//
//	[route] [delete | insert N] RULE [in|out] [on IF] [in on IF] [out on IF] [log]
//	from ADDR [port P] to ADDR [port P] [proto P] [app NAME] [comment C]
//
// Every value is one argument of its own (never split on spaces).
func (m *ufwModule) ruleArgs(withComment bool) []string {
	var c []string
	add := func(cond bool, words ...string) {
		if cond {
			c = append(c, words...)
		}
	}
	add(m.route, "route")
	add(m.delete, "delete")
	if m.insert != nil && !m.delete {
		c = append(c, "insert", strconv.Itoa(*m.insert))
	}
	c = append(c, m.rule)
	add(m.direction != "", m.direction)
	add(m.iface != "", "on", m.iface)
	add(m.ifaceIn != "", "in", "on", m.ifaceIn)
	add(m.ifaceOut != "", "out", "on", m.ifaceOut)
	add(m.log, "log")
	c = append(c, "from", m.fromIP)
	add(m.fromPort != "", "port", m.fromPort)
	c = append(c, "to", m.toIP)
	add(m.toPort != "", "port", m.toPort)
	add(m.proto != "", "proto", m.proto)
	add(m.app != "", "app", m.app)
	add(withComment && m.comment != "", "comment", m.comment)
	return c
}

// Verifiable: reloaded and reset change the host every time, as the
// module reports them; and while ufw is inactive its status has no Default
// and no Logging line, so the module's check predicts a change of default
// and logging every time (Apply sets unsettled then).
func (m *ufwModule) Verifiable() bool {
	return m.state != "reloaded" && m.state != "reset" && !m.unsettled
}
