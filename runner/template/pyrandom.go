package template

import (
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
