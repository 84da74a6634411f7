package playbook

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// Deferred is the file of an include_tasks or include_vars whose name
// needs a host's data ("{{ ansible_os_family }}.yml", "{{ item }}.yml",
// a first_found lookup): Ansible resolves it per host when the include
// runs, and so does the runner, with Names and Load. A name that
// needs only variables known before the run is resolved by the parser
// instead, its file read and checked before any host is contacted.
type Deferred struct {
	// Names are the candidate file names, templates rendered per host;
	// the first that exists is read (one name, or first_found's list).
	Names []string
	// Pos is where the name is given, for errors.
	Pos Pos
	// Field names the include's file in errors ("tasks[2].include_vars").
	Field string
	// Known are the variables known before the run where the include
	// stands (play vars and defaults, role vars, include vars, -e), and
	// LoopVars the include's loop variables: with them the runner checks,
	// before any host, that every variable the name uses may be defined.
	Known    map[string]any
	LoopVars []string
	// Skip, for a first_found lookup with skip: true, makes no file found
	// do nothing instead of failing.
	Skip bool
	load func(names []string) (string, any, error)
	// inherits give the tasks read what the blocks, imports and role
	// entries around the include give, innermost first.
	inherits []func([]*Task)
	mu       sync.Mutex
	seen     map[string]loaded
}

// loaded is what one distinct file gave: tasks or variables, or an error.
type loaded struct {
	path string
	val  any
	err  error
}

// Load reads the first existing file of names (already rendered for the
// host): for an include_tasks its tasks ([]*Task, checked as the parser
// checks a playbook's, errors positioned in that file), for an
// include_vars its variables (map[string]any). Each distinct list of names
// is read once per run. It returns the file's path.
func (d *Deferred) Load(names []string) (string, any, error) {
	key := strings.Join(names, "\x00")
	d.mu.Lock()
	defer d.mu.Unlock()
	if l, ok := d.seen[key]; ok {
		return l.path, l.val, l.err
	}
	path, v, err := d.load(names)
	if d.seen == nil {
		d.seen = map[string]loaded{}
	}
	d.seen[key] = loaded{path, v, err}
	return path, v, err
}

// templateRE finds the variable names a template's expressions use.
var templateRE = regexp.MustCompile(`\{\{(.*?)\}\}`)

