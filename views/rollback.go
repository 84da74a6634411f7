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
	label := "rolled back"
	switch {
	case rb.Planned:
		label = "rollback"
	case rb.Outcome != "rolled back":
		label = "ROLLBACK"
	}
	fmt.Fprintf(&b, "%-12s [%s] %s\n", label, host, rb.Outcome)
	for _, it := range rb.Items {
		fmt.Fprintf(&b, "    %s\n", it.Line())
	}
	return b.String()
}

// writeMarkdownRollback writes a host's rollback as a list item of its section.
func writeMarkdownRollback(b *strings.Builder, rb *runner.Rollback) {
	label := "rolled back"
	if rb.Planned {
		label = "rollback"
	}
	fmt.Fprintf(b, "\n- **%s** — %s\n", label, mdEscape(rb.Outcome))
	for _, it := range rb.Items {
		fmt.Fprintf(b, "  - %s\n", mdEscape(it.Line()))
	}
}
