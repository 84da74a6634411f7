package runner

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"tend/internal/memhost"
	"tend/runner/transport"
)

// items returns host's item results of task, in order.
func (r *recorder) items(host, task string) []TaskResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []TaskResult
	for _, e := range r.results {
		if e.Host == host && e.Task == task && e.Item != "" && e.Phase == PhaseTask {
			out = append(out, e)
		}
	}
	return out
}

// loopResult returns host's one task result (not an item's) of task.
func (r *recorder) loopResult(t *testing.T, host, task string) TaskResult {
	t.Helper()
	var found []TaskResult
	for _, e := range r.results {
		if e.Host == host && e.Task == task && e.Item == "" && e.Phase == PhaseTask {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d task results of %q, want 1: %+v", len(found), task, found)
	}
	return found[0]
}

// TestEngineLoop: each item runs as the task alone would (when per item,
// the item in scope), is reported with its label, and the task counts
// once in the recap with Ansible's status; registered, the results list
// every item; notify fires once if any item changed.
func TestEngineLoop(t *testing.T) {
	const src = `
- hosts: all
  vars:
    files: [a, b, c, d]
  tasks:
    - name: write
      memfile: {path: "/etc/{{ item }}", content: "{{ item }}!"}
      loop: "{{ files }}"
      when: item != 'd'
      register: w
      notify: reload
    - name: report
      memfile:
        path: /out
        content: "{{ w.results | length }} {{ w.changed | ternary('C', '-') }} {{ w.results[0].item }} {{ w.results[3].skipped | ternary('S', '-') }} {{ w.results[1].changed | ternary('C', '-') }} {{ w.msg }}"
  handlers:
    - name: reload
      memfile: {path: /reloaded, content: "yes"}
`
	f := newFleet("h1")
	f.hosts["h1"].SetFile("/etc/b", []byte("b!"))
	sum, rec := runOn(t, f, src, Options{})
	h := f.hosts["h1"]
	for _, n := range []string{"a", "b", "c"} {
		if got, _ := h.File("/etc/" + n); string(got) != n+"!" {
			t.Errorf("/etc/%s = %q", n, got)
		}
	}
	if _, ok := h.File("/etc/d"); ok {
		t.Errorf("/etc/d written though when: was false for it")
	}
	if got, _ := h.File("/out"); string(got) != "4 C a S - All items completed" {
		t.Errorf("registered results rendered %q", got)
	}
	if got, _ := h.File("/reloaded"); string(got) != "yes" {
		t.Errorf("handler not run: %q", got)
	}
	var statuses []string
	for _, e := range rec.items("h1", "write") {
		statuses = append(statuses, e.Item+"="+string(e.Status))
	}
	if got := strings.Join(statuses, " "); got != "a=changed b=ok c=changed d=skipped" {
		t.Errorf("item results %s", got)
	}
	res := rec.loopResult(t, "h1", "write")
	if res.Status != StatusChanged || *res.Loop != (LoopCounts{Items: 4, OK: 1, Changed: 2, Skipped: 1}) {
		t.Errorf("loop result %s %+v", res.Status, res.Loop)
	}
	rc := sum.Hosts[0]
	if rc.Changed != 3 || rc.Skipped != 0 { // write, report, the handler
		t.Errorf("recap %+v, want changed=3 (the loop once)", rc)
	}
	if len(rc.Applied) != 4 || !strings.HasPrefix(rc.Applied[0], "write (item=a): ") {
		t.Errorf("applied %q, want each changed item then report and the handler", rc.Applied)
	}
}

// TestEngineLoopStatus: Ansible's rules for the loop task's own status.
func TestEngineLoopStatus(t *testing.T) {
	for _, tc := range []struct {
		name, loop, when string
		fail             []string
		want             Status
		recapFailed      int
	}{
		{"one item fails, the rest still run", "[x, y, z]", "true", []string{"y"}, StatusFailed, 1},
		{"all skipped", "[x, y]", "false", nil, StatusSkipped, 0},
		{"no items", "[]", "true", nil, StatusSkipped, 0},
		{"all ok", "[x, y]", "true", nil, StatusOK, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := fmt.Sprintf(`
- hosts: all
  tasks:
    - name: probe
      command: "probe {{ item }}"
      check_mode: false
      changed_when: false
      loop: %s
      when: %s
      register: p
    - name: after
      memfile: {path: /after, content: "{{ p.results | length }}"}
`, tc.loop, tc.when)
			f := newFleet("h1")
			h := f.hosts["h1"]
			for _, it := range []string{"x", "y", "z"} {
				code := 0
				for _, b := range tc.fail {
					if b == it {
						code = 1
					}
				}
				h.Handle(memhost.Argv("probe", it), exits(code))
			}
			sum, rec := runOn(t, f, src, Options{})
			res := rec.loopResult(t, "h1", "probe")
			if res.Status != tc.want {
				t.Errorf("status %s, want %s (%s)", res.Status, tc.want, res.Error)
			}
			if sum.Hosts[0].Failed != tc.recapFailed {
				t.Errorf("recap %+v", sum.Hosts[0])
			}
			if tc.recapFailed > 0 {
				if h.Ran(memhost.Argv("probe", "z")) != 1 {
					t.Errorf("the item after the failed one did not run")
				}
				if rec.ran("h1", "after") {
					t.Errorf("the host went on after a failed loop")
				}
				if !strings.Contains(res.Error, "1 of 3 items failed") {
					t.Errorf("error %q", res.Error)
				}
			}
		})
	}
}

