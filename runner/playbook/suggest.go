package playbook

import (
	"fmt"
	"sort"
	"strings"

	closest "tend/internal/suggest"
)

// sprintf is fmt.Sprintf, named so the error helpers read tersely.
func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// suggest returns the candidate closest to word, or "" (see suggest.Closest).
func suggest(word string, candidates ...[]string) string {
	return closest.Closest(word, candidates...)
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
