package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"tend/playbooks"
)

// showPlaybooks lists the shipped playbooks with their one-line purpose,
// or, given a name, prints that playbook's header.
func showPlaybooks(args []string, stdout io.Writer) error {
	switch len(args) {
	case 0:
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		for _, n := range playbooks.Names() {
			fmt.Fprintf(tw, "%s\t%s\n", n, playbooks.Purpose(n))
		}
		return tw.Flush()
	case 1:
		h, ok := playbooks.Header(args[0])
		if !ok {
			return badInput(fmt.Errorf("playbooks: no shipped playbook %q (shipped: %s)", args[0], strings.Join(playbooks.Names(), ", ")))
		}
		_, err := io.WriteString(stdout, h)
		return err
	default:
		return badInput(fmt.Errorf("playbooks: want at most one NAME, got %d", len(args)))
	}
}
