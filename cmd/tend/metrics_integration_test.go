package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// metricsPlay exposes a command's output as a gauge per host; fail=true
// makes every host fail after the value was exposed.
const metricsPlay = `
- name: expose
  hosts: all
  gather_facts: false
  tasks:
    - name: answer
      command: echo 42
      register: out
      metrics:
        'tend_test_answer{kind="{{ kind }}"}': out.stdout
    - name: maybe fail
      command: "{{ 'false' if fail | bool else 'true' }}"
      changed_when: false
  vars:
    kind: deep
    fail: false
  metrics:
    tend_test_done: 1
`

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// daemon starts a Debian Prometheus program listening on addr and waits
// until url answers; it is killed (by its PID) when the test ends.
func daemon(t *testing.T, url string, name string, args ...string) {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not installed (scripts/test.sh installs it): %v", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered on %s", name, url)
		}
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sample finds the value of the series whose line matches re (labels in
// Prometheus's sorted order), or fails.
func sample(t *testing.T, where, text, re string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + re + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("%s: no series matching %s in:\n%s", where, re, text)
	}
	return m[1]
}

// TestMetricsExport runs a playbook over the local connection with
// --metrics-file and --metrics-push: Debian's node_exporter serves the
// file through its textfile collector, promtool accepts it, the
// Pushgateway holds the push; a failed run after it keeps the last
// success time in both.
func TestMetricsExport(t *testing.T) {
	dir := t.TempDir()
	textDir := filepath.Join(dir, "textfile")
	if err := os.Mkdir(textDir, 0o755); err != nil {
		t.Fatal(err)
	}
	nePort, pgPort := freePort(t), freePort(t)
	neURL, pgURL := "http://127.0.0.1:"+nePort, "http://127.0.0.1:"+pgPort
	daemon(t, neURL+"/metrics", "prometheus-node-exporter", "--web.listen-address=127.0.0.1:"+nePort,
		"--collector.disable-defaults", "--collector.textfile", "--collector.textfile.directory="+textDir)
	daemon(t, pgURL+"/metrics", "prometheus-pushgateway", "--web.listen-address=127.0.0.1:"+pgPort,
		"--persistence.file="+filepath.Join(dir, "pushgateway.data"))

	inv := localInventory(t, dir, "a", "b")
	pb := writeFile(t, dir, "expose.yml", metricsPlay)
	prom := filepath.Join(textDir, "tend.prom")
	run := func(extra ...string) int {
		args := append([]string{"-i", inv, "--metrics-file", prom, "--metrics-push", pgURL}, extra...)
		_, _, code := runLocked(t, append(args, pb)...)
		return code
	}

	if code := run(); code != 0 {
		t.Fatalf("first run: exit %d, want 0", code)
	}
	promtool := exec.Command("promtool", "check", "metrics") // it reads stdin only
	f, err := os.Open(prom)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	promtool.Stdin = f
	if out, err := promtool.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics %s: %v\n%s", prom, err, out)
	}
	ne := scrape(t, neURL+"/metrics")
	if v := sample(t, "node_exporter", ne, `node_textfile_scrape_error`); v != "0" {
		t.Errorf("node_textfile_scrape_error %s, want 0", v)
	}
	for _, h := range []string{"a", "b"} {
		if v := sample(t, "node_exporter", ne, `tend_test_answer\{host="`+h+`",kind="deep",playbook="expose"\}`); v != "42" {
			t.Errorf("tend_test_answer on %s = %s, want 42", h, v)
		}
		if v := sample(t, "node_exporter", ne, `tend_test_done\{host="`+h+`",playbook="expose"\}`); v != "1" {
			t.Errorf("the play's tend_test_done on %s = %s, want 1", h, v)
		}
		if v := sample(t, "node_exporter", ne, `tend_host_changed\{host="`+h+`",playbook="expose"\}`); v != "1" {
			t.Errorf("tend_host_changed on %s = %s, want 1", h, v)
		}
	}
	if v := sample(t, "node_exporter", ne, `tend_run_hosts\{outcome="changed",playbook="expose"\}`); v != "2" {
		t.Errorf("tend_run_hosts changed = %s, want 2", v)
	}
	success := sample(t, "node_exporter", ne, `tend_run_last_success_timestamp_seconds\{playbook="expose"\}`)
	pg := scrape(t, pgURL+"/metrics")
	pgSuccess := sample(t, "pushgateway", pg, `tend_run_last_success_timestamp_seconds\{instance="",job="tend",playbook="expose"\}`)
	if v := sample(t, "pushgateway", pg, `tend_test_answer\{host="a",instance="",job="tend",kind="deep",playbook="expose"\}`); v != "42" {
		t.Errorf("pushed tend_test_answer on a = %s, want 42", v)
	}

	// A failed run: its outcome is exported, the last success time kept.
	if code := run("-e", "fail=true"); code != exitFailed {
		t.Fatalf("failing run: exit %d, want %d", code, exitFailed)
	}
	ne = scrape(t, neURL+"/metrics")
	if v := sample(t, "node_exporter", ne, `tend_run_hosts\{outcome="failed",playbook="expose"\}`); v != "2" {
		t.Errorf("after a failed run, tend_run_hosts failed = %s, want 2", v)
	}
	if v := sample(t, "node_exporter", ne, `tend_run_last_success_timestamp_seconds\{playbook="expose"\}`); v != success {
		t.Errorf("a failed run moved the file's last success from %s to %s", success, v)
	}
	pg = scrape(t, pgURL+"/metrics")
	if v := sample(t, "pushgateway", pg, `tend_run_hosts\{instance="",job="tend",outcome="failed",playbook="expose"\}`); v != "2" {
		t.Errorf("pushed tend_run_hosts failed = %s, want 2", v)
	}
	if v := sample(t, "pushgateway", pg, `tend_run_last_success_timestamp_seconds\{instance="",job="tend",playbook="expose"\}`); v != pgSuccess {
		t.Errorf("a failed run moved the gateway's last success from %s to %s", pgSuccess, v)
	}
}

