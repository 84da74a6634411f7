// Package suggest finds the likely intended word behind a typo, for the
// "did you mean" of every input error (playbooks, inventories). It is a
// leaf: the packages that parse input share it without depending on each
// other.
package suggest

import "strings"

// Closest returns the candidate closest to word by edit distance (case
// ignored), or "" when none is close enough to be a likely typo: at most 2
// edits, 1 for words shorter than 5 runes. Ties go to the alphabetically
// first candidate, so messages are stable.
func Closest(word string, candidates ...[]string) string {
	best, bestDist := "", -1
	limit := 2
	if len([]rune(word)) < 5 {
		limit = 1
	}
	for _, list := range candidates {
		for _, c := range list {
			if c == word {
				continue
			}
			d := Distance(strings.ToLower(word), strings.ToLower(c))
			if d > limit {
				continue
			}
			if bestDist < 0 || d < bestDist || (d == bestDist && c < best) {
				best, bestDist = c, d
			}
		}
	}
	return best
}

// Distance is the Levenshtein edit distance between a and b, in runes.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
