package runner

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/playbook"
	"tend/runner/template"
)

// sysctlBatchKeys are the arguments a batched sysctl item may have: its
// own name and value, and the rest, which must be the same for every item.
var sysctlBatchKeys = map[string]bool{
	"name": true, "value": true, "file": true, "sysctl_file": true, "reload": true, "state": true, "sysctl_set": true,
}

// sysctlBatch runs a loop of sysctl items as ONE task with a settings map:
// one Check and one Apply (one round trip each, one reload) instead of one
// per item, then reports each item from its key's line of the change. It
// applies only where the result is the same as item by item: no until,
// changed_when, failed_when or pause; every item's arguments are name,
// value and the same file/reload/state/sysctl_set; names distinct. done is
// false when the loop is not batchable (run it item by item); alive is
// false when the host must stop.
func (hp *hostPlay) sysctlBatch(ctx context.Context, t *playbook.Task, items []any, phase Phase, acc *loopAcc) (done, alive bool) {
	l := t.Loop
	if t.Module != "sysctl" || len(t.Until) > 0 || len(t.ChangedWhen) > 0 || len(t.FailedWhen) > 0 || l.Pause > 0 || len(items) < 2 {
		return false, false
	}
	type entry struct {
		label, key, value string
		scope             map[string]any
		skip              string // the when: that was false
	}
	entries := make([]entry, len(items))
	var common string
	var first *yaml.Node
	seen := map[string]bool{}
	defer func() { hp.loopScope, hp.itemName = nil, "" }()
	for i, item := range items {
		e := &entries[i]
		e.scope = loopScope(l, items, i)
		hp.loopScope = e.scope
		e.label = hp.itemLabel(t, item)
		vars := hp.vars(t)
		for _, cond := range t.When {
			ok, err := template.EvalBool(cond, vars)
			if err != nil {
				return false, false // item by item reports it
			}
			if !ok {
				e.skip = cond
				break
			}
		}
		if e.skip != "" {
			continue
		}
		node, err := template.RenderNode(t.Args, vars)
		if err != nil || node == nil || node.Kind != yaml.MappingNode {
			return false, false
		}
		var rest []string
		for j := 0; j+1 < len(node.Content); j += 2 {
			k, v := yamlnode.Resolve(node.Content[j]), yamlnode.Resolve(node.Content[j+1])
			if !sysctlBatchKeys[k.Value] || v.Kind != yaml.ScalarNode || strings.Contains(v.Value, "{{") || strings.Contains(v.Value, "{%") {
				return false, false
			}
			switch k.Value {
			case "name":
				e.key = v.Value
			case "value":
				e.value = v.Value
			case "state":
				if v.Value != "present" {
					return false, false
				}
				fallthrough
			default:
				rest = append(rest, k.Value+"="+v.Tag+":"+v.Value)
			}
		}
		sig := strings.Join(rest, "\x00")
		if e.key == "" || seen[e.key] || (first != nil && sig != common) {
			return false, false
		}
		seen[e.key] = true
		if first == nil {
			first, common = node, sig
		}
	}
	hp.loopScope = nil
	// One task with the settings of every item not skipped, in order.
	settings := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: first.Line, Column: first.Column}
	for _, e := range entries {
		if e.skip == "" {
			settings.Content = append(settings.Content,
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: e.key, Line: first.Line, Column: first.Column},
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: e.value, Line: first.Line, Column: first.Column})
		}
	}
	base := TaskResult{Host: acc.res.Host, Play: acc.res.Play, Task: acc.res.Task, Module: t.Module, Phase: phase}
	var bres TaskResult
	var out outcome
	var data map[string]any
	if len(settings.Content) > 0 {
		args := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: first.Line, Column: first.Column}
		for j := 0; j+1 < len(first.Content); j += 2 {
			if k := first.Content[j].Value; k != "name" && k != "value" {
				args.Content = append(args.Content, first.Content[j], first.Content[j+1])
			}
		}
		args.Content = append(args.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "settings"}, settings)
		bt := *t
		bt.Args, bt.Loop, bt.When, bt.Register = args, nil, nil, ""
		bres = base
		hp.result = nil
		start := time.Now()
		out = hp.execute(ctx, &bt, hp.vars(t), &bres)
		bres.Duration = time.Since(start)
		data = hp.result
		// The file's diff and the task's warnings belong to the whole loop.
		acc.res.Change.Files, acc.res.Change.Warnings = bres.Change.Files, bres.Change.Warnings
	}
	for _, e := range entries {
		ires := base
		ires.Item = e.label
		if e.skip != "" {
			ires.Status, ires.Reason = StatusSkipped, "when: "+e.skip+" is false"
			if !acc.add(ires, map[string]any{"changed": false, "skipped": true}, e.scope, outcomeDone) {
				return true, false
			}
			continue
		}
		idata := map[string]any{"name": e.key, "value": e.value}
		ires.Status, ires.Error, ires.DryRun, ires.Duration = bres.Status, bres.Error, bres.DryRun, bres.Duration
		v, found := valueOf(bres.Change, e.key)
		switch {
		case bres.Status == StatusSkipped:
			ires.Reason = bres.Reason
		case !found && bres.Status != StatusFailed && bres.Status != StatusUnreachable:
			ires.Status, ires.Error = StatusFailed, "no result for "+e.key+" in the batched change"
		case found:
			ires.Change = plan.Change{Action: plan.None, Values: []plan.ValueChange{v}, Failed: v.Status == plan.ValueFailed}
			ires.Change.Summary = e.key + ": " + firstNonEmpty(v.Note, "as wanted")
			switch v.Status {
			case plan.ValueFailed:
				ires.Status = StatusFailed
				ires.Error = firstNonEmpty(bres.Error, fmt.Sprintf("%s is %q, want %q %s", v.Key, v.Before, v.After, v.Note))
			case plan.ValueOK, plan.ValueUnsupported:
				ires.Status, ires.Error, ires.DryRun = StatusOK, "", false
			default: // a change
				ires.Change.Action = bres.Change.Action
				if ires.Change.Action == plan.None || ires.Change.Action == "" {
					ires.Change.Action = plan.Update
				}
				if ires.Status != StatusFailed {
					ires.Status = StatusChanged
				}
			}
		}
		if data != nil {
			maps.Copy(idata, data)
		}
		idata["changed"] = ires.Status == StatusChanged
		idata["failed"] = ires.Status == StatusFailed
		idata["skipped"] = ires.Status == StatusSkipped
		if !acc.add(ires, idata, e.scope, out) {
			return true, false
		}
	}
	return true, true
}

// valueOf finds key's line in a change.
func valueOf(c plan.Change, key string) (plan.ValueChange, bool) {
	for _, v := range c.Values {
		if v.Key == key {
			return v, true
		}
	}
	return plan.ValueChange{}, false
}
