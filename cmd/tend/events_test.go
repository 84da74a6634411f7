package main

import (
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"tend/runner"
)

type event struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// parseEvents decodes JSON lines output; every line must be an event.
func parseEvents(t *testing.T, stdout string) []event {
	t.Helper()
	var out []event
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var e event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("stdout line is not a JSON event: %q: %v", line, err)
		}
		out = append(out, e)
	}
	if len(out) == 0 || out[len(out)-1].Event != "summary" {
		t.Fatalf("last event is not the summary")
	}
	return out
}

// findTask returns the result of task on host.
func findTask(t *testing.T, events []event, host, task string) runner.TaskResult {
	t.Helper()
	for _, e := range events {
		if e.Event != "task" {
			continue
		}
		var r runner.TaskResult
		if err := json.Unmarshal(e.Data, &r); err != nil {
			t.Fatal(err)
		}
		if r.Host == host && r.Task == task {
			return r
		}
	}
	t.Fatalf("no result for task %q on %s", task, host)
	return runner.TaskResult{}
}

// fingerprint returns the SHA256 fingerprint of an authorized_keys-format key.
func fingerprint(t *testing.T, pub string) string {
	t.Helper()
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pub))
	if err != nil {
		t.Fatalf("parse host key %q: %v", pub, err)
	}
	return ssh.FingerprintSHA256(k)
}
