package oracle

import (
	"fmt"
	"strings"
)

// Difference is a deliberate difference a case declares: in one run, the
// status one task has under ansible-playbook and under tend, and why tend
// differs. The harness checks that the difference is really there (a stale
// declaration fails the case), then compares the rest as if tend had
// reported Ansible's status.
type Difference struct {
	// Run is "check", "apply" or "second-apply".
	Run string
	// Task is the task's name as both tools print it.
	Task string
	// Ansible and Tend are the task's statuses: ok, changed, skipped,
	// failed.
	Ansible, Tend string
	// Reason says why tend differs on purpose; required.
	Reason string
}

// runNames are the runs a Difference can name, as Lab.Run names them.
var runNames = map[string]string{"check": "check", "apply": "apply", "second-apply": "second apply"}

var statuses = map[string]bool{"ok": true, "changed": true, "skipped": true, "failed": true}

// parseDifference reads the arguments of a `differ` directive:
// RUN ANSIBLE-STATUS TEND-STATUS TASK NAME: REASON.
func parseDifference(line string) (Difference, error) {
	fields := strings.Fields(line)
	if len(fields) < 4 {
		return Difference{}, fmt.Errorf("want RUN ANSIBLE-STATUS TEND-STATUS TASK: REASON")
	}
	d := Difference{Run: fields[0], Ansible: fields[1], Tend: fields[2]}
	if runNames[d.Run] == "" {
		return d, fmt.Errorf("run %q: want check, apply or second-apply", d.Run)
	}
	for _, s := range []string{d.Ansible, d.Tend} {
		if !statuses[s] {
			return d, fmt.Errorf("status %q: want ok, changed, skipped or failed", s)
		}
	}
	if d.Ansible == d.Tend {
		return d, fmt.Errorf("the same status %q for both tools is no difference", d.Ansible)
	}
	rest := line
	for _, f := range fields[:3] {
		rest = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), f))
	}
	task, reason, ok := strings.Cut(rest, ": ")
	if !ok || strings.TrimSpace(task) == "" || strings.TrimSpace(reason) == "" {
		return d, fmt.Errorf("want TASK NAME: REASON (a deliberate difference says why)")
	}
	d.Task, d.Reason = strings.TrimSpace(task), strings.TrimSpace(reason)
	return d, nil
}

// reconcile applies the differences declared for run to tend's outcome:
// each must be seen exactly as declared (else it is reported), and is then
// rewritten to Ansible's status, recap included, so that compareOutcomes
// compares everything else.
func reconcile(run string, diffs []Difference, ans Outcome, tnd *Outcome) []string {
	var out []string
	for _, d := range diffs {
		if runNames[d.Run] != run {
			continue
		}
		seen := false
		for i := range tnd.Tasks {
			if tnd.Tasks[i].Task != d.Task || i >= len(ans.Tasks) || ans.Tasks[i].Task != d.Task {
				continue
			}
			if ans.Tasks[i].Status != d.Ansible || tnd.Tasks[i].Status != d.Tend {
				out = append(out, fmt.Sprintf("declared difference not seen: task %q: want ansible %s and tend %s, got ansible %s and tend %s",
					d.Task, d.Ansible, d.Tend, ans.Tasks[i].Status, tnd.Tasks[i].Status))
				seen = true
				continue
			}
			seen = true
			tnd.Tasks[i].Status = d.Ansible
			tnd.Recap.add(d.Tend, -1)
			tnd.Recap.add(d.Ansible, +1)
		}
		if !seen {
			out = append(out, fmt.Sprintf("declared difference not seen: no task %q in both outputs at the same place", d.Task))
		}
	}
	return out
}

// add moves the recap by n tasks of status, in Ansible's terms (a changed
// task is also ok).
func (r *Recap) add(status string, n int) {
	switch status {
	case "ok":
		r.OK += n
	case "changed":
		r.OK += n
		r.Changed += n
	case "skipped":
		r.Skipped += n
	case "failed":
		r.Failed += n
	}
}
