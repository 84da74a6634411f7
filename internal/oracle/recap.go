package oracle

import (
	"bufio"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Recap is one host's accounting of a run, in Ansible's terms: OK counts
// every task that ran without failing, changed ones included (as Ansible's
// PLAY RECAP does).
type Recap struct {
	OK, Changed, Unreachable, Failed, Skipped, Rescued, Ignored int
}

// String prints the recap as Ansible's PLAY RECAP line does.
func (r Recap) String() string {
	return fmt.Sprintf("ok=%d changed=%d unreachable=%d failed=%d skipped=%d rescued=%d ignored=%d",
		r.OK, r.Changed, r.Unreachable, r.Failed, r.Skipped, r.Rescued, r.Ignored)
}

// TaskResult is one task's outcome on the host: ok, changed, failed,
// skipped or unreachable; Ignored when ignore_errors kept a failure from
// failing the host.
type TaskResult struct {
	Task    string
	Status  string
	Ignored bool
}

// String is "task: status".
func (r TaskResult) String() string {
	s := r.Task + ": " + r.Status
	if r.Ignored {
		s += " (ignored)"
	}
	return s
}

// Outcome is what one tool reported for the host.
type Outcome struct {
	Recap Recap
	Tasks []TaskResult
}

var (
	recapLine = regexp.MustCompile(`^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)`)
	taskLine  = regexp.MustCompile(`^(TASK|RUNNING HANDLER) \[(.*)\] \**$`)
	hostLine  = regexp.MustCompile(`^(ok|changed|skipping|fatal|failed|unreachable): \[([^\]\s]+)(?: -> [^\]]+)?\]`) // "[h1 -> h2]": delegated
	// includedLine is an include_tasks that ran (for one item of a looped
	// one: "=> (item=...)"): counted ok by Ansible.
	includedLine = regexp.MustCompile(`^included: .* for (.+?)(?: => \(item=.*\))?$`)
	// rolePrefix is the "ROLE : " before a role's task names.
	rolePrefix = regexp.MustCompile(`^[^ \]]+ : `)
)

// ParseAnsible reads ansible-playbook's default (text) output: each task's
// status for host from the "TASK [name]" sections, and the PLAY RECAP line.
func ParseAnsible(out, host string) (Outcome, error) {
	var o Outcome
	task, haveRecap := "", false
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := taskLine.FindStringSubmatch(line); m != nil {
			// tend names a role's task without its role.
			task = rolePrefix.ReplaceAllString(m[2], "")
			continue
		}
		if m := includedLine.FindStringSubmatch(line); m != nil && task != "" &&
			slices.Contains(strings.Split(m[1], ", "), host) {
			o.Tasks = append(o.Tasks, TaskResult{Task: task, Status: "ok"})
			continue
		}
		if m := hostLine.FindStringSubmatch(line); m != nil && m[2] == host && task != "" {
			st := map[string]string{"ok": "ok", "changed": "changed", "skipping": "skipped",
				"fatal": "failed", "failed": "failed", "unreachable": "unreachable"}[m[1]]
			o.Tasks = append(o.Tasks, TaskResult{Task: task, Status: st})
			continue
		}
		if line == "...ignoring" && len(o.Tasks) > 0 {
			o.Tasks[len(o.Tasks)-1].Ignored = true
			continue
		}
		if m := recapLine.FindStringSubmatch(line); m != nil && m[1] == host {
			n := make([]int, 7)
			for i := range n {
				n[i], _ = strconv.Atoi(m[i+2])
			}
			o.Recap = Recap{OK: n[0], Changed: n[1], Unreachable: n[2], Failed: n[3], Skipped: n[4], Rescued: n[5], Ignored: n[6]}
			haveRecap = true
		}
	}
	if !haveRecap {
		return o, fmt.Errorf("oracle: no PLAY RECAP line for %s in ansible-playbook's output", host)
	}
	return o, nil
}

// tendEvent is the part of tend's JSON events the harness reads.
type tendEvent struct {
	Event string `json:"event"`
	Data  struct {
		Host    string `json:"host"`
		Task    string `json:"task"`
		Phase   string `json:"phase"`
		Status  string `json:"status"`
		Ignored bool   `json:"ignored"`
		Changed bool   `json:"changed"` // on a failed result: it changed all the same
		Item    string `json:"item"`    // set on one item's result of a loop
		// Loop is set on a loop's closing event, which sums its items;
		// Ansible prints the items only.
		Loop json.RawMessage `json:"loop"`
		// Hosts is the summary's per-host recap (other events have a
		// list of names under the same key).
		Hosts json.RawMessage `json:"hosts"`
	} `json:"data"`
}

// tendHostRecap is one host's line of tend's summary event.
type tendHostRecap []struct {
	Host        string `json:"host"`
	OK          int    `json:"ok"`
	Changed     int    `json:"changed"`
	Failed      int    `json:"failed"`
	Skipped     int    `json:"skipped"`
	Unreachable int    `json:"unreachable"`
	Ignored     int    `json:"ignored"`
	Rescued     int    `json:"rescued"`
}

// ParseTend reads `tend run --format json` output: the task events of host
// and its line of the summary event, in Ansible's terms.
func ParseTend(out, host string) (Outcome, error) {
	var o Outcome
	var after Recap // what tend's own phases after the tasks added
	// ignored failures that changed: tend counts them changed and ignored,
	// Ansible in ok, changed and ignored (see the summary below)
	ignoredChanged := 0
	haveSummary := false
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev tendEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			return o, fmt.Errorf("oracle: tend output line %d: %v: %q", i+1, err, line)
		}
		switch ev.Event {
		case "task":
			if ev.Data.Host == host && ev.Data.Item == "" && ev.Data.Phase != "recheck" && ev.Data.Phase != "verify" && ev.Data.Status == "failed" && ev.Data.Ignored && ev.Data.Changed {
				ignoredChanged++
			}
			if ev.Data.Host != host || len(ev.Data.Loop) > 0 {
				continue
			}
			if ev.Data.Phase == "recheck" || ev.Data.Phase == "verify" {
				// Deliberate difference: after apply tend re-checks every
				// verifiable module that changed something, and runs the
				// play's verify: tasks (a tend extension); Ansible has
				// neither. Those results are left out of the comparison
				// (a failing recheck still fails the host: see Failed).
				switch ev.Data.Status {
				case "ok":
					after.OK++
				case "skipped":
					after.Skipped++
				}
				continue
			}
			o.Tasks = append(o.Tasks, TaskResult{Task: ev.Data.Task, Status: ev.Data.Status, Ignored: ev.Data.Ignored})
		case "summary":
			var hosts tendHostRecap
			if err := json.Unmarshal(ev.Data.Hosts, &hosts); err != nil {
				return o, fmt.Errorf("oracle: tend summary: %v", err)
			}
			for _, h := range hosts {
				if h.Host != host {
					continue
				}
				haveSummary = true
				// Deliberate difference: tend's ok excludes changed tasks
				// (and ignored ones); Ansible's ok counts them all, an
				// ignored failure that changed once.
				o.Recap = Recap{OK: h.OK + h.Changed + h.Ignored - ignoredChanged - after.OK, Changed: h.Changed, Unreachable: h.Unreachable,
					Failed: h.Failed, Skipped: h.Skipped - after.Skipped, Rescued: h.Rescued, Ignored: h.Ignored}
			}
		}
	}
	if !haveSummary {
		return o, fmt.Errorf("oracle: no summary for %s in tend's output", host)
	}
	return o, nil
}
