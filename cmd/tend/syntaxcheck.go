package main

import (
	"context"
	"fmt"
	"io"

	"tend/runner"
	"tend/runner/playbook"
)

// syntaxCheck is `tend run --syntax-check`: the playbook is read and
// checked as a run would check it before contacting any host (every
// module's arguments, templates, filters, keywords), and the inventory
// when one is given; nothing runs. As ansible-playbook --syntax-check, it
// prints "playbook: PATH" when all is well.
func syntaxCheck(ctx context.Context, stdout io.Writer, pb *playbook.Playbook, arg string, inventories []string) error {
	if err := runner.Validate(pb); err != nil {
		return badInput(err)
	}
	if len(inventories) > 0 {
		if _, err := loadInventory(ctx, inventories, arg); err != nil {
			return badInput(err)
		}
	}
	fmt.Fprintf(stdout, "playbook: %s\n", arg)
	return nil
}
