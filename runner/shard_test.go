package runner

import (
	"fmt"
	"testing"

	"tend/inventory"
)

// shardNames are host names as fleets spell them: numbered, dotted, short.
func shardNames() []string {
	var names []string
	for i := 0; i < 2000; i++ {
		names = append(names, fmt.Sprintf("mq%d.dc%d.example.com", i, i%3), fmt.Sprintf("h%d", i))
	}
	return append(names, "", "localhost", "10.0.0.1")
}

// The N shards together hold every host exactly once, for every N.
func TestShardsCoverEveryHostOnce(t *testing.T) {
	names := shardNames()
	var hosts []*inventory.Host
	for _, n := range names {
		hosts = append(hosts, &inventory.Host{Name: n})
	}
	for n := 1; n <= 17; n++ {
		seen := map[string]int{}
		for i := 0; i < n; i++ {
			part := Shard{Index: i, Count: n}.filter(hosts)
			if len(part) == 0 {
				t.Errorf("N=%d: shard %d is empty", n, i)
			}
			// Balance: no shard holds more than twice its share.
			if len(part) > 2*len(hosts)/n+1 {
				t.Errorf("N=%d: shard %d holds %d of %d hosts", n, i, len(part), len(hosts))
			}
			for _, h := range part {
				// The split is by name, whatever the list: the host's owner.
				if owner(t, h.Name, n) != i {
					t.Fatalf("N=%d: shard %d holds %q, owned by shard %d", n, i, h.Name, owner(t, h.Name, n))
				}
				seen[h.Name]++
			}
		}
		for _, name := range names {
			if seen[name] != 1 {
				t.Fatalf("N=%d: host %q is in %d shards, want 1", n, name, seen[name])
			}
		}
	}
}

// Rendezvous hashing: going from N to N+1 shards moves a host only to the
// new shard, and about 1/(N+1) of them.
func TestShardGrowMovesFewHosts(t *testing.T) {
	names := shardNames()
	for n := 1; n <= 16; n++ {
		moved := 0
		for _, name := range names {
			before, after := owner(t, name, n), owner(t, name, n+1)
			if before != after {
				moved++
				if after != n {
					t.Fatalf("N=%d->%d: %q moved from %d to %d, not to the new shard", n, n+1, name, before, after)
				}
			}
		}
		if share := len(names) / (n + 1); moved > 2*share {
			t.Errorf("N=%d->%d: %d of %d hosts moved, want about %d", n, n+1, moved, len(names), share)
		}
	}
}

func TestParseShard(t *testing.T) {
	tests := []struct {
		in   string
		want Shard
		err  string
	}{
		{in: "0/1", want: Shard{0, 1}},
		{in: "3/4", want: Shard{3, 4}},
		{in: "4/4", err: `shard "4/4": want 0 <= I < N and N >= 1`},
		{in: "-1/4", err: `shard "-1/4": want 0 <= I < N and N >= 1`},
		{in: "0/0", err: `shard "0/0": want 0 <= I < N and N >= 1`},
		{in: "1", err: `shard "1": want I/N, e.g. 0/4`},
		{in: "a/b", err: `shard "a/b": want I/N, e.g. 0/4`},
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: error %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want || got.String() != tt.in {
			t.Errorf("%s: got %+v %v", tt.in, got, err)
		}
	}
}

// owner is the one shard among n that owns name.
func owner(t *testing.T, name string, n int) int {
	t.Helper()
	found := -1
	for i := 0; i < n; i++ {
		if (Shard{Index: i, Count: n}).Owns(name) {
			if found >= 0 {
				t.Fatalf("N=%d: %q is owned by shards %d and %d", n, name, found, i)
			}
			found = i
		}
	}
	if found < 0 {
		t.Fatalf("N=%d: no shard owns %q", n, name)
	}
	return found
}
