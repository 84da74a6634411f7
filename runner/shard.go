package runner

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"tend/inventory"
)

// Shard selects one part of the hosts (--shard I/N): the host whose name
// scores highest for bucket I among the N buckets (rendezvous hashing) is
// this shard's. The split depends only on host names and N, so every
// controller computes the same one, the N shards together cover every host
// exactly once, and changing N moves only about 1/N of the hosts. The zero
// Shard (Count 0) selects every host.
type Shard struct {
	// Index is this shard, 0 <= Index < Count (a Kubernetes Indexed Job's
	// JOB_COMPLETION_INDEX).
	Index int `json:"index"`
	// Count is how many shards there are; 0 means no sharding.
	Count int `json:"count"`
}

// ParseShard parses I/N, 0 <= I < N.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	index, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want I/N, e.g. 0/4", s)
	}
	if count < 1 || index < 0 || index >= count {
		return Shard{}, fmt.Errorf("shard %q: want 0 <= I < N and N >= 1", s)
	}
	return Shard{Index: index, Count: count}, nil
}

// String is I/N, or "" for the zero Shard.
func (s Shard) String() string {
	if s.Count == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Owns says whether the host named name belongs to this shard.
func (s Shard) Owns(name string) bool {
	if s.Count <= 1 {
		return true
	}
	return ShardOf(name, s.Count) == s.Index
}

// ShardOf is the shard, among n, that owns the host named name: the bucket
// with the highest score hash(name, bucket) (ties: the lowest bucket).
func ShardOf(name string, n int) int {
	best, bestScore := 0, uint64(0)
	for b := 0; b < n; b++ {
		if sc := rendezvousScore(name, b); b == 0 || sc > bestScore {
			best, bestScore = b, sc
		}
	}
	return best
}

// rendezvousScore is FNV-1a 64 of the name and the bucket, finalised with
// splitmix64's mixer so that nearby inputs score independently.
func rendezvousScore(name string, bucket int) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	var b [9]byte
	binary.BigEndian.PutUint64(b[1:], uint64(bucket))
	h.Write(b[:]) // the 0 byte separates the name from the bucket
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// filter keeps the hosts this shard owns, in order.
func (s Shard) filter(hosts []*inventory.Host) []*inventory.Host {
	if s.Count <= 1 {
		return hosts
	}
	var out []*inventory.Host
	for _, h := range hosts {
		if s.Owns(h.Name) {
			out = append(out, h)
		}
	}
	return out
}
