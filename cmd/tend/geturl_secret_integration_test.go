package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"tend/internal/lab"
	"tend/runner"
)

// getURLSecretPlay downloads with a password and a bearer token from a
// server on the host's loopback (python3's http.server ignores both).
const getURLSecretPlay = `
- name: secret download
  hosts: all
  secret_vars: [pw, token]
  vars:
    pw: "%s"
    token: "%s"
  tasks:
    - name: fetch
      get_url:
        url: http://127.0.0.1:18191/payload.txt
        dest: %s
        url_username: deploy
        url_password: "{{ pw }}"
        force_basic_auth: true
        headers:
          Authorization: "Bearer {{ token }}"
        force: true
`

// TestGetURLSecretNotInHostArgv: get_url's password and header values
// reach the host's curl on its stdin: every execve under the host's sshd
// is traced through a dry run and the apply, and neither canary is on any
// command line, although the download happened.
func TestGetURLSecretNotInHostArgv(t *testing.T) {
	if _, err := exec.LookPath("strace"); err != nil {
		t.Fatalf("strace is not installed (apt-get install -y strace, as scripts/test.sh does)")
	}
	l := lab.New(t, 1)
	h := l.Hosts[0]
	dir := t.TempDir()
	www := filepath.Join(dir, "www")
	os.MkdirAll(www, 0o755)
	os.WriteFile(filepath.Join(www, "payload.txt"), []byte("payload\n"), 0o644)
	srv := h.Start(t, "python3", "-m", "http.server", "18191", "--bind", "127.0.0.1", "--directory", www)
	t.Cleanup(func() { srv.Stop() })
	dest := filepath.Join(dir, "payload.txt")
	const pw, token = "pw-canary-5813", "tok-canary-2134"
	pb := writeFile(t, dir, "pb.yml", fmt.Sprintf(getURLSecretPlay, pw, token, dest))
	base := []string{"run", "-i", l.WriteInventory(t), "--known-hosts", l.KnownHosts, "--format", "json"}

	trace := traceExecs(t, h.SSHDPID(), filepath.Join(dir, "strace"))
	var out strings.Builder
	for _, extra := range [][]string{{"--check"}, nil} {
		var stdout, stderr string
		var code int
		// The server may need a moment to listen: the dry run's HEAD retried.
		for i := 0; i < 50; i++ {
			stdout, stderr, code = tendRun(t, append(append(base, extra...), pb)...)
			if code == 0 || extra == nil {
				break
			}
		}
		if code != 0 {
			t.Fatalf("tend %v: exit %d\n%s%s", extra, code, stdout, stderr)
		}
		out.WriteString(stdout + stderr)
		if extra == nil {
			if s := findTask(t, parseEvents(t, stdout), "h1", "fetch").Status; s != runner.StatusChanged {
				t.Fatalf("fetch: %s, want changed", s)
			}
		}
	}
	execs := trace()
	if b, err := os.ReadFile(dest); err != nil || string(b) != "payload\n" {
		t.Fatalf("dest holds %q (%v): the download did not happen", b, err)
	}
	if !strings.Contains(execs, "curl") {
		t.Fatalf("no curl in the trace: it saw nothing of the download")
	}
	for _, canary := range []string{pw, token} {
		if strings.Contains(out.String(), canary) {
			t.Errorf("%s is in tend's output", canary)
		}
		for _, line := range strings.Split(execs, "\n") {
			if strings.Contains(line, canary) {
				t.Errorf("%s is on a command line on the host: %.400s", canary, line)
			}
		}
	}
}
