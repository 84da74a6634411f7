package runner

import (
	"errors"

	"tend/runner/modules"
	"tend/runner/playbook"
	"tend/runner/template"
)

// errAsyncCheck is Ansible 2.14's failure of an async task in check mode
// (plugins/action/__init__.py): it neither predicts nor runs it.
var errAsyncCheck = errors.New("check mode and async cannot be used on same task.")

// asyncModule wraps mod for t's async: and poll: (modules/async.go),
// rendered with the host's variables; dry is whether the task runs in
// check mode, where an async task fails as in Ansible.
func (hp *hostPlay) asyncModule(t *playbook.Task, vars map[string]any, mod modules.Module, dry bool) (modules.Module, error) {
	limit, err := hp.renderCount(t, "async", t.Async) // until_pace.go
	if err != nil || limit == 0 {
		return mod, err
	}
	poll := playbook.DefaultPoll
	if t.Poll != "" {
		if poll, err = hp.renderCount(t, "poll", t.Poll); err != nil {
			return nil, err
		}
	}
	if dry {
		return nil, errAsyncCheck
	}
	return modules.Async(mod, modules.AsyncOptions{Limit: limit, Poll: poll,
		Dir: modules.AsyncDir(modules.Args{Eval: func(e string) (any, error) { return template.Eval(e, vars) }})})
}