// TestEngineLoopControl: loop_var, index_var, label, extended; until per
// item sees the item's result under the register name.
func TestEngineLoopControl(t *testing.T) {
	const src = `
- hosts: all
  tasks:
    - name: write
      memfile: {path: "/etc/{{ s.key }}", content: "{{ i }}/{{ ansible_loop.length }}/{{ ansible_loop.first | ternary('F', '-') }}/{{ s.value }}"}
      loop: "{{ {'k1': 'v1', 'k2': 'v2'} | dict2items }}"
      loop_control:
        loop_var: s
        index_var: i
        label: "{{ s.key }}"
        extended: true
    - name: wait
      command: "probe {{ item }}"
      check_mode: false
      with_items: [x]
      register: r
      until: r.rc == 0
      retries: 3
      delay: 0
    - name: registered at the end
      memfile: {path: "/seen{{ item }}", content: "x"}
      loop: [1, 2]
      when: seen is not defined
      register: seen
`
	f := newFleet("h1")
	h := f.hosts["h1"]
	calls := 0
	h.Handle(memhost.Argv("probe", "x"), func(context.Context, *memhost.Host, transport.Command) (transport.Result, error) {
		calls++
		if calls < 3 {
			return memhost.Exit(1, "not yet"), nil
		}
		return memhost.OK("ok"), nil
	})
	_, rec := runOn(t, f, src, Options{})
	if got, _ := h.File("/etc/k2"); string(got) != "1/2/-/v2" {
		t.Errorf("/etc/k2 = %q", got)
	}
	var labels []string
	for _, e := range rec.items("h1", "write") {
		labels = append(labels, e.Item)
	}
	if strings.Join(labels, ",") != "k1,k2" {
		t.Errorf("labels %q", labels)
	}
	if _, ok := h.File("/seen2"); !ok {
		t.Errorf("the second item saw the first's result under the register name; Ansible registers at the loop's end")
	}
	items := rec.items("h1", "wait")
	if len(items) != 1 || items[0].Attempts != 3 || items[0].Status != StatusChanged {
		t.Errorf("until per item: %+v", items)
	}
}

// TestEngineLoopBounded: a loop of 1,000 items whose output is large
// registers 1,000 results, each output capped.
func TestEngineLoopBounded(t *testing.T) {
	const src = `
- hosts: all
  tasks:
    - name: big
      command: "big {{ item }}"
      check_mode: false
      loop: "{{ range(1000) | list }}"
      register: b
    - name: count
      memfile: {path: /n, content: "{{ b.results | length }} {{ (b.results[999].stdout | length < 20000) | ternary('capped', 'whole') }}"}
`
	f := newFleet("h1")
	out := strings.Repeat("x", 100_000)
	f.hosts["h1"].Handle(memhost.Argv("big"), func(context.Context, *memhost.Host, transport.Command) (transport.Result, error) {
		return memhost.OK(out), nil
	})
	_, rec := runOn(t, f, src, Options{})
	if got, _ := f.hosts["h1"].File("/n"); string(got) != "1000 capped" {
		t.Errorf("/n = %q", got)
	}
	for _, e := range rec.items("h1", "big") {
		if s, _ := e.Change.Data["stdout"].(string); len(s) > maxItemOutput+100 {
			t.Fatalf("item event output %d bytes, not capped", len(s))
		}
	}
}

// TestEngineLoopBadExpression: a loop expression that fails names the
// playbook's file:line:col and the keyword; the host fails, nothing runs.
func TestEngineLoopBadExpression(t *testing.T) {
	const src = `
- hosts: all
  tasks:
    - name: bad
      memfile: {path: "/x{{ item }}", content: "x"}
      loop: "{{ nothere }}"
`
	f := newFleet("h1")
	sum, rec := runOn(t, f, src, Options{})
	res := rec.loopResult(t, "h1", "bad")
	if !strings.HasPrefix(res.Error, "play.yml:6:13: loop: ") || !strings.Contains(res.Error, "nothere") || strings.Count(res.Error, "6:13") != 1 {
		t.Errorf("error %q", res.Error)
	}
	if len(sum.Failed) != 1 || len(f.hosts["h1"].Files()) != 0 {
		t.Errorf("failed %v, files %v", sum.Failed, f.hosts["h1"].Files())
	}
}
