package playbook

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// Reuse: import_playbook, import_tasks, include_tasks, include_vars,
// vars_files and roles are all resolved here, at parse time, before any
// host is contacted: the dry run then shows every task. A file name may be
// a template of the variables known before the run (play vars and
// defaults, vars files, role vars and defaults, an include's vars, -e
// extra vars); one that needs a host's variables is refused with its
// position. Each problem in an imported file is positioned in that file.

// reuseState is the part of the parser that follows files across imports.
type reuseState struct {
	pb      *Playbook
	opts    ParseOptions
	baseDir string   // directory of the playbook file being read
	stack   []string // absolute paths of the files being read: a cycle test
	seen    map[string]bool
	cur     *Play            // the play being read
	role    *roleCtx         // role whose files are being read, or nil
	scope   []map[string]any // vars of the includes being read
	done    map[string]bool  // roles already added to the play (run once)
	roleNow []string         // role directories being read: a cycle test
}

// startPlay resets the per-play state.
func (p *parser) startPlay(play *Play) {
	p.cur = play
	p.done = map[string]bool{}
}

// maxFileSize bounds a file a playbook imports (a device or a huge file
// named by mistake must not hang the parse).
const maxFileSize = 16 << 20

// absPath is path made absolute when possible, to compare files.
func absPath(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return filepath.Clean(path)
}

// recordFile adds a file read to the playbook's Files, once.
func (p *parser) recordFile(path string, data []byte) {
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	key := absPath(path)
	if p.seen[key] {
		return
	}
	p.seen[key] = true
	sum := sha256.Sum256(data)
	p.pb.Files = append(p.pb.Files, SourceFile{Path: path, SHA256: hex.EncodeToString(sum[:]), ReadsFacts: MentionsFacts(string(data))})
}

