package template

import (
	"crypto/rand"
	"crypto/sha512"
	"fmt"
	"math/big"
	"math/bits"
)

// pyRandom is Python's random.Random: the Mersenne Twister (MT19937)
// seeded as CPython seeds it, so random(seed=inventory_hostname) and
// shuffle(seed=...) give the numbers Ansible gives.
type pyRandom struct {
	mt  [624]uint32
	idx int
}

// newPyRandom seeds like random.Random(seed): an int by its absolute
// value, a string (version 2) by the integer of its UTF-8 bytes followed
// by their SHA-512.
func newPyRandom(seed any) (*pyRandom, error) {
	n := new(big.Int)
	switch s := seed.(type) {
	case string:
		sum := sha512.Sum512([]byte(s))
		n.SetBytes(append([]byte(s), sum[:]...))
	case bool:
		return nil, fmt.Errorf("seed must be a string or an integer, not %s", show(seed))
	default:
		i, ok := toIndex(seed)
		if !ok {
			return nil, fmt.Errorf("seed must be a string or an integer, not %s", show(seed))
		}
		n.SetInt64(int64(i))
		n.Abs(n)
	}
	used := max(1, (n.BitLen()+31)/32) // CPython's 32-bit words, least significant first
	buf := n.FillBytes(make([]byte, used*4))
	key := make([]uint32, used)
	for w := range key {
		b := buf[len(buf)-4*(w+1):]
		key[w] = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	}
	r := &pyRandom{}
	r.initByArray(key)
	return r, nil
}

func (r *pyRandom) initGenrand(s uint32) {
	r.mt[0] = s
	for i := 1; i < 624; i++ {
		r.mt[i] = 1812433253*(r.mt[i-1]^(r.mt[i-1]>>30)) + uint32(i)
	}
	r.idx = 624
}

func (r *pyRandom) initByArray(key []uint32) {
	r.initGenrand(19650218)
	i, j := 1, 0
	for k := max(624, len(key)); k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= 624 {
			r.mt[0] = r.mt[623]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k := 623; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= 624 {
			r.mt[0] = r.mt[623]
			i = 1
		}
	}
	r.mt[0] = 0x80000000
}

func (r *pyRandom) uint32() uint32 {
	if r.idx >= 624 {
		for k := 0; k < 624; k++ {
			y := r.mt[k]&0x80000000 | r.mt[(k+1)%624]&0x7fffffff
			v := r.mt[(k+397)%624] ^ (y >> 1)
			if y&1 != 0 {
				v ^= 0x9908b0df
			}
			r.mt[k] = v
		}
		r.idx = 0
	}
	y := r.mt[r.idx]
	r.idx++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// getrandbits is random.getrandbits(k), k from 1 to 64.
func (r *pyRandom) getrandbits(k int) uint64 {
	if k <= 32 {
		return uint64(r.uint32() >> (32 - k))
	}
	lo := uint64(r.uint32())
	hi := uint64(r.uint32() >> (64 - k))
	return hi<<32 | lo
}

// randbelow is random._randbelow(n): uniform in [0, n), by rejection.
func (r *pyRandom) randbelow(n int) int {
	k := bits.Len64(uint64(n))
	for {
		if v := r.getrandbits(k); v < uint64(n) {
			return int(v)
		}
	}
}

// randSource is Python's random.Random(seed) when seeded, else the system's
// random numbers (SystemRandom), as Ansible's random and shuffle use them.
func randSource(name string, seed any) (func(n int) int, error) {
	if seed == nil {
		return func(n int) int {
			v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
			if err != nil {
				panic(fmt.Sprintf("%s: system random: %v", name, err))
			}
			return int(v.Int64())
		}, nil
	}
	mt, err := newPyRandom(seed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return mt.randbelow, nil
}

// filterRandom is random(start=None, step=None, seed=None): a number in
// range(start, end, step), or an item of a list.
func filterRandom(args ...any) (any, error) {
	args, kw := splitKwargs(args)
	if err := arity("random", args, 0, 2); err != nil {
		return nil, err
	}
	below, err := randSource("random", kw["seed"])
	if err != nil {
		return nil, err
	}
	var start, step any
	if len(args) > 1 {
		start = args[1]
	}
	if len(args) > 2 {
		step = args[2]
	}
	if v, ok := kw["start"]; ok {
		start = v
	}
	if v, ok := kw["step"]; ok {
		step = v
	}
	if _, isBool := args[0].(bool); !isBool && isInteger(args[0]) {
		end, _ := toIndex(args[0])
		lo, st := 0, 1
		if truthy(start) {
			if lo, err = intArg("random", "start", start); err != nil {
				return nil, err
			}
		}
		if truthy(step) {
			if st, err = intArg("random", "step", step); err != nil {
				return nil, err
			}
		}
		var n int
		if st > 0 {
			n = (end - lo + st - 1) / st
		} else {
			n = (end - lo + st + 1) / st
		}
		if n <= 0 {
			return nil, fmt.Errorf("random: empty range for randrange(%d, %d, %d)", lo, end, st)
		}
		return lo + st*below(n), nil
	}
	if truthy(start) || truthy(step) {
		return nil, fmt.Errorf("random: start and step can only be used with integer values")
	}
	if s, ok := args[0].(string); ok {
		r := []rune(s)
		if len(r) == 0 {
			return nil, fmt.Errorf("random: cannot choose from an empty sequence")
		}
		return string(r[below(len(r))]), nil
	}
	l, err := items("random", args[0])
	if err != nil {
		return nil, fmt.Errorf("random can only be used on sequences and integers")
	}
	if len(l) == 0 {
		return nil, fmt.Errorf("random: cannot choose from an empty sequence")
	}
	return l[below(len(l))], nil
}

func intArg(filter, name string, v any) (int, error) {
	i, ok := toIndex(v)
	if !ok {
		return 0, fmt.Errorf("%s: %s must be an integer, not %s", filter, name, show(v))
	}
	return i, nil
}

// filterShuffle is shuffle(seed=None): a shuffled copy of a list.
func filterShuffle(args ...any) (any, error) {
	args, kw := splitKwargs(args)
	if err := arity("shuffle", args, 0, 1); err != nil {
		return nil, err
	}
	seed := kw["seed"]
	if len(args) > 1 {
		seed = args[1]
	}
	if !truthy(seed) {
		seed = nil
	}
	below, err := randSource("shuffle", seed)
	if err != nil {
		return nil, err
	}
	var l []any
	if s, ok := args[0].(string); ok {
		for _, r := range s {
			l = append(l, string(r))
		}
	} else if l, err = items("shuffle", args[0]); err != nil {
		return args[0], nil // Ansible returns what it cannot shuffle
	}
	out := append([]any{}, l...)
	for i := len(out) - 1; i > 0; i-- {
		j := below(i + 1)
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}
