package runner

import (
	"slices"

	"tend/runner/playbook"
)

// selectTags keeps the tasks --tags (only) and --skip-tags (skip) select,
// with Ansible's rules (ansible-core 2.14 Taggable.evaluate_tags):
//   - no --tags means "all": every task except those tagged never;
//   - a task tagged always runs whatever --tags says, unless --skip-tags
//     names one of its tags (--skip-tags all spares it);
//   - a task tagged never runs only when one of its tags is asked for;
//   - "tagged" and "untagged" select tasks with and without tags.
//
// Skipped-by-tag tasks are not run and not reported, as with Ansible.
func selectTags(tasks []*playbook.Task, only, skip []string) []*playbook.Task {
	if len(only) == 0 && len(skip) == 0 {
		// The common case, all: only never-tagged tasks drop out.
		if !slices.ContainsFunc(playbook.Flatten(tasks), func(t *playbook.Task) bool { return slices.Contains(t.Tags, "never") }) {
			return tasks
		}
	}
	if len(only) == 0 {
		only = []string{"all"}
	}
	var out []*playbook.Task
	for _, t := range tasks {
		if t.Dynamic {
			// An include's tags are its own: it runs when they select it,
			// then its tasks by their own tags (ansible-core's rule; apply:
			// gives them tags).
			if tagsSelect(t.Tags, only, skip) {
				kept := *t
				kept.Block = &playbook.Block{Tasks: selectTags(t.Block.Tasks, only, skip)}
				out = append(out, &kept)
			}
			continue
		}
		if t.Block != nil {
			// A block's tags are its tasks' (the parser gave them): it
			// keeps the tasks selected, and stays if any is.
			b := playbook.Block{Tasks: selectTags(t.Block.Tasks, only, skip),
				Rescue: selectTags(t.Block.Rescue, only, skip), Always: selectTags(t.Block.Always, only, skip)}
			if len(b.Tasks)+len(b.Rescue)+len(b.Always) > 0 {
				kept := *t
				kept.Block = &b
				out = append(out, &kept)
			}
			continue
		}
		if t.Implicit || tagsSelect(t.Tags, only, skip) { // an implicit flush stays, as Ansible's
			out = append(out, t)
		}
	}
	return out
}

// explicit reports whether tasks hold a task the playbook wrote (not
// only the parser's implicit flushes).
func explicit(tasks []*playbook.Task) bool {
	return slices.ContainsFunc(tasks, func(t *playbook.Task) bool { return !t.Implicit })
}

// tagsSelect is evaluate_tags for one task's tags.
func tagsSelect(tags, only, skip []string) bool {
	untagged := len(tags) == 0
	if untagged {
		tags = []string{"untagged"}
	}
	has := func(set []string, tag string) bool { return slices.Contains(set, tag) }
	meets := func(set []string) bool {
		return slices.ContainsFunc(tags, func(tag string) bool { return has(set, tag) })
	}
	run := true
	if len(only) > 0 {
		switch {
		case has(tags, "always"):
		case has(only, "all") && !has(tags, "never"):
		case meets(only):
		case has(only, "tagged") && !untagged && !has(tags, "never"):
		default:
			run = false
		}
	}
	if run && len(skip) > 0 {
		switch {
		case has(skip, "all"):
			if !has(tags, "always") || has(skip, "always") {
				run = false
			}
		case meets(skip):
			run = false
		case has(skip, "tagged") && !untagged:
			run = false
		}
	}
	return run
}