// inFile reads the YAML file path, named at node from, and calls fn with
// its root (nil for an empty file) while the parser positions errors in
// that file. A file already being read is a cycle, refused.
func (p *parser) inFile(path string, from *yaml.Node, field string, fn func(root *yaml.Node)) {
	abs := absPath(path)
	if i := slices.Index(p.stack, abs); i >= 0 {
		chain := make([]string, 0, len(p.stack)-i+1)
		for _, f := range p.stack[i:] {
			chain = append(chain, filepath.Base(f))
		}
		p.Errorf(from, field, "import cycle: %s -> %s", strings.Join(chain, " -> "), filepath.Base(path))
		return
	}
	if st, err := os.Stat(path); err == nil && (!st.Mode().IsRegular() || st.Size() > maxFileSize) {
		p.Errorf(from, field, "cannot read %s: not a regular file of at most %d MiB", path, maxFileSize>>20)
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		p.Errorf(from, field, "cannot read %s: %v", path, unwrapPath(err))
		return
	}
	p.recordFile(path, data)
	if bytes.HasPrefix(data, []byte("$ANSIBLE_VAULT;")) {
		p.Errorf(from, field, "%s is vault-encrypted: not supported by tend (decrypt it, or pass secrets with -e @FILE and secret_vars)", path)
		return
	}
	outer := p.Decoder
	p.Decoder = yamlnode.NewDecoder(path)
	p.stack = append(p.stack, abs)
	defer func() {
		p.stack = p.stack[:len(p.stack)-1]
		outer.Append(p.Decoder.Err())
		p.Decoder = outer
	}()
	root, err := yamlnode.Parse(path, data)
	if err != nil {
		p.Append(err)
		return
	}
	yamlnode.CheckDuplicates(p.Decoder, root)
	if p.Len() > 0 {
		return
	}
	fn(root)
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// knownVars are the variables a file name may use at parse time.
func (p *parser) knownVars() map[string]any {
	v := map[string]any{"playbook_dir": absPath(p.baseDir)}
	if p.cur != nil {
		maps.Copy(v, p.cur.Defaults)
		maps.Copy(v, p.cur.Vars)
	}
	if p.role != nil {
		maps.Copy(v, p.role.vars)
	}
	for _, s := range p.scope {
		maps.Copy(v, s)
	}
	maps.Copy(v, p.opts.ExtraVars)
	return v
}

// fileName reads a file name, rendering a template with knownVars.
func (p *parser) fileName(v *yaml.Node, field, what string) (string, bool) {
	if v.Kind != yaml.ScalarNode || yamlnode.IsNull(v) || strings.TrimSpace(v.Value) == "" {
		p.Errorf(v, field, "must be a file name, not %s", yamlnode.Describe(v))
		return "", false
	}
	s := v.Value
	if !yamlnode.IsTemplateText(s) {
		return s, true
	}
	why := "tend resolves " + what + " before contacting any host, so the name may use only play vars and defaults, vars_files, role vars and -e extra vars, not host or registered variables"
	if p.opts.Render == nil {
		p.Errorf(v, field, "%q is a template; %s, and no renderer was given", s, why)
		return "", false
	}
	// A variable's value may itself be a template ("{{ env }}.yml"), as
	// Ansible renders it: render again, a bounded number of times.
	vars, name := p.knownVars(), s
	for i := 0; i < 10 && yamlnode.IsTemplateText(name); i++ {
		out, err := p.opts.Render(name, vars)
		if err != nil {
			p.Errorf(v, field, "%q: %v; %s", s, err, why)
			return "", false
		}
		name = fmt.Sprint(out)
	}
	if strings.TrimSpace(name) == "" {
		p.Errorf(v, field, "%q renders to an empty file name", s)
		return "", false
	}
	return name, true
}

// findFile returns the first of dirs/name that exists (name itself when
// absolute), or reports where it looked.
func (p *parser) findFile(name string, dirs []string, from *yaml.Node, field, what string) (string, bool) {
	if filepath.IsAbs(name) {
		dirs = []string{""}
	}
	var tried []string
	for _, d := range dirs {
		path := filepath.Join(d, name)
		if slices.Contains(tried, path) {
			continue
		}
		tried = append(tried, path)
		if st, err := os.Stat(path); err == nil && !st.IsDir() {
			return path, true
		}
	}
	p.Errorf(from, field, "%s %q not found (looked for %s)", what, name, strings.Join(tried, ", "))
	return "", false
}

// taskDirs are where a file named in the current file is looked for,
// subs being the role's subdirectories to try first: the role's subs
// (tasks/, or handlers/ then tasks/ for a handler's include; vars/), the
// current file's directory, the role's own directory, the playbook's
// subs[0]/ (in a role), then the playbook's directory — ansible-core's
// path_dwim_relative(role_path, subdir, name, is_role=True) for a role's
// files, after the including file's directory as its walk up the
// includes does; without a role, the current file's and the playbook's
// directories.
func (p *parser) taskDirs(subs ...string) []string {
	var dirs []string
	if p.role != nil {
		for _, s := range subs {
			dirs = append(dirs, filepath.Join(p.role.dir, s))
		}
	}
	dirs = append(dirs, filepath.Dir(p.File()))
	if p.role != nil {
		dirs = append(dirs, p.role.dir, filepath.Join(p.baseDir, subs[0]))
	}
	return append(dirs, p.baseDir)
}

// reuseKeys are the task keys that bring in other files; the FQCN forms
// map to them.
var reuseKeys = map[string]bool{
	"import_tasks": true, "include_tasks": true, "include": true,
	"import_role": true, "include_role": true, "include_vars": true,
}

// reuseKey returns the key node of n that is a reuse key, and its name.
func reuseKey(n *yaml.Node) (*yaml.Node, string) {
	if n.Kind != yaml.MappingNode {
		return nil, ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := yamlnode.Resolve(n.Content[i])
		if k.Kind != yaml.ScalarNode {
			continue
		}
		if name := canonicalModule(k.Value); reuseKeys[name] {
			return k, name
		}
	}
	return nil, ""
}

// inheritedKeys are the keywords an import (or a role entry) passes to
// its tasks.
var inheritedKeys = map[string]bool{
	"name": true, "when": true, "tags": true, "vars": true, "become": true,
	"become_user": true, "no_log": true, "check_mode": true, "ignore_errors": true,
	"environment": true, "any_errors_fatal": true, "remote_user": true,
	"delegate_to": true, "delegate_facts": true, // ansible-core's Task and Role both take them
}

// reuse reads a task that imports or includes others: it returns the
// tasks it stands for, in place (an import), or the include task holding
// them (include_tasks, include_role: Task.Dynamic).
func (p *parser) reuse(n, key *yaml.Node, kind, path string, handler bool) []*Task {
	inc := &Task{Pos: yamlnode.PosOf(p.File(), n), Field: path, KeyPos: map[string]Pos{}, Module: kind, ModulePos: yamlnode.PosOf(p.File(), key)}
	// In handlers an include stays flat (its keywords given to its tasks).
	dynamic := !handler && (kind == "include_tasks" || kind == "include" || kind == "include_role")
	valid := inheritedKeys
	if dynamic {
		valid = dynamicKeys
	}
	var arg *yaml.Node
	var firstFound *firstFoundList // include_vars' with_first_found
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := yamlnode.Resolve(n.Content[i]), yamlnode.Resolve(n.Content[i+1])
		if k == key {
			arg = v
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.Errorf(k, path, "task keys must be strings, not %s", yamlnode.Describe(k))
			continue
		}
		field := yamlnode.JoinPath(path, k.Value)
		switch {
		case valid[k.Value] || (kind == "include_vars" && taskKeySet[k.Value]):
			inc.KeyPos[k.Value] = yamlnode.PosOf(p.File(), v)
			p.keyword(inc, k, v, field, handler)
		case dynamic && inheritedKeys[k.Value]:
			p.Errorf(k, field, "%q is not valid on %s (ansible-core refuses it too); give it to the included tasks with apply: {%s: ...}", k.Value, kind, k.Value)
		case kind == "include_vars" && k.Value == "with_first_found":
			inc.KeyPos["loop"] = yamlnode.PosOf(p.File(), v)
			firstFound = p.firstFound(v, field)
		case dynamic && p.loopKeyword(inc, k, v, field): // include.go: once per item
			inc.KeyPos["loop"] = yamlnode.PosOf(p.File(), v)
		case dynamic && k.Value == "loop_control":
			inc.KeyPos[k.Value] = yamlnode.PosOf(p.File(), v)
			p.loopControl(inc, v, field)
		case dynamic && k.Value == "run_once":
			p.Errorf(k, field, "run_once on %s is not supported by tend (ansible-core includes the file for the first host only); give run_once to the included tasks, or when: inventory_hostname == ansible_play_batch[0] to the include", kind)
		case k.Value == "loop" || k.Value == "loop_control" || strings.HasPrefix(k.Value, "with_"):
			p.Errorf(k, field, "a loop over %s is not supported; loop inside the imported tasks instead, or use include_tasks", kind)
		default:
			p.Errorf(k, field, "%q is not valid on %s (valid: %s)", k.Value, kind, strings.Join(slices.Sorted(maps.Keys(valid)), ", "))
		}
	}
	p.checkLoop(inc, n, path)
	field := yamlnode.JoinPath(path, key.Value)
	var tasks []*Task
	var apply *yaml.Node // include_tasks' or include_role's apply:
	p.scope = append(p.scope, inc.Vars)
	defer func() { p.scope = p.scope[:len(p.scope)-1] }()
	switch kind {
	case "include_vars":
		if vars, ok := p.includeVars(inc, arg, field, firstFound); ok {
			inc.IncludeVars = vars
			return []*Task{inc}
		}
		return nil
	case "import_role", "include_role":
		ref, tasksFrom, ok := p.roleArg(arg, field, kind)
		if !ok {
			return nil
		}
		apply = ref.apply
		ref.public = ref.public || kind == "import_role"
		var handlers []*Task
		tasks, handlers = p.loadRole(ref, tasksFrom, false)
		// Handlers get the entry's vars, not its conditions.
		inherit(&Task{Vars: inc.Vars, VarNames: inc.VarNames}, handlers)
		p.cur.Handlers = append(p.cur.Handlers, handlers...)
	default: // import_tasks, include_tasks, include
		fileNode := arg
		if arg.Kind == yaml.MappingNode && kind != "import_tasks" {
			fileNode = nil
			for i := 0; i+1 < len(arg.Content); i += 2 {
				k := yamlnode.Resolve(arg.Content[i])
				switch {
				case k.Value == "file":
					fileNode = yamlnode.Resolve(arg.Content[i+1])
				case k.Value == "apply" && dynamic:
					apply = yamlnode.Resolve(arg.Content[i+1])
				default:
					p.Errorf(k, yamlnode.JoinPath(field, k.Value), "unsupported %s option (tend takes file, apply)", kind)
				}
			}
			if fileNode == nil {
				p.Errorf(arg, field, "needs file")
				return nil
			}
		}
		if dynamic && fileNode.Kind == yaml.ScalarNode && p.needsHost(fileNode.Value, inc) {
			// Read per host when it runs (deferred.go); apply: checked now.
			p.applyKeywords(apply, yamlnode.JoinPath(field, "apply"), nil)
			p.deferTasks(inc, fileNode, apply, field)
			inc.Module = "include_tasks"
			return []*Task{inc}
		}
		name, ok := p.fileName(fileNode, field, kind)
		if !ok {
			return nil
		}
		subs := []string{"tasks"}
		if handler {
			subs = []string{"handlers", "tasks"}
		}
		file, ok := p.findFile(name, p.taskDirs(subs...), fileNode, field, "task file")
		if !ok {
			return nil
		}
		tasks = p.taskFile(file, fileNode, field, handler)
		if handler && kind != "import_tasks" {
			// Ansible reports a dynamic include as a task of its own
			// ("included: FILE"), counted ok: so does tend, changing nothing.
			marker := *inc
			marker.Module, marker.IncludeVars = "include_tasks", map[string]any{}
			inherit(inc, tasks)
			// Notifying the include runs its tasks: they listen to its
			// name (and, in a role, to "ROLE : name").
			if inc.Name != "" {
				for _, t := range tasks {
					t.Listen = append(t.Listen, inc.Name)
					if p.role != nil {
						t.Listen = append(t.Listen, filepath.Base(p.role.dir)+" : "+inc.Name)
					}
				}
			}
			return append([]*Task{&marker}, tasks...)
		}
	}
	if !dynamic {
		inherit(inc, tasks)
		return tasks
	}
	// A dynamic include: its tasks get its vars and what apply: gives,
	// not its when, tags, no_log nor ignore_errors (ansible-core skips a
	// dynamic include when its tasks look up their parents' keywords).
	p.applyKeywords(apply, yamlnode.JoinPath(field, "apply"), tasks)
	inherit(&Task{Vars: inc.Vars, VarNames: inc.VarNames}, tasks)
	if kind == "include" {
		inc.Module = "include_tasks"
	}
	inc.Dynamic, inc.Block = true, &Block{Tasks: tasks}
	return []*Task{inc}
}

