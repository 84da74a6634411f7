package runner

import (
	"reflect"
	"strings"
	"sync"
	"testing"

	"tend/runner/playbook"
)

func TestSplitBatches(t *testing.T) {
	hosts := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct {
		serial []string
		want   []int // batch sizes
	}{
		{nil, []int{10}},
		{[]string{"1"}, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{[]string{"3"}, []int{3, 3, 3, 1}},
		{[]string{"30%"}, []int{3, 3, 3, 1}},
		{[]string{"5%"}, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}}, // rounds down, never below 1
		{[]string{"1", "5", "50%"}, []int{1, 5, 4}},           // the last entry repeats
		{[]string{"1", "2"}, []int{1, 2, 2, 2, 2, 1}},
		{[]string{"100%"}, []int{10}},
		{[]string{"20"}, []int{10}},
	} {
		var got []int
		for _, b := range splitBatches(hosts, c.serial) {
			got = append(got, len(b))
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("serial %v: batches %v, want %v", c.serial, got, c.want)
		}
	}
	if b := splitBatches([]int(nil), []string{"1"}); b != nil {
		t.Errorf("no hosts: %v, want no batch", b)
	}
}

func TestSerialSizesRendered(t *testing.T) {
	play := func(serial ...string) *playbook.Play {
		return &playbook.Play{Serial: serial, Defaults: map[string]any{"n": 1}, Vars: map[string]any{"list": []any{1, "50%"}}}
	}
	for _, c := range []struct {
		play  *playbook.Play
		extra map[string]any
		want  []string
		err   string
	}{
		{play("{{ n }}"), nil, []string{"1"}, ""},
		{play("{{ n }}"), map[string]any{"n": "25%"}, []string{"25%"}, ""},
		{play("{{ n }}"), map[string]any{"n": 2.0}, []string{"2"}, ""},
		{play("{{ list }}"), nil, []string{"1", "50%"}, ""},
		{play("1", "{{ n }}"), map[string]any{"n": "3"}, []string{"1", "3"}, ""},
		{play("{{ n }}"), map[string]any{"n": "abc"}, nil, `serial: "{{ n }}" is abc`},
		{play("{{ n }}"), map[string]any{"n": 0}, nil, "want a positive count"},
		{play("{{ n }}"), map[string]any{"n": "-1%"}, nil, "want a positive count"},
		{play("{{ missing }}"), nil, nil, "missing"},
	} {
		got, err := serialSizes(c.play, c.extra)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%v with %v: error %v, want %q", c.play.Serial, c.extra, err, c.err)
		case c.err == "" && (err != nil || !reflect.DeepEqual(got, c.want)):
			t.Errorf("%v with %v: %v, %v; want %v", c.play.Serial, c.extra, got, err, c.want)
		}
	}
}

func TestBatchMaxFailPercentageIsStrictlyGreater(t *testing.T) {
	pct := 25
	b := newBatch(&playbook.Play{MaxFailPercentage: &pct}, 1, 1, 4)
	b.hostFailed("h1", "failed", false)
	if r := b.stopReason(); r != "" {
		t.Fatalf("1 of 4 (25%%) stopped the batch: %s", r)
	}
	b.hostFailed("h2", "unreachable", false)
	if r := b.stopReason(); !strings.Contains(r, "max_fail_percentage 25% exceeded: 2 of 4 hosts of batch 1 failed") {
		t.Fatalf("2 of 4 (50%%): stop reason %q", r)
	}
	zero := 0
	b = newBatch(&playbook.Play{MaxFailPercentage: &zero}, 1, 1, 4)
	b.hostFailed("h1", "failed", false)
	if b.stopReason() == "" {
		t.Error("max_fail_percentage 0: one failure did not stop the batch")
	}
	b = newBatch(&playbook.Play{AnyErrorsFatal: true}, 1, 1, 100)
	b.hostFailed("h7", "unreachable", true)
	if r := b.stopReason(); r != "any_errors_fatal: h7 unreachable" {
		t.Errorf("any_errors_fatal: %q", r)
	}
}

// TestBatchLockstep checks the barrier: no host starts step N+1 before
// every host still running has finished step N, and a host that leaves
// (fails) releases the others.
func TestBatchLockstep(t *testing.T) {
	const hosts, steps = 8, 20
	b := newBatch(&playbook.Play{AnyErrorsFatal: true}, 1, 1, hosts)
	var mu sync.Mutex
	finished := make([]int, steps) // hosts that finished each step
	var wg sync.WaitGroup
	for h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer b.leave()
			for step := range steps {
				mu.Lock()
				if step > 0 && finished[step-1] < activeAt(step-1, hosts) {
					t.Errorf("host %d started step %d before every host finished step %d", h, step, step-1)
				}
				finished[step]++
				mu.Unlock()
				if h == 0 && step == 5 {
					return // leaves mid-way, as a failed host does
				}
				b.arrive()
			}
		}()
	}
	wg.Wait()
}

// activeAt is how many hosts run step s in TestBatchLockstep: host 0
// leaves after step 5.
func activeAt(s, hosts int) int {
	if s > 5 {
		return hosts - 1
	}
	return hosts
}
