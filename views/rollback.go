package views

import (
	"fmt"
	"strings"

	"tend/runner"
)

// rollbackLines renders a host's rollback (HostDone.Rollback) as the
// human view shows it: a headline, then one line per item.
func rollbackLines(host string, rb *runner.Rollback) string {
	var b strings.Builder
	label := "rollback"
	if !rb.Planned && rb.Outcome != "rolled back" {
		label = "ROLLBACK" // an item could not be put back
	}
	fmt.Fprintf(&b, "%-12s [%s] %s\n", label, host, rb.Outcome)
	for _, it := range rb.Items {
		fmt.Fprintf(&b, "    %s\n", it.Line())
	}
	return b.String()
}

// writeMarkdownRollback writes a host's rollback as a list item of its section.
func writeMarkdownRollback(b *strings.Builder, rb *runner.Rollback) {
	fmt.Fprintf(b, "\n- **rollback** — %s\n", mdEscape(rb.Outcome))
	for _, it := range rb.Items {
		fmt.Fprintf(b, "  - %s\n", mdEscape(it.Line()))
	}
}
