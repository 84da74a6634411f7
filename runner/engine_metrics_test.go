package runner

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"tend/internal/memhost"
	"tend/runner/transport"
)

// TestEngineMetrics: a task's metrics: are evaluated on each host after
// it ran (a play's when the host finished the play), with its registered result and the host's variables; a skipped
// task exposes nothing, and a value that is not a number is a warning
// that leaves the host's outcome alone.
func TestEngineMetrics(t *testing.T) {
	f := newFleet("h1", "h2")
	f.handle(memhost.Argv("count"), func(_ context.Context, h *memhost.Host, _ transport.Command) (transport.Result, error) {
		return memhost.OK(map[string]string{"h1": "7\n", "h2": "12\n"}[h.Name()]), nil
	})
	sum, rec := runOn(t, f, `
- hosts: all
  gather_facts: false
  vars:
    port: 61616
  metrics:
    tend_play: out.rc + 5
  tasks:
    - name: count
      command: count
      register: out
      changed_when: false
      metrics:
        'tend_x{port="{{ port }}",phase="before"}': out.stdout
        tend_rc: "{{ out.rc }}"
        tend_ok: out.rc == 0
    - name: skipped
      command: count
      when: false
      metrics:
        tend_never: 1
    - name: loop
      command: count
      loop: [a, b, c]
      changed_when: false
      register: many
      metrics:
        tend_items: many.results | length
    - name: not a number
      command: count
      changed_when: false
      metrics:
        tend_word: inventory_hostname
`, Options{})
	if len(sum.Failed) != 0 {
		t.Fatalf("failed: %v", sum.Failed)
	}
	for host, n := range map[string]float64{"h1": 7, "h2": 12} {
		got := rec.result(t, host, "count", PhaseTask).Metrics
		want := []MetricValue{
			{Name: "tend_x", Labels: map[string]string{"port": "61616", "phase": "before"}, Value: n},
			{Name: "tend_rc", Value: 0},
			{Name: "tend_ok", Value: 1},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: metrics\n got %+v\nwant %+v", host, got, want)
		}
		var play []MetricValue
		for _, e := range rec.dones {
			if e.Host == host {
				play = e.Metrics
			}
		}
		if want := []MetricValue{{Name: "tend_play", Value: 5}}; !reflect.DeepEqual(play, want) {
			t.Errorf("%s: play metrics %+v, want %+v", host, play, want)
		}
		var loop []MetricValue
		for _, e := range rec.results {
			if e.Host == host && e.Task == "loop" && e.Loop != nil {
				loop = e.Metrics
			}
		}
		if want := []MetricValue{{Name: "tend_items", Value: 3}}; !reflect.DeepEqual(loop, want) {
			t.Errorf("%s: loop metrics %+v, want %+v", host, loop, want)
		}
		if m := rec.result(t, host, "skipped", PhaseTask).Metrics; m != nil {
			t.Errorf("%s: a skipped task exposed %+v", host, m)
		}
		if m := rec.result(t, host, "not a number", PhaseTask).Metrics; m != nil {
			t.Errorf("%s: a word was exposed as %+v", host, m)
		}
		w := rec.warnings(host, "not a number")
		if len(w) != 1 || !strings.Contains(w[0], "metric tend_word not exposed") || !strings.Contains(w[0], "not a number") {
			t.Errorf("%s: warnings %q, want one saying tend_word was not exposed", host, w)
		}
	}
}

// TestEnginePlayMetricsFailedHost: a host that failed the play exposes
// none of the play's metrics.
func TestEnginePlayMetricsFailedHost(t *testing.T) {
	f := newFleet("h1")
	f.handle(memhost.Argv("count"), exits(1))
	sum, rec := runOn(t, f, `
- hosts: all
  gather_facts: false
  metrics:
    tend_play: 1
  tasks:
    - command: count
`, Options{})
	if len(sum.Failed) != 1 {
		t.Fatalf("failed %v, want h1", sum.Failed)
	}
	for _, e := range rec.dones {
		if e.Metrics != nil {
			t.Errorf("failed host %s exposed %+v", e.Host, e.Metrics)
		}
	}
}

// TestEngineMetricsRedacted: a secret (secret_vars) never reaches a
// metric's label nor the warning about a value that is not a number.
func TestEngineMetricsRedacted(t *testing.T) {
	const canary = "s3cr3t-canary-4412"
	f := newFleet("h1")
	f.handle(memhost.Argv("count"), exits(0))
	_, rec := runOn(t, f, `
- hosts: all
  gather_facts: false
  secret_vars: [token]
  vars:
    token: "`+canary+`"
  tasks:
    - name: count
      command: count
      changed_when: false
      metrics:
        'tend_a{who="{{ token }}"}': 1
        tend_b: token
`, Options{})
	got := rec.result(t, "h1", "count", PhaseTask).Metrics
	if len(got) != 1 || got[0].Labels["who"] != Redacted {
		t.Errorf("metrics %+v, want tend_a with who=%s", got, Redacted)
	}
	w := rec.warnings("h1", "count")
	if len(w) != 1 || strings.Contains(w[0], canary) || !strings.Contains(w[0], Redacted) {
		t.Errorf("warnings %q, want one with the secret redacted", w)
	}
}
