package runner

import (
	"errors"

	"tend/runner/playbook"
	"tend/runner/template"
)

// loopUndefinedSkip is ansible-core 2.14's TaskExecutor when a loop's
// value names an undefined variable: the error is kept, the task's when
// is evaluated without the loop variable in scope, and a false condition
// skips the task (once, not per item: there are no items); a true one,
// or one that cannot be evaluated (it reads item), raises the loop's
// error. It returns the skip reason and true when the task is skipped.
// Other loop errors (a value that is not a list) are never excused.
func loopUndefinedSkip(t *playbook.Task, vars map[string]any, loopErr error) (string, bool) {
	var ue *template.UndefinedError
	if !errors.As(loopErr, &ue) {
		return "", false
	}
	for _, cond := range t.When {
		ok, err := template.EvalBool(cond, vars)
		if err != nil {
			return "", false
		}
		if !ok {
			return "when: " + cond + " is false", true
		}
	}
	return "", false
}
