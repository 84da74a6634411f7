package playbook

import (
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// taskKeys are the task keywords tend runs or accepts; any other key of a
// task must be its one module.
var taskKeys = []string{
	"name", "register", "when", "changed_when", "failed_when", "notify",
	"check_mode", "ignore_errors", "timeout", "vars", "listen", "tags",
	"retries", "until", "delay", "become", "become_user", "no_log",
	"loop", "loop_control", "args", "become_method", "metrics", "budget",
	"delegate_to", "run_once", "throttle", "ignore_unreachable", "environment",
	"delegate_facts", "async", "poll", "collections",
	"any_errors_fatal", "remote_user",
}

var taskKeySet = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range taskKeys {
		m[k] = true
	}
	return m
}()

// unsupportedTaskKeys are Ansible task keywords tend deliberately lacks.
var unsupportedTaskKeys = map[string]bool{
	"rescue": true, "always": true, // only beside block:, which makes a block
	"debugger": true, "diff": true,
	"become_flags": true, "connection": true, "port": true,
	"module_defaults": true, "vars_files": true,
	"import_playbook": true,
}

// moduleAliases maps fully qualified collection names to tend's modules.
var moduleAliases = map[string]string{
	"ansible.builtin.command":         "command",
	"ansible.builtin.shell":           "shell",
	"ansible.builtin.service":         "service",
	"ansible.builtin.systemd":         "systemd",
	"ansible.builtin.systemd_service": "systemd_service",
	"ansible.builtin.assert":          "assert",
	"ansible.builtin.wait_for":        "wait_for",
	"ansible.posix.sysctl":            "sysctl",
	"community.general.archive":       "archive",
	"community.general.ufw":           "ufw",
	"community.general.haproxy":       "haproxy",
	"community.general.pam_limits":    "pam_limits",
}

// canonicalModule maps an FQCN to tend's module name; other keys unchanged.
func canonicalModule(key string) string {
	if m, ok := moduleAliases[key]; ok {
		return m
	}
	for _, prefix := range []string{"ansible.builtin.", "ansible.legacy.", "ansible.posix."} {
		if rest, ok := strings.CutPrefix(key, prefix); ok {
			return rest
		}
	}
	return key
}

// tasks reads a list of tasks (null is an empty list).
func (p *parser) tasks(v *yaml.Node, section string, handlers bool) []*Task {
	if yamlnode.IsNull(v) {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		p.Errorf(v, section, "%s must be a list, not %s", section, yamlnode.Describe(v))
		return nil
	}
	out := make([]*Task, 0, len(v.Content))
	for i, n := range v.Content {
		n = yamlnode.Resolve(n)
		if isBlock(n) {
			if t := p.block(n, yamlnode.IndexPath(section, i), handlers); t != nil {
				out = append(out, t)
			}
			continue
		}
		if key, kind := reuseKey(n); key != nil {
			out = append(out, p.reuse(n, key, kind, yamlnode.IndexPath(section, i), handlers)...)
			continue
		}
		if t := p.task(n, yamlnode.IndexPath(section, i), handlers); t != nil {
			out = append(out, t)
		}
	}
	return out
}

