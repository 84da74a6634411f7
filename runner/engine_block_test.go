package runner

import (
	"context"
	"reflect"
	"testing"

	"tend/internal/memhost"
	"tend/runner/transport"
)

// blockRecap is a host's recap as ok/changed/failed/skipped/rescued/ignored.
func blockRecap(sum *Summary, host string) [6]int {
	for _, h := range sum.Hosts {
		if h.Host == host {
			return [6]int{h.OK, h.Changed, h.Failed, h.Skipped, h.Rescued, h.Ignored}
		}
	}
	return [6]int{-1, -1, -1, -1, -1, -1}
}

// TestEngineBlocks: block/rescue/always run and count as ansible-playbook
// 2.14 runs and counts them (pinned from its runs of the same playbooks;
// its ok also counts ignored failures, tend's does not): a rescued
// failure counts rescued, not failed, and the host goes on; always runs
// whatever happened; a failure without rescue fails the host after the
// always; the block's when and vars reach its tasks; ansible_failed_task
// and ansible_failed_result are set in the rescue and stay after it.
func TestEngineBlocks(t *testing.T) {
	tests := []struct {
		name, src string
		want      map[string][6]int // ok, changed, failed, skipped, rescued, ignored
		ran       map[string][]string
		notRan    map[string][]string
	}{
		{"rescue, always, failure without rescue", `- hosts: all
  gather_facts: false
  tasks:
    - name: outer
      block:
        - debug: {msg: one}
        - name: boom
          fail: {msg: boom}
          when: inventory_hostname == 'h2'
        - name: not after fail
          debug: {msg: x}
      rescue:
        - name: rescue
          fail: {msg: "{{ ansible_failed_task.name }} {{ ansible_failed_result.msg }}"}
          when: ansible_failed_task.name != 'boom' or ansible_failed_result.msg != 'boom'
      always:
        - name: always
          debug: {msg: always}
    - name: after
      fail: {msg: lost}
      when: inventory_hostname == 'h2' and ansible_failed_task.name != 'boom'
    - block:
        - fail: {msg: nores}
          when: inventory_hostname == 'h1'
      always:
        - name: always2
          debug: {msg: always2}
    - name: end
      debug: {msg: end}
`, map[string][6]int{"h1": {4, 0, 1, 2, 0, 0}, "h2": {4, 0, 0, 3, 1, 0}},
			map[string][]string{"h1": {"not after fail", "always", "always2"}, "h2": {"always", "always2", "end"}},
			map[string][]string{"h1": {"end"}}},
		{"block when and vars; nested; ignore_errors", `- hosts: all
  gather_facts: false
  tasks:
    - block:
        - fail: {msg: "{{ x }}"}
          when: x != 'outer'
        - name: inner
          fail: {msg: "{{ x }}"}
          when: x != 'inner'
          vars: {x: inner}
      rescue:
        - debug: {msg: r}
      always:
        - name: a
          debug: {msg: a}
      when: inventory_hostname == 'h1'
      vars: {x: outer}
    - block:
        - block:
            - fail: {msg: deep}
          always:
            - name: inner always
              debug: {msg: inner always}
        - name: skipped by failure
          debug: {msg: x}
      rescue:
        - name: caught
          fail: {msg: "{{ ansible_failed_result.msg }}"}
          when: ansible_failed_result.msg != 'deep'
    - block:
        - fail: {msg: ign}
        - name: goes on
          debug: {msg: goes on}
      ignore_errors: true
`, map[string][6]int{"h1": {3, 0, 0, 3, 1, 1}, "h2": {2, 0, 0, 4, 1, 1}},
			map[string][]string{"h1": {"a", "inner always", "goes on"}, "h2": {"inner always", "goes on"}},
			map[string][]string{"h1": {"skipped by failure"}}},
		{"a failing rescue fails the host after the always", `- hosts: all
  gather_facts: false
  tasks:
    - block:
        - fail: {msg: first}
      rescue:
        - fail: {msg: second}
          when: inventory_hostname == 'h1'
        - name: rescue rest
          debug: {msg: rescue rest}
      always:
        - name: a
          debug: {msg: a}
    - name: end
      debug: {msg: end}
`, map[string][6]int{"h1": {1, 0, 1, 0, 1, 0}, "h2": {3, 0, 0, 1, 1, 0}},
			map[string][]string{"h1": {"a"}, "h2": {"rescue rest", "end"}},
			map[string][]string{"h1": {"rescue rest", "end"}}},
		{"end_host in a block: no rescue, no always", `- hosts: all
  gather_facts: false
  tasks:
    - block:
        - meta: end_host
        - fail: {}
      rescue:
        - name: r
          debug: {msg: r}
      always:
        - name: a
          debug: {msg: a}
`, map[string][6]int{"h1": {0, 0, 0, 0, 0, 0}},
			nil, map[string][]string{"h1": {"r", "a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet("h1", "h2")
			sum, rec := runOn(t, f, tt.src, Options{})
			for h, want := range tt.want {
				if got := blockRecap(sum, h); got != want {
					t.Errorf("%s: ok/changed/failed/skipped/rescued/ignored = %v, want %v", h, got, want)
				}
			}
			for h, names := range tt.ran {
				for _, n := range names {
					if !rec.ran(h, n) {
						t.Errorf("%s: %q did not run", h, n)
					}
				}
			}
			for h, names := range tt.notRan {
				for _, n := range names {
					if rec.ran(h, n) {
						t.Errorf("%s: %q ran", h, n)
					}
				}
			}
		})
	}
}

// TestEngineBlockUnreachableAndStop: a host that becomes unreachable in a
// block runs neither its rescue nor its always (as Ansible); a stop
// request (SIGINT) while a block's task runs lets that task finish and
// starts neither rescue nor always: the host is stopped, not failed, and
// the stop names the task it stopped before (faults.md row 42).
func TestEngineBlockUnreachableAndStop(t *testing.T) {
	const src = `
- hosts: all
  tasks:
    - block:
        - name: one
          memfile: {path: /etc/one, content: "1"}
        - name: step two
          command: step-two
      rescue:
        - name: r
          debug: {msg: r}
      always:
        - name: a
          debug: {msg: a}
`
	t.Run("unreachable", func(t *testing.T) {
		f := newFleet("h1", "h2")
		failOn(f, "step-two", "h2")
		h1 := f.hosts["h1"]
		h1.Handle(memhost.Argv("step-two"), func(context.Context, *memhost.Host, transport.Command) (transport.Result, error) {
			return transport.Result{}, h1.Unreachable("connection reset by peer")
		})
		sum, rec := runOn(t, f, src, Options{})
		if !reflect.DeepEqual(sum.Unreachable, []string{"h1"}) || len(sum.Failed) > 0 {
			t.Errorf("unreachable %v failed %v, want [h1] []", sum.Unreachable, sum.Failed)
		}
		if rec.ran("h1", "r") || rec.ran("h1", "a") {
			t.Error("h1: rescue or always ran on an unreachable host")
		}
		if !rec.ran("h2", "r") || !rec.ran("h2", "a") {
			t.Error("h2: a failed command was not rescued")
		}
	})
	t.Run("stop", func(t *testing.T) {
		stop := make(chan struct{})
		f := newFleet("h1")
		f.hosts["h1"].Handle(memhost.Argv("tee", "/etc/one"), func(_ context.Context, h *memhost.Host, c transport.Command) (transport.Result, error) {
			close(stop) // the signal arrives while the write runs
			h.SetFile(c.Argv[1], c.Stdin)
			return memhost.OK(""), nil
		})
		sum, rec := runOn(t, f, src, Options{Stop: stop})
		if b, _ := f.hosts["h1"].File("/etc/one"); string(b) != "1" {
			t.Errorf("h1: the step in progress did not finish (/etc/one = %q)", b)
		}
		for _, n := range []string{"step two", "r", "a"} {
			if rec.ran("h1", n) {
				t.Errorf("h1: %q ran after the stop request", n)
			}
		}
		if !reflect.DeepEqual(sum.Stopped, []string{"h1"}) || len(sum.Failed) > 0 {
			t.Errorf("stopped %v failed %v, want [h1] []", sum.Stopped, sum.Failed)
		}
		if len(rec.stops) != 1 || rec.stops[0].Task != "step two" {
			t.Errorf("stops %+v, want one, before \"step two\"", rec.stops)
		}
	})
}

// TestEngineBlockTags: a block's tags are its tasks' for --tags and
// --skip-tags; a block none of whose tasks is selected is not run.
func TestEngineBlockTags(t *testing.T) {
	const src = `- hosts: all
  gather_facts: false
  tasks:
    - block:
        - name: in fix
          debug: {msg: x}
        - name: tagged own
          debug: {msg: x}
          tags: [own]
      always:
        - name: fix always
          debug: {msg: x}
      tags: [fix]
    - block:
        - name: other
          debug: {msg: x}
`
	tests := []struct {
		name       string
		only, skip []string
		ran, not   []string
	}{
		{"--tags fix", []string{"fix"}, nil, []string{"in fix", "tagged own", "fix always"}, []string{"other"}},
		{"--tags own", []string{"own"}, nil, []string{"tagged own"}, []string{"in fix", "fix always", "other"}},
		{"--skip-tags fix", nil, []string{"fix"}, []string{"other"}, []string{"in fix", "tagged own", "fix always"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rec := runOn(t, newFleet("h1"), src, Options{Tags: tt.only, SkipTags: tt.skip})
			for _, n := range tt.ran {
				if !rec.ran("h1", n) {
					t.Errorf("%q did not run", n)
				}
			}
			for _, n := range tt.not {
				if rec.ran("h1", n) {
					t.Errorf("%q ran", n)
				}
			}
		})
	}
}

// TestEngineBlockAnyErrorsFatal: under any_errors_fatal, a failure a
// rescue catches does not stop the others; one without a rescue does, and
// the failed host is reported failed, not stopped. A deliberate
// difference: the stop is immediate, always: lists included, where
// ansible-playbook 2.14 runs the always on every host and then goes on
// with the play as if no error had been fatal.
func TestEngineBlockAnyErrorsFatal(t *testing.T) {
	const src = `- hosts: all
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - block:
        - fail: {}
          when: inventory_hostname == 'h1'
      rescue:
        - debug: {msg: r}
    - name: both
      debug: {msg: both}
    - block:
        - fail: {}
          when: inventory_hostname == 'h1'
      always:
        - name: a
          debug: {msg: a}
    - name: never
      debug: {msg: never}
`
	sum, rec := runOn(t, newFleet("h1", "h2"), src, Options{})
	if !reflect.DeepEqual(sum.Failed, []string{"h1"}) || !reflect.DeepEqual(sum.Stopped, []string{"h2"}) {
		t.Errorf("failed %v stopped %v, want [h1] [h2]", sum.Failed, sum.Stopped)
	}
	if !rec.ran("h1", "both") || !rec.ran("h2", "both") || rec.ran("h1", "never") || rec.ran("h2", "never") {
		t.Error("a rescued failure stopped the play, or an unrescued one did not")
	}
	for _, h := range []string{"h1", "h2"} {
		if rec.ran(h, "a") {
			t.Errorf("%s: the always ran after the stop", h)
		}
	}
	if false {
		t.Error("the always ran after the stop (a deliberate difference: Ansible 2.14 runs it, and goes on)")
	}
	for _, h := range sum.Hosts {
		if h.Host == "h1" && h.Stopped {
			t.Errorf("h1: recap says stopped (%s), want failed only", h.StopReason)
		}
	}
}

// TestEngineBlockLockstep: in lockstep (max_fail_percentage) a host that
// does not run a rescue waits while another runs it, as under Ansible's
// linear strategy: the rescue starts once the block has ended on every
// host, and the task after the block once the rescue has.
func TestEngineBlockLockstep(t *testing.T) {
	const src = `- hosts: all
  gather_facts: false
  max_fail_percentage: 100
  tasks:
    - block:
        - fail: {}
          when: inventory_hostname == 'h1'
        - block:
            - debug: {msg: nested}
            - debug: {msg: nested}
        - debug: {msg: rest of the block}
        - fail: {msg: "the rescue of h1 started before the block ended on h2"}
          when: hostvars['h1'].s is defined
      rescue:
        - set_fact: {s: 1}
        - debug: {msg: one}
        - set_fact: {r: 1}
    - name: after
      fail: {msg: "the rescue of h1 has not ended"}
      when: hostvars['h1'].r is not defined
`
	sum, _ := runOn(t, newFleet("h1", "h2"), src, Options{})
	if len(sum.Failed) > 0 || blockRecap(sum, "h1")[4] != 1 || blockRecap(sum, "h2")[4] != 0 {
		t.Errorf("failed %v, rescued h1 %d h2 %d, want none, 1, 0", sum.Failed, blockRecap(sum, "h1")[4], blockRecap(sum, "h2")[4])
	}
}
