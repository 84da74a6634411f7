package runner

import "sync"

// hostLists caches the host lists behind ansible_play_hosts_all,
// ansible_play_hosts and ansible_play_batch. Every task of every host gets
// them; built afresh they cost each task O(hosts) allocations — at 1,000
// hosts three 1,000-element lists per task per host, a quarter of a run's
// garbage. A list changes only when its names do (a new play or batch) or a
// host goes down, so one copy is shared until then. The lists are read,
// never changed, by templates (filters return new lists), as the cached
// groups variable is.
type hostLists struct {
	mu sync.Mutex
	// gen counts the changes of magic.down: a live list built at an older
	// gen is stale.
	gen  int
	all  map[*string][]any
	live map[*string]liveList
}

// liveList is a live list, the gen it was built at and the length of the
// names it was built from.
type liveList struct {
	gen, from int
	list      []any
}

// downChanged marks every live list stale (a host went down or was revived).
func (c *hostLists) downChanged() {
	c.mu.Lock()
	c.gen++
	c.mu.Unlock()
}

// reset forgets every list: a new play's lists replace the last one's.
func (c *hostLists) reset() {
	c.mu.Lock()
	c.all, c.live = nil, nil
	c.mu.Unlock()
}

// allOf returns names as a list of any, one shared copy per names slice.
func (c *hostLists) allOf(names []string) []any {
	if len(names) == 0 {
		return []any{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.all[&names[0]]; ok && len(l) == len(names) {
		return l
	}
	l := make([]any, len(names))
	for i, n := range names {
		l[i] = n
	}
	if c.all == nil {
		c.all = map[*string][]any{}
	}
	c.all[&names[0]] = l
	return l
}

// liveOf returns the names for which down is false, one shared copy per
// names slice until down changes. The caller holds what guards isDown's
// answers (run.liveOf: magic.varsMu, whose writers call downChanged).
func (c *hostLists) liveOf(names []string, isDown func(string) bool) []any {
	if len(names) == 0 {
		return []any{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.live[&names[0]]; ok && l.gen == c.gen && l.from == len(names) {
		return l.list
	}
	out := make([]any, 0, len(names))
	for _, n := range names {
		if !isDown(n) {
			out = append(out, n)
		}
	}
	if c.live == nil {
		c.live = map[*string]liveList{}
	}
	c.live[&names[0]] = liveList{gen: c.gen, from: len(names), list: out}
	return out
}