// task reads one task: keywords plus exactly one module key.
func (p *parser) task(n *yaml.Node, path string, handler bool) *Task {
	if n.Kind != yaml.MappingNode {
		p.Errorf(n, path, "a task must be a mapping, not %s", yamlnode.Describe(n))
		return nil
	}
	t := &Task{Pos: yamlnode.PosOf(p.File(), n), Field: path, KeyPos: map[string]Pos{}}
	if p.role != nil {
		t.RoleDirs = p.role.chain
	}
	var moduleKey, argsNode *yaml.Node
	badModule := false // an unknown module was reported; "no module" would repeat it
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := yamlnode.Resolve(n.Content[i]), yamlnode.Resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.Errorf(k, path, "task keys must be strings, not %s", yamlnode.Describe(k))
			continue
		}
		field := yamlnode.JoinPath(path, k.Value)
		if p.loopKeyword(t, k, v, field) {
			t.KeyPos["loop"] = yamlnode.PosOf(p.File(), v)
			continue
		}
		if k.Value == "args" {
			t.KeyPos[k.Value], argsNode = yamlnode.PosOf(p.File(), v), v
			continue
		}
		if taskKeySet[k.Value] {
			t.KeyPos[k.Value] = yamlnode.PosOf(p.File(), v)
			p.keyword(t, k, v, field, handler)
			continue
		}
		if k.Value == "action" || k.Value == "local_action" { // action.go
			key, args, ok := p.action(k, v, field)
			if !ok {
				badModule = true
				continue
			}
			if k.Value == "local_action" {
				if hasKey(n, "delegate_to") {
					p.Errorf(k, field, "local_action runs on localhost: it cannot also have delegate_to")
				}
				t.DelegateTo, t.KeyPos["delegate_to"] = "localhost", yamlnode.PosOf(p.File(), k)
			}
			k, v = key, args
		}
		if unsupportedTaskKeys[k.Value] {
			p.Errorf(k, field, "task keyword is not supported by tend%s", unsupportedWhy[k.Value])
			continue
		}
		module, ok := p.module(k, field)
		if !ok {
			badModule = true
			continue
		}
		if moduleKey != nil {
			p.Errorf(k, field, "a task runs exactly one module; found %q (line %d) and %q (line %d)",
				moduleKey.Value, moduleKey.Line, k.Value, k.Line)
			continue
		}
		moduleKey = k
		t.Module, t.ModulePos, t.Args = module, yamlnode.PosOf(p.File(), k), v
	}
	if moduleKey == nil && badModule {
		return nil
	}
	if moduleKey == nil {
		msg := "task has no module"
		if len(p.moduleNames) > 0 {
			names := append([]string(nil), p.moduleNames...)
			sort.Strings(names)
			msg += " (one of: " + strings.Join(names, ", ") + ")"
		}
		p.Errorf(n, path, "%s", msg)
		return nil
	}
	if t.Module == "add_host" {
		t.RunOnce = true // as Ansible's (BYPASS_HOST_LOOP): once per batch, on its first host
	}
	p.checkLoop(t, n, path)
	p.checkAsync(t, n, path) // async.go
	t.Args = p.moduleArgs(t, t.Args, argsNode, path, yamlnode.JoinPath(path, moduleKey.Value))
	return t
}

// module resolves a non-keyword key to a module name, or reports it.
func (p *parser) module(k *yaml.Node, field string) (string, bool) {
	name := canonicalModule(k.Value)
	if p.modules[name] {
		return name, true
	}
	if p.acceptAny {
		// Without a module list, a near-miss of a keyword is still a typo.
		if s := suggest(k.Value, taskKeys); s == "" {
			return name, true
		}
	}
	if name != k.Value || strings.Contains(k.Value, ".") {
		p.Errorf(k, field, "module %q is not supported by tend%s", k.Value, yamlnode.DidYouMean(name, p.moduleNames))
		return "", false
	}
	p.Errorf(k, field, "unknown module or task keyword %q%s", k.Value, yamlnode.DidYouMean(k.Value, taskKeys, p.moduleNames))
	return "", false
}

