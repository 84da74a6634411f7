package runner

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"sync"

	"tend/internal/yamlnode"
	"tend/runner/playbook"
	"tend/runner/template"
)

// serialSizes renders a play's serial: entries (templates see the play's
// defaults and vars and the extra vars, as Ansible templates serial with
// play and extra vars, not host vars) and checks each: a positive count
// ("5") or a positive percentage ("30%"). A template may yield a list.
func serialSizes(p *playbook.Play, extra map[string]any) ([]string, error) {
	vars := make(map[string]any, len(p.Defaults)+len(p.Vars)+len(extra))
	maps.Copy(vars, p.Defaults)
	maps.Copy(vars, p.Vars)
	maps.Copy(vars, extra)
	var out []string
	bad := func(entry string, v any) error {
		return fmt.Errorf("%s: serial: %q is %v: want a positive count (5), a percentage (\"30%%\") or a list of them", p.Pos, entry, v)
	}
	for _, e := range p.Serial {
		if !yamlnode.IsTemplateText(e) {
			out = append(out, e) // the parser checked it
			continue
		}
		v, err := template.Render(e, vars)
		if err != nil {
			return nil, fmt.Errorf("%s: serial: %w", p.Pos, err)
		}
		items := []any{v}
		if list, ok := v.([]any); ok {
			items = list
		}
		if len(items) == 0 {
			return nil, bad(e, v)
		}
		for _, it := range items {
			s, ok := serialEntry(it)
			if !ok {
				return nil, bad(e, v)
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// serialEntry normalises one rendered serial value to "N" or "N%".
func serialEntry(v any) (string, bool) {
	var s string
	switch x := v.(type) {
	case int:
		s = strconv.Itoa(x)
	case int64:
		s = strconv.FormatInt(x, 10)
	case float64:
		if x != math.Trunc(x) {
			return "", false
		}
		s = strconv.FormatInt(int64(x), 10)
	case string:
		s = strings.TrimSpace(x)
	default:
		return "", false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil || n <= 0 {
		return "", false
	}
	return s, true
}

// batchSize is one serial entry as a host count out of total, as
// Ansible's pct_to_int: a percentage rounds down, but never below 1.
func batchSize(entry string, total int) int {
	if pct, ok := strings.CutSuffix(entry, "%"); ok {
		n, _ := strconv.Atoi(pct)
		return max(n*total/100, 1)
	}
	n, _ := strconv.Atoi(entry)
	return max(n, 1)
}

// splitBatches cuts hosts into consecutive batches of the serial sizes;
// the last size repeats. No sizes means one batch of every host.
func splitBatches[T any](hosts []T, sizes []string) [][]T {
	if len(hosts) == 0 {
		return nil
	}
	if len(sizes) == 0 {
		return [][]T{hosts}
	}
	var out [][]T
	rest := hosts
	for i := 0; len(rest) > 0; i++ {
		n := min(batchSize(sizes[min(i, len(sizes)-1)], len(hosts)), len(rest))
		out = append(out, rest[:n])
		rest = rest[n:]
	}
	return out
}

// batch is the shared state of the hosts running one batch of a play: its
// failure count, the reason every host must stop (once set), and, in
// lockstep, the barrier that keeps its hosts on the same task.
type batch struct {
	play           *playbook.Play
	playIndex      int // the play's position in the playbook (0-based)
	index, batches int // 1-based position of the batch in the play
	size           int
	names          []string // the batch's hosts (ansible_play_batch)
	// lockstep makes every host finish task N before any starts task N+1
	// (Ansible's linear strategy). It is on when any_errors_fatal or
	// max_fail_percentage is set, so "stop after the current task" means
	// the same task on every host; otherwise hosts run freely.
	lockstep bool

	mu     sync.Mutex
	cond   *sync.Cond
	failed int
	stop   string
	// snap is stop as it stood when the barrier last opened: every host
	// leaving the barrier together sees the same verdict.
	snap    string
	active  int // hosts still able to arrive at the barrier
	arrived int
	gen     int

	// once holds the batch's run_once tasks (runonce.go).
	once onceTable
}

func newBatch(p *playbook.Play, index, batches, size int) *batch {
	b := &batch{play: p, index: index, batches: batches, size: size, active: size,
		lockstep: p.AnyErrorsFatal || p.MaxFailPercentage != nil || anyTaskFatal(p)}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// stopReason is why every host of the batch must stop, or "".
func (b *batch) stopReason() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stop
}

// failedCount is how many hosts of the batch failed or were unreachable.
func (b *batch) failedCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failed
}

// hostFailed counts a failed or unreachable host, and decides whether the
// batch must stop: any_errors_fatal held for what failed (fatal: the
// failing task's, else the play's), or strictly more than
// max_fail_percentage of the batch's hosts failed (Ansible's comparison).
func (b *batch) hostFailed(host, how string, fatal bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failed++
	if b.stop != "" {
		return
	}
	switch pct := b.play.MaxFailPercentage; {
	case fatal:
		b.stop = fmt.Sprintf("any_errors_fatal: %s %s", host, how)
	case pct != nil && b.failed*100 > *pct*b.size:
		b.stop = fmt.Sprintf("max_fail_percentage %d%% exceeded: %d of %d hosts of batch %d failed", *pct, b.failed, b.size, b.index)
	}
}

// arrive waits, in lockstep, until every host still running the batch has
// finished the same step (a host that fails or stops calls leave instead),
// and returns why the batch must stop as it stood then, or "". Outside
// lockstep it returns "" at once.
func (b *batch) arrive() string {
	if !b.lockstep {
		return ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.arrived++
	if b.arrived >= b.active {
		b.release()
		return b.snap
	}
	for g := b.gen; g == b.gen; {
		b.cond.Wait()
	}
	return b.snap
}

// leave takes a host out of the barrier for good (it failed, stopped or
// finished its tasks), releasing the others if they only waited for it.
func (b *batch) leave() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.active--
	if b.arrived > 0 && b.arrived >= b.active {
		b.release()
	}
}

func (b *batch) release() {
	b.snap = b.stop
	b.arrived = 0
	b.gen++
	b.cond.Broadcast()
}