// TestMetricsNotWritten is faults.md row 50: the metrics file's directory
// missing and the Pushgateway down leave the run's result and exit code
// as they are; warnings say the metrics were not written nor pushed.
func TestMetricsNotWritten(t *testing.T) {
	dir := t.TempDir()
	inv := localInventory(t, dir, "a")
	pb := writeFile(t, dir, "expose.yml", metricsPlay)
	for _, tc := range []struct {
		fail string
		code int
	}{{"false", 0}, {"true", exitFailed}} {
		_, stderr, code := runLocked(t, "-i", inv, "-e", "fail="+tc.fail, "--metrics-file", filepath.Join(dir, "missing", "tend.prom"),
			"--metrics-push", "http://127.0.0.1:"+freePort(t), pb)
		if code != tc.code {
			t.Errorf("fail=%s: exit %d, want %d", tc.fail, code, tc.code)
		}
		for _, want := range []string{"metrics were not written", "metrics were not pushed"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("fail=%s: stderr lacks %q", tc.fail, want)
			}
		}
	}
	// Under --format json the warnings are events, before the summary,
	// which stays last.
	stdout, _, code := runLocked(t, "-i", inv, "--format", "json", "--metrics-file", filepath.Join(dir, "missing", "tend.prom"), pb)
	if code != 0 {
		t.Errorf("json: exit %d, want 0", code)
	}
	events := parseEvents(t, stdout)
	warned := false
	for i, e := range events {
		if e.Event == "warning" && strings.Contains(string(e.Data), "metrics were not written") {
			warned = true
		}
		if e.Event == "summary" && i != len(events)-1 {
			t.Errorf("summary is event %d of %d, not the last", i+1, len(events))
		}
	}
	if !warned || events[len(events)-1].Event != "summary" {
		t.Errorf("want a warning event saying metrics were not written, then the summary; got %+v", events)
	}
}

// checkMQMetrics checks the shipped runbook's CLOSE_WAIT counts in a
// metrics file: per host, before and after the remediation.
func checkMQMetrics(t *testing.T, prom string, want map[string][2]string) {
	t.Helper()
	b, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	for host, w := range want {
		for i, phase := range []string{"before", "after"} {
			re := `tend_mq_closewait_sockets\{host="` + regexp.QuoteMeta(host) + `",phase="` + phase + `",playbook="mq-closewait",port="61616"\}`
			if got := sample(t, prom, string(b), re); got != w[i] {
				t.Errorf("%s: CLOSE_WAIT %s = %s, want %s", host, phase, got, w[i])
			}
		}
	}
}
