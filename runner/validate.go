package runner

import (
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/runner/modules"
	"tend/runner/playbook"
	"tend/runner/template"
)

// Validate checks every task's module arguments, expressions and
// templates before any host is contacted, so a typo fails the run at once
// with its position. It reports every problem, not the first per task: a
// *playbook.Error for one, a playbook.Errors sorted by position for several.
func Validate(pb *playbook.Playbook) error {
	var errs playbook.Errors
	pbDir := ""
	if pb.File != "" {
		pbDir, _ = filepath.Abs(filepath.Dir(pb.File))
	}
	// add keeps a positioned error's position, positions any other at
	// the task's module, and puts the task's path before the field.
	add := func(t *playbook.Task, err error) {
		var found playbook.Errors
		if !found.Append(err) {
			found = playbook.Errors{{Pos: t.ModulePos, Field: t.Module, Msg: err.Error()}}
		}
		for _, e := range found {
			e.Field = taskField(t, e.Field)
		}
		errs = append(errs, found...)
	}
	check := func(tasks []*playbook.Task) {
		for _, t := range playbook.Flatten(tasks) {
			if t.Block != nil && !t.Dynamic {
				continue // its tasks are checked one by one
			}
			if t.Dynamic || t.IncludeVars != nil || t.Module == "include_vars" {
				// include_vars: read by the parser; hostPlay.includeVars gives them.
				// An include's tasks are checked one by one.
			} else if spec, ok := modules.Lookup(t.Module); !ok {
				add(t, &playbook.Error{Pos: t.ModulePos, Field: t.Module, Msg: "unknown module"})
			} else if _, err := spec.New(modules.Args{Node: t.Args, File: t.Pos.File, SearchPath: stringList(searchPath(t, pbDir)), BaseDir: pbDir}); err != nil {
				add(t, err)
			}
			for _, f := range []struct {
				name  string
				conds []string
			}{{"when", t.When}, {"changed_when", t.ChangedWhen}, {"failed_when", t.FailedWhen}, {"until", t.Until}} {
				for _, c := range f.conds {
					if err := template.Check(c); err != nil {
						pos, ok := t.KeyPos[f.name]
						if !ok {
							pos = t.Pos
						}
						add(t, &playbook.Error{Pos: pos, Field: "." + f.name, Msg: err.Error()})
					}
				}
			}
			for _, k := range [][2]string{{"retries", t.RetriesTemplate}, {"delay", t.DelayTemplate}, {"async", t.Async}, {"poll", t.Poll}, {"throttle", t.ThrottleTemplate}} {
				if err := template.CheckTemplate(k[1]); k[1] != "" && err != nil {
					add(t, &playbook.Error{Pos: t.KeyPos[k[0]], Field: "." + k[0], Msg: err.Error()})
				}
			}
			for _, k := range playbook.TemplatedBools { // booltmpl.go: rendered per host
				if tmpl, ok := t.BoolTemplates[k]; ok {
					if err := template.CheckTemplate(tmpl); err != nil {
						add(t, &playbook.Error{Pos: t.KeyPos[k], Field: "." + k, Msg: err.Error()})
					}
				}
			}
			for _, e := range t.Environment {
				if err := template.CheckTemplate(e.Value); e.Name == "" && err != nil {
					add(t, &playbook.Error{Pos: t.KeyPos["environment"], Field: ".environment", Msg: err.Error()})
				}
			}
			add(t, checkTemplates(t.Pos.File, t.Args))
			for _, m := range t.Metrics {
				if err := checkMetric(m); err != nil {
					add(t, &playbook.Error{Pos: m.Pos, Field: ".metrics." + m.Name, Msg: err.Error()})
				}
			}
			if t.Loop != nil {
				add(t, checkTemplates(t.Pos.File, t.Loop.Value))
				if err := template.CheckTemplate(t.Loop.Label); err != nil {
					add(t, &playbook.Error{Pos: t.KeyPos["loop_control"], Field: ".loop_control.label", Msg: err.Error()})
				}
			}
		}
	}
	for _, p := range pb.Plays {
		if err := template.CheckTemplate(p.RemoteUser); err != nil {
			errs = append(errs, &playbook.Error{Pos: p.RemoteUserPos, Field: "remote_user", Msg: err.Error()})
		}
		for _, e := range p.Environment {
			if err := template.CheckTemplate(e.Value); e.Name == "" && err != nil {
				errs = append(errs, &playbook.Error{Pos: p.Pos, Field: "environment", Msg: err.Error()})
			}
		}
		for _, m := range p.Metrics {
			if err := checkMetric(m); err != nil {
				errs = append(errs, &playbook.Error{Pos: m.Pos, Field: "metrics." + m.Name, Msg: err.Error()})
			}
		}
		if p.GatherSubset != nil {
			check([]*playbook.Task{gatherTask(p)}) // facts.go
		}
		check(p.Tasks)
		check(p.Handlers)
		check(p.Verify)
		for _, e := range p.Serial {
			if err := template.CheckTemplate(e); err != nil {
				errs = append(errs, &playbook.Error{Pos: p.Pos, Field: "serial", Msg: err.Error()})
			}
		}
	}
	return errs.Err()
}

// taskField is the path of a field of t's module for messages:
// "tasks[2].sysctl.reload". A field starting with "." is one of the task's
// keywords ("tasks[2].when").
func taskField(t *playbook.Task, field string) string {
	prefix := t.Field
	if prefix == "" {
		prefix = "task " + strconv.Quote(t.DisplayName())
	}
	switch {
	case strings.HasPrefix(field, "."):
		return prefix + field
	case field == "" || field == t.Module:
		return prefix + "." + t.Module
	}
	return prefix + "." + t.Module + "." + field
}

// checkTemplates compiles every {{ }} in a module's arguments, so a syntax
// error is reported with its position before any host is contacted.
func checkTemplates(file string, n *yaml.Node) error {
	var errs playbook.Errors
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil {
			return
		}
		if n.Kind == yaml.ScalarNode {
			if err := template.CheckTemplate(n.Value); err != nil {
				errs = append(errs, &playbook.Error{Pos: templatePos(file, n, err), Msg: err.Error()})
			}
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return errs.Err()
}

// templatePos places a template's error at the line of its tag: a block
// scalar's text starts on the line after its indicator (| or >).
func templatePos(file string, n *yaml.Node, err error) playbook.Pos {
	pos := playbook.Pos{File: file, Line: n.Line, Col: n.Column}
	line := template.ErrorLine(err)
	switch {
	case line <= 0:
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		pos.Line += line
	default:
		pos.Line += line - 1
	}
	return pos
}
