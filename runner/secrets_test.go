package runner

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"tend/runner/plan"
	"tend/runner/playbook"
)

const canary = "CANARY-7f3a9c"

// holder is a module's own result type: redacted through its JSON form.
type holder struct {
	Cmdline string `json:"cmdline"`
	PID     int    `json:"pid"`
}

func canaryResult() TaskResult {
	return TaskResult{
		Host: "h1", Task: "use " + canary, Reason: "x", Error: "failed: " + canary,
		Change: plan.Change{
			Action: plan.Update, Summary: "would run: echo " + canary, Msg: canary + "!",
			Warnings: []string{"w " + canary},
			Files:    []plan.FileChange{{Path: "/etc/app.conf", Diff: "-old\n+password=" + canary + "\n"}},
			Values:   []plan.ValueChange{{Key: "k", Before: "a", After: canary}},
			Data: map[string]any{
				"stdout": "pw is " + canary, "rc": 0, "changed": true,
				"stdout_lines": []any{"x", canary},
				"nested":       map[string]any{"deep": []string{canary}},
				"holders":      []holder{{Cmdline: "app --pw=" + canary, PID: 42}},
			},
		},
	}
}

func TestRedactorResult(t *testing.T) {
	r := newRedactor()
	r.collect(&playbook.Play{SecretVars: []string{"db_secret"}}, map[string]any{
		"db_secret": "{{ vault_db }}", "vault_db": canary, // templated: the rendered value is secret
		"ansible_become_password": "sudo-pw-1", "short": "abc", "plain": "not secret",
	})
	orig := canaryResult()
	got := r.result(orig)
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(canary)) {
		t.Errorf("canary left in the redacted result: %s", b)
	}
	if n := strings.Count(string(b), Redacted); n < 10 {
		t.Errorf("only %d redactions in %s", n, b)
	}
	if got.Change.Data["rc"] != 0 || got.Change.Data["changed"] != true || got.Change.Files[0].Path != "/etc/app.conf" {
		t.Errorf("non-secret values changed: %+v", got.Change)
	}
	// The original, shared with registered variables, is untouched.
	if orig.Change.Data["stdout"] != "pw is "+canary || orig.Change.Data["nested"].(map[string]any)["deep"].([]string)[0] != canary {
		t.Errorf("redaction modified the original result")
	}
	if r.str("sudo-pw-1 and abc") != Redacted+" and abc" {
		t.Errorf("become password: %q (values shorter than %d stay)", r.str("sudo-pw-1 and abc"), minSecretLen)
	}
}

func TestRedactorLongestFirst(t *testing.T) {
	r := newRedactor("secret", "secret-extended")
	if got := r.str("a secret-extended b"); got != "a "+Redacted+" b" {
		t.Errorf("got %q: a shorter secret left part of a longer one visible", got)
	}
}

func TestHideNoLog(t *testing.T) {
	res := canaryResult()
	res.Task = "use the secret" // a task's name stays visible, as in Ansible
	hideNoLog(&res)
	b, _ := json.Marshal(res)
	if bytes.Contains(b, []byte(canary)) {
		t.Errorf("no_log result still shows its output: %s", b)
	}
	if res.Change.Summary != NoLogText || res.Error != NoLogText || res.Change.Data["censored"] != NoLogText {
		t.Errorf("no_log markers missing: %+v", res)
	}
	if res.Change.Data["changed"] != true || res.Change.Files[0].Path != "/etc/app.conf" {
		t.Errorf("no_log hid what it should keep: %+v", res.Change)
	}
}

// recordObserver keeps the events it sees.
type recordObserver struct {
	NopObserver
	tasks []TaskResult
	sum   Summary
	stops []HostStop
}

func (o *recordObserver) TaskDone(e TaskResult)  { o.tasks = append(o.tasks, e) }
func (o *recordObserver) RunDone(s Summary)      { o.sum = s }
func (o *recordObserver) HostStopped(e HostStop) { o.stops = append(o.stops, e) }

func TestRedactingObserver(t *testing.T) {
	rec := &recordObserver{}
	obs := newSerialObserver(redactObserver(rec, newRedactor(canary)))
	obs.TaskDone(canaryResult())
	obs.HostStopped(HostStop{Host: "h1", Reason: "stopped at " + canary})
	obs.RunDone(Summary{Hosts: []HostRecap{{Host: "h1", Applied: []string{"t: wrote " + canary}}}})
	b, _ := json.Marshal([]any{rec.tasks, rec.sum, rec.stops})
	if bytes.Contains(b, []byte(canary)) || len(rec.tasks) != 1 || len(rec.stops) != 1 {
		t.Errorf("observer saw the canary or missed events: %s", b)
	}
}
