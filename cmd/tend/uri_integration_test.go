package main

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tend/internal/lab"
	"tend/runner"
)

// uriPlay checks a health endpoint on the host's own loopback, asserts on
// its JSON, then calls an API that changes something.
const uriPlay = `
- name: broker health
  hosts: all
  tasks:
    - name: health endpoint
      uri:
        url: "http://127.0.0.1:{{ health_port }}/health.json"
      become: true
      register: health
    - name: broker is green
      assert:
        that:
          - health.status == 200
          - health.json.state == "green"
    - name: a server that echoes the password
      uri:
        url: "http://127.0.0.1:{{ health_port }}/echo.txt"
        url_username: tend
        url_password: s3cr3t-pass
        return_content: true
    - name: ask for a restart
      uri:
        url: "http://127.0.0.1:{{ health_port }}/restart"
        method: POST
        body_format: json
        body: {restart: true}
`

// TestURIFromTheHost: uri reaches a server that listens only on the lab
// host's 127.0.0.1 (through the SSH connection, under become too), its
// JSON is registered and asserted on by a later task, a POST is not sent
// in check mode, and a red health fails the assert.
func TestURIFromTheHost(t *testing.T) {
	l := lab.New(t, 1)
	h := l.Hosts[0]
	dir := t.TempDir()
	writeFile(t, dir, "health.json", `{"state": "green"}`)
	writeFile(t, dir, "echo.txt", "token s3cr3t-pass")
	const port = 18161
	srv := h.Start(t, "python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir, strconv.Itoa(port))
	t.Cleanup(func() { srv.Stop() })
	for i := 0; !strings.Contains(srv.Output(), "Serving HTTP"); i++ {
		if i > 200 || srv.Exited() {
			t.Fatalf("http.server did not start: %s", srv.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if nc, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 2*time.Second); err == nil {
		nc.Close()
		t.Skipf("port %d listens on this machine too: the test would prove nothing", port)
	}
	pb := writeFile(t, dir, "play.yml", uriPlay)
	inv := l.WriteInventory(t)
	run := func(args ...string) ([]event, int) {
		base := []string{"run", "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json",
			"--lock-file", filepath.Join(dir, "run.lock"), "-e", "health_port=" + strconv.Itoa(port)}
		stdout, _, code := tendRun(t, append(append(base, args...), pb)...)
		return parseEvents(t, stdout), code
	}

	stdout, _, code := tendRun(t, "run", "-i", inv, "--known-hosts", l.KnownHosts, "--format", "json", "--check",
		"-e", "health_port="+strconv.Itoa(port), pb)
	if code != 0 {
		t.Fatalf("check run: exit %d", code)
	}
	if strings.Contains(stdout, "s3cr3t-pass") {
		t.Errorf("url_password shown in the output")
	}
	events := parseEvents(t, stdout)
	if r := findTask(t, events, h.Name, "a server that echoes the password"); r.Change.Data["content"] != "token "+runner.Redacted {
		t.Errorf("echoed password: %+v", r.Change.Data["content"])
	}
	if r := findTask(t, events, h.Name, "health endpoint"); r.Status != runner.StatusOK || r.Change.Data["status"] != float64(200) {
		t.Errorf("health endpoint: %s %+v", r.Status, r.Change)
	}
	if r := findTask(t, events, h.Name, "broker is green"); r.Status != runner.StatusOK {
		t.Errorf("assert on the registered JSON: %s %s", r.Status, r.Error)
	}
	post := findTask(t, events, h.Name, "ask for a restart")
	if post.Status != runner.StatusSkipped || !strings.HasPrefix(post.Change.Summary, "would send POST http://127.0.0.1:18161/restart") {
		t.Errorf("POST in check mode: %s %q", post.Status, post.Change.Summary)
	}
	if log := srv.Output(); !strings.Contains(log, `"GET /health.json`) || strings.Contains(log, "POST") {
		t.Errorf("server log after the dry run:\n%s", log)
	}

	writeFile(t, dir, "health.json", `{"state": "red"}`)
	events, code = run()
	if code == 0 {
		t.Errorf("a red broker passed")
	}
	if r := findTask(t, events, h.Name, "broker is green"); r.Status != runner.StatusFailed {
		t.Errorf("assert on a red broker: %s", r.Status)
	}
	if strings.Contains(srv.Output(), "POST") {
		t.Errorf("the POST after a failed assert was sent:\n%s", srv.Output())
	}
}