// taskFile reads a file holding a list of tasks.
func (p *parser) taskFile(file string, from *yaml.Node, field string, handler bool) []*Task {
	var out []*Task
	section := "tasks"
	if handler {
		section = "handlers"
	}
	p.inFile(file, from, field, func(root *yaml.Node) {
		if root == nil {
			return
		}
		out = p.tasks(root, section, handler)
	})
	return out
}

// importPlaybookKey returns n's import_playbook key, or nil.
func importPlaybookKey(n *yaml.Node) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := yamlnode.Resolve(n.Content[i])
		if k.Kind == yaml.ScalarNode && canonicalModule(k.Value) == "import_playbook" {
			return k
		}
	}
	return nil
}

// importPlaybook reads the plays of another playbook in place. Its roles/
// and relative names are looked up beside it, as Ansible does.
func (p *parser) importPlaybook(n, key *yaml.Node) {
	var arg *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := yamlnode.Resolve(n.Content[i]), yamlnode.Resolve(n.Content[i+1])
		switch {
		case k == key:
			arg = v
		case k.Value == "name":
			p.str(v, "name")
		default:
			p.Errorf(k, k.Value, "%q is not supported on import_playbook (only name)", k.Value)
		}
	}
	p.cur = nil
	name, ok := p.fileName(arg, key.Value, "import_playbook")
	if !ok {
		return
	}
	file, ok := p.findFile(name, []string{filepath.Dir(p.File())}, arg, key.Value, "playbook")
	if !ok {
		return
	}
	outerBase := p.baseDir
	p.baseDir = filepath.Dir(file)
	defer func() { p.baseDir = outerBase }()
	p.inFile(file, arg, key.Value, func(root *yaml.Node) {
		switch {
		case root == nil:
			p.ErrorfAt(Pos{File: file, Line: 1, Col: 1}, "", "imported playbook is empty; expected a list of plays")
		case root.Kind != yaml.SequenceNode:
			p.Errorf(root, "", "a playbook must be a list of plays, not %s", yamlnode.Describe(root))
		default:
			p.plays(root)
		}
	})
}

// SourceHash is the hex SHA-256 that binds a saved plan to the playbook:
// of the playbook's bytes when it is one file, else of every file read
// (its hash and its path relative to the playbook's directory, in the
// order read), so that a change to any of them is seen.
func (pb *Playbook) SourceHash() string {
	if len(pb.Files) == 1 {
		return pb.Files[0].SHA256
	}
	h := sha256.New()
	dir := filepath.Dir(pb.File)
	for _, f := range pb.Files {
		rel, err := filepath.Rel(dir, f.Path)
		if err != nil {
			rel = f.Path
		}
		fmt.Fprintf(h, "%s  %s\n", f.SHA256, filepath.ToSlash(rel))
	}
	return hex.EncodeToString(h.Sum(nil))
}
