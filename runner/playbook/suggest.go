package playbook

import (
	"fmt"

	closest "tend/internal/suggest"
)

// sprintf is fmt.Sprintf, named so the error helpers read tersely.
func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// suggest returns the candidate closest to word, or "" (see suggest.Closest).
func suggest(word string, candidates ...[]string) string {
	return closest.Closest(word, candidates...)
}
