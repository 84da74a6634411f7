package main

import (
	"tend/runner"
	"tend/runner/savedplan"
)

// recordPlan adapts a saved plan's recorder to the event stream: every
// event goes on to the view, and each task's result of a dry run is
// recorded (a failed or unreachable one only marks its host reached).
type recordPlan struct {
	runner.Observer
	rec *savedplan.Recorder
}

// TaskDone records the result, then passes it on.
func (r recordPlan) TaskDone(e runner.TaskResult) {
	if e.Status == runner.StatusFailed || e.Status == runner.StatusUnreachable {
		r.rec.Reached(e.Host)
	} else {
		r.rec.Add(e.Host, e.Play, e.Task, e.Change)
	}
	r.Observer.TaskDone(e)
}

var _ runner.Observer = recordPlan{}