// needsHost reports whether the file name s must wait for the host: it
// uses the include's loop variable, or a variable unknown before the run.
func (p *parser) needsHost(s string, inc *Task) bool {
	if !strings.Contains(s, "{{") {
		return false
	}
	if inc.Loop != nil {
		for _, m := range templateRE.FindAllStringSubmatch(s, -1) {
			for _, w := range regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`).FindAllString(m[1], -1) {
				if w == inc.Loop.LoopVar || w == inc.Loop.IndexVar || w == "ansible_loop" {
					return true
				}
			}
		}
	}
	if p.opts.Render == nil {
		return true
	}
	_, err := p.opts.Render(s, p.knownVars())
	return err != nil
}

// snapshot is a parser that reads, at run time, files named from where p
// stands now: the same play, role, include scope and directories.
func (p *parser) snapshot() func() *parser {
	file, play, role := p.File(), p.cur, p.role
	scope, stack := slices.Clone(p.scope), slices.Clone(p.stack)
	base, opts, mods, names, any := p.baseDir, p.opts, p.modules, p.moduleNames, p.acceptAny
	return func() *parser {
		q := &parser{Decoder: yamlnode.NewDecoder(file), modules: mods, moduleNames: names, acceptAny: any}
		q.pb, q.opts, q.baseDir, q.role, q.scope, q.stack = &Playbook{File: file}, opts, base, role, scope, stack
		if play != nil {
			cp := *play // a role included there must not add handlers to the running play
			cp.Handlers = slices.Clone(play.Handlers)
			q.cur = &cp
		}
		q.done = map[string]bool{}
		return q
	}
}

// deferTasks makes inc an include_tasks whose file is read per host: the
// tasks found get inc's vars and apply: keywords, as the parser gives
// them to a file it reads.
func (p *parser) deferTasks(inc *Task, fileNode, apply *yaml.Node, field string) {
	newParser, dirsOf := p.snapshot(), p.taskDirs("tasks")
	incVars := &Task{Vars: inc.Vars, VarNames: inc.VarNames}
	inc.Dynamic, inc.Block = true, &Block{}
	inc.Deferred = &Deferred{Names: []string{fileNode.Value}, Pos: yamlnode.PosOf(p.File(), fileNode), Field: field, Known: p.knownVars(), LoopVars: loopVars(inc)}
	inc.Deferred.load = func(names []string) (string, any, error) {
		q := newParser()
		path, ok := q.findFile(names[0], dirsOf, fileNode, field, "task file")
		if !ok {
			return "", nil, q.Err()
		}
		tasks := q.taskFile(path, fileNode, field, false)
		q.applyKeywords(apply, yamlnode.JoinPath(field, "apply"), tasks)
		inherit(incVars, tasks)
		for _, in := range inc.Deferred.inherits {
			in(tasks)
		}
		if err := q.Err(); err != nil {
			return path, nil, err
		}
		if q.opts.Check != nil {
			// File's directory is the playbook's: where the tasks' source
			// files are looked for last (runner.Validate).
			pb := &Playbook{File: filepath.Join(q.baseDir, filepath.Base(q.pb.File)), Plays: []*Play{{Name: "include", Tasks: tasks}}}
			if q.cur != nil {
				cp := *q.cur
				cp.Tasks, cp.Handlers = tasks, nil
				pb.Plays[0] = &cp
			}
			if err := q.opts.Check(pb); err != nil {
				return path, nil, err
			}
		}
		return path, tasks, nil
	}
}

// deferVars makes inc an include_vars whose file is chosen per host: the
// first of names found in the vars directories, its variables under name
// when one is given.
func (p *parser) deferVars(inc *Task, names []string, from *yaml.Node, field, name string, skip bool) {
	newParser := p.snapshot()
	// As Ansible's search path: each directory's vars/ before itself.
	var dirs []string
	for _, d := range p.taskDirs("vars") {
		if p.role == nil || d != filepath.Join(p.role.dir, "vars") {
			dirs = append(dirs, filepath.Join(d, "vars"))
		}
		dirs = append(dirs, d)
	}
	dirs = slices.Compact(dirs)
	inc.Deferred = &Deferred{Names: names, Pos: yamlnode.PosOf(p.File(), from), Skip: skip, Field: field, Known: p.knownVars(), LoopVars: loopVars(inc)}
	inc.Deferred.load = func(names []string) (string, any, error) {
		q := newParser()
		for _, n := range names {
			path, ok := q.findFile(n, dirs, from, field, "vars file")
			if !ok {
				continue
			}
			q.Decoder = yamlnode.NewDecoder(q.pb.File) // the misses were not errors
			vars, _ := q.readVars(path, from, field)
			if err := q.Err(); err != nil {
				return path, nil, err
			}
			out := maps.Clone(vars)
			if out == nil {
				out = map[string]any{}
			}
			if name != "" {
				out = map[string]any{name: out}
			}
			return path, out, nil
		}
		if skip {
			return "", map[string]any{}, nil
		}
		return "", nil, fmt.Errorf("%s: %s: no vars file found among %s (looked in %s)", inc.Deferred.Pos, field, strings.Join(names, ", "), strings.Join(dirs, ", "))
	}
}

// loopVars are the variables an include's loop binds.
func loopVars(inc *Task) []string {
	if inc.Loop == nil {
		return nil
	}
	out := []string{inc.Loop.LoopVar, "ansible_loop"}
	if inc.Loop.IndexVar != "" {
		out = append(out, inc.Loop.IndexVar)
	}
	return out
}
