package playbook

import (
	"strconv"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// DefaultPoll is how often, in seconds, an async task whose poll is not
// given is polled: Ansible's DEFAULT_POLL_INTERVAL.
const DefaultPoll = 15

// asyncDetached are the modules whose async job tend runs detached on the
// host (poll: 0 too): their whole work is one program.
var asyncDetached = map[string]bool{"command": true, "shell": true}

// asyncRefused are the modules that cannot run async, with the reason:
// Ansible's action plugins refuse them ("async is not supported for this
// task"), or tend cannot keep its promise for them.
var asyncRefused = map[string]string{
	"debug": "it runs on the controller", "set_fact": "it runs on the controller",
	"assert": "it runs on the controller", "fail": "it runs on the controller",
	"pause": "it runs on the controller", "meta": "it runs on the controller",
	"add_host": "it runs on the controller", "group_by": "it runs on the controller",
	"include_vars": "it runs on the controller", "include_tasks": "it is an include",
	"include_role": "it is an include", "copy": "Ansible's copy does not support it",
	"template":            "Ansible's template does not support it",
	"async_status":        "it reads an async job itself",
	"wait_for_connection": "it waits on the connection itself",
	"reboot":              "it drops and re-opens the connection itself",
	"fetch":               "Ansible's fetch does not support it",
	"unarchive":           "Ansible's unarchive does not support it",
}

// unsupportedWhy says why tend lacks a task keyword, where it helps.
var unsupportedWhy = map[string]string{
	"debugger": ": it stops the run at a Python debugger prompt; tend runs unattended (remove it, or run -v to see each result)",
}

// asyncKeyword reads async: or poll: (a whole number of seconds >= 0, or
// a template rendered per host) into t.
func (p *parser) asyncKeyword(t *Task, k, v *yaml.Node, field string) {
	val := ""
	if yamlnode.HasTemplate(v) {
		val = v.Value
	} else if i, ok := p.Int(v, field, 32); ok {
		if i < 0 {
			p.Errorf(v, field, "must not be negative")
		}
		val = strconv.FormatInt(i, 10)
	}
	if k.Value == "async" {
		t.Async = val
	} else {
		t.Poll = val
	}
}

// checkAsync refuses async on a module that cannot run so, and poll: 0
// (fire and forget) on one tend cannot detach from the controller.
func (p *parser) checkAsync(t *Task, n *yaml.Node, path string) {
	if t.Async == "" || t.Async == "0" {
		t.Async, t.Poll = "", "" // async: 0 is a normal task, as in Ansible
		return
	}
	kn := keyNode(n, "async")
	if why, ok := asyncRefused[t.Module]; ok {
		p.Errorf(kn, yamlnode.JoinPath(path, "async"), "%s cannot run async (%s); async is for command, shell and modules that act on the host", t.Module, why)
		return
	}
	if t.Poll == "0" && !asyncDetached[t.Module] {
		p.Errorf(keyNode(n, "poll"), yamlnode.JoinPath(path, "poll"),
			"poll: 0 (fire and forget) is supported for command and shell only: tend runs %s from the controller, so it cannot leave it running on the host", t.Module)
	}
	if t.Loop != nil {
		p.Errorf(kn, yamlnode.JoinPath(path, "async"), "async on a looped task is not supported by tend")
	}
}

// keyNode is the value node of key in mapping n, or n itself.
func keyNode(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if yamlnode.Resolve(n.Content[i]).Value == key {
			return yamlnode.Resolve(n.Content[i+1])
		}
	}
	return n
}