// keyword decodes one task keyword into t.
func (p *parser) keyword(t *Task, k, v *yaml.Node, field string, handler bool) {
	switch k.Value {
	case "name":
		t.Name = p.str(v, field)
	case "register":
		t.Register = p.str(v, field)
		if !isIdentifier(t.Register) {
			p.Errorf(v, field, "must be a variable name (letters, digits, _; not starting with a digit), not %s", yamlnode.Describe(v))
		}
	case "when":
		t.When = p.conditions(v, field)
	case "changed_when":
		t.ChangedWhen = p.conditions(v, field)
	case "failed_when":
		t.FailedWhen = p.conditions(v, field)
	case "until":
		t.Until = p.conditions(v, field)
	case "notify":
		t.Notify = p.names(v, field)
		for _, item := range listItems(v) {
			p.notifies = append(p.notifies, notifyRef{yamlnode.Resolve(item), p.File()})
		}
	case "listen":
		if !handler {
			p.Errorf(k, field, "listen is only valid in handlers")
		}
		t.Listen = p.names(v, field)
	case "tags":
		t.Tags = p.names(v, field)
	case "check_mode":
		if b, ok := p.boolKeyword(t, k.Value, v, field); ok { // booltmpl.go
			t.CheckMode = &b
		}
	case "ignore_errors":
		t.IgnoreErrors, _ = p.boolKeyword(t, k.Value, v, field)
	case "no_log":
		t.NoLog, _ = p.boolKeyword(t, k.Value, v, field)
	case "become":
		if b, ok := p.boolKeyword(t, k.Value, v, field); ok {
			t.Become = &b
		}
	case "become_user":
		t.BecomeUser = p.str(v, field)
	case "timeout":
		t.Timeout, _ = p.Duration(v, field)
	case "delay":
		if yamlnode.HasTemplate(v) {
			t.DelayTemplate = v.Value // rendered per host by the runner
		} else if d, ok := p.Duration(v, field); ok {
			if d < 0 {
				p.Errorf(v, field, "must not be negative")
			}
			t.Delay = &d
		}
	case "retries":
		if yamlnode.HasTemplate(v) {
			t.RetriesTemplate = v.Value // rendered per host by the runner
		} else if i, ok := p.Int(v, field, 32); ok {
			if i < 0 {
				p.Errorf(v, field, "must not be negative")
			}
			n := int(i)
			t.Retries = &n
		}
	case "vars":
		t.Vars, t.VarNames = p.vars(v, field)
	case "loop_control":
		p.loopControl(t, v, field)
	case "metrics":
		t.Metrics = p.metrics(v, field)
	case "delegate_to":
		t.DelegateTo = p.str(v, field)
		if strings.TrimSpace(t.DelegateTo) == "" {
			p.Errorf(v, field, "must name a host, not %s", yamlnode.Describe(v))
		}
	case "run_once":
		t.RunOnce, _ = p.boolKeyword(t, k.Value, v, field)
	case "delegate_facts":
		t.DelegateFacts, _ = p.boolKeyword(t, k.Value, v, field)
	case "ignore_unreachable":
		t.IgnoreUnreachable, _ = p.boolKeyword(t, k.Value, v, field)
	case "any_errors_fatal":
		if b, ok := p.boolKeyword(t, k.Value, v, field); ok {
			t.AnyErrorsFatal = &b
		}
	case "remote_user":
		t.RemoteUser = p.userName(v, field)
	case "throttle":
		if yamlnode.HasTemplate(v) {
			t.ThrottleTemplate = v.Value
		} else if i, ok := p.Int(v, field, 32); ok {
			if i < 0 {
				p.Errorf(v, field, "must not be negative")
			}
			t.Throttle = int(i) // 0: no bound, as Ansible's default
		}
	case "collections":
		p.collections(v, field) // moduledefaults.go
	case "async", "poll":
		p.asyncKeyword(t, k, v, field) // async.go
	case "budget":
		t.Budget = p.budget(v, field)
	case "environment":
		t.Environment = p.environment(v, field)
	case "become_method":
		if m := p.str(v, field); m != "sudo" {
			p.Errorf(v, field, "become_method %q is not supported by tend: only sudo", m)
		}
	}
}

// listItems is a list's items, or the node itself when it is a scalar.
func listItems(v *yaml.Node) []*yaml.Node {
	if v.Kind == yaml.SequenceNode {
		return v.Content
	}
	return []*yaml.Node{v}
}
