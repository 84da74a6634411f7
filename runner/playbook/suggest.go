package playbook

import (
	"fmt"
	"sort"
	"strings"
)

// sprintf is fmt.Sprintf, named so the error helpers read tersely.
func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// suggest returns the candidate closest to word by edit distance, or "" when
// none is close enough to be a likely typo.
func suggest(word string, candidates ...[]string) string {
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
			d := levenshtein(strings.ToLower(word), strings.ToLower(c))
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

// didYouMean formats the suffix of an unknown-name message: `; did you mean
// "notify"?`, or the valid names when there are few and none is close.
func didYouMean(word string, candidates ...[]string) string {
	if s := suggest(word, candidates...); s != "" {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	var all []string
	for _, list := range candidates {
		all = append(all, list...)
	}
	if len(all) == 0 || len(all) > 12 {
		return ""
	}
	sort.Strings(all)
	return "; valid: " + strings.Join(all, ", ")
}

// levenshtein is the edit distance between a and b (runes).
func levenshtein(a, b string) int {
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
