package playbook

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
)

// Roles, as Ansible lays them out: a directory NAME found in roles/ beside
// the playbook, then in each directory of ParseOptions.RolesPath, then
// beside the playbook itself (a name with a "/" is a path from the
// playbook's directory); NAMESPACE.COLLECTION.ROLE in a collection's
// roles/ (ParseOptions.CollectionsPath). In it: tasks/main.yml (or tasks_from), handlers/
// main.yml (added to the play's handlers, before its own), defaults/
// main.yml (the play's defaults: lowest precedence), vars/main.yml (given
// to the role's tasks above play vars, with the entry's parameters,
// role_path and role_name), meta/main.yml (dependencies: roles run first).
// A role named in roles: or as a dependency runs once per play for the
// same parameters, as in Ansible; a role that depends on itself is refused.

// roleCtx is the role whose files are being read.
type roleCtx struct {
	dir  string
	vars map[string]any // role vars, parameters, role_path, role_name
	// chain is the role's absolute directory, then those of the roles
	// it was loaded from (as a dependency, or by import_role or
	// include_role in their tasks), outwards: Ansible's dependency chain,
	// reversed, that a task's search path starts with.
	chain []string
	// collection is the role's collection ("ns.coll") when it was found
	// in one: a plain role name in its files is looked for there first.
	collection string
}

// roleRef is a role as a play or a task names it.
type roleRef struct {
	nameNode *yaml.Node
	field    string
	ctl      *Task // keywords of the entry (when, tags, become...) for its tasks
	params   map[string]any
	names    []string
	// public gives the role's vars/ to the whole play, as Ansible does
	// for roles:, their dependencies and import_role (include_role only
	// with public: true); its parameters stay the role's.
	public bool
	// apply is include_role's apply: (keywords for the role's tasks), or nil.
	apply *yaml.Node
}

// roles reads a play's roles: list; their tasks run before the play's.
func (p *parser) roles(play *Play, v *yaml.Node) {
	if yamlnode.IsNull(v) {
		return
	}
	if v.Kind != yaml.SequenceNode {
		p.Errorf(v, "roles", "must be a list of roles, not %s", yamlnode.Describe(v))
		return
	}
	for i, item := range v.Content {
		ref, ok := p.roleEntry(yamlnode.Resolve(item), yamlnode.IndexPath("roles", i))
		if !ok {
			continue
		}
		tasks, handlers := p.loadRole(ref, "", true)
		inherit(ref.ctl, tasks)
		play.Tasks = append(play.Tasks, tasks...)
		play.Handlers = append(play.Handlers, handlers...)
	}
}

// roleEntry reads one entry of roles:: a name, or a mapping with role (or
// name), vars, task keywords, and other keys as the role's parameters.
func (p *parser) roleEntry(n *yaml.Node, field string) (roleRef, bool) {
	ref := roleRef{field: field, ctl: &Task{KeyPos: map[string]Pos{}}, params: map[string]any{}, public: true}
	if n.Kind == yaml.ScalarNode {
		ref.nameNode = n
		return ref, true
	}
	if n.Kind != yaml.MappingNode {
		p.Errorf(n, field, "a role must be a name or a mapping with role:, not %s", yamlnode.Describe(n))
		return ref, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := yamlnode.Resolve(n.Content[i]), yamlnode.Resolve(n.Content[i+1])
		f := yamlnode.JoinPath(field, k.Value)
		switch {
		case k.Value == "role" || k.Value == "name":
			ref.nameNode = v
		case k.Value == "vars":
			vars, names := p.vars(v, f)
			for _, name := range names {
				ref.addParam(name, vars[name])
			}
		case k.Value != "name" && inheritedKeys[k.Value]:
			ref.ctl.KeyPos[k.Value] = yamlnode.PosOf(p.File(), v)
			p.keyword(ref.ctl, k, v, f, false)
		case isIdentifier(k.Value):
			ref.addParam(k.Value, p.OrderedValue(v, f))
		default:
			p.Errorf(k, f, "unknown role entry key %q", k.Value)
		}
	}
	if ref.nameNode == nil {
		p.Errorf(n, field, "a role entry needs role: NAME")
		return ref, false
	}
	return ref, true
}

func (r *roleRef) addParam(name string, v any) {
	if _, ok := r.params[name]; !ok {
		r.names = append(r.names, name)
	}
	r.params[name] = v
}

// roleArg reads the argument of import_role / include_role.
func (p *parser) roleArg(arg *yaml.Node, field, kind string) (roleRef, string, bool) {
	ref := roleRef{field: field, ctl: &Task{KeyPos: map[string]Pos{}}, params: map[string]any{}}
	if arg.Kind != yaml.MappingNode {
		p.Errorf(arg, field, "must be a mapping with name: (and tasks_from:), not %s", yamlnode.Describe(arg))
		return ref, "", false
	}
	tasksFrom := ""
	for i := 0; i+1 < len(arg.Content); i += 2 {
		k, v := yamlnode.Resolve(arg.Content[i]), yamlnode.Resolve(arg.Content[i+1])
		f := yamlnode.JoinPath(field, k.Value)
		switch k.Value {
		case "name":
			ref.nameNode = v
		case "tasks_from":
			if name, ok := p.fileName(v, f, "tasks_from"); ok {
				tasksFrom = name
			}
		case "public":
			ref.public = p.boolean(v, f)
		case "allow_duplicates":
			p.boolean(v, f) // import_role and include_role run the role again anyway
		case "apply":
			if kind != "include_role" {
				p.Errorf(k, f, "apply is only valid on include_role")
				continue
			}
			ref.apply = v
		default:
			p.Errorf(k, f, "unsupported role option (tend takes name, tasks_from, public, allow_duplicates, apply)")
		}
	}
	if ref.nameNode == nil {
		p.Errorf(arg, field, "needs name: the role")
		return ref, "", false
	}
	return ref, tasksFrom, true
}

// fqcrRE is ansible-core's VALID_FQCR_RE: NAMESPACE.COLLECTION.RESOURCE,
// with optional subdirectories before the resource.
var fqcrRE = regexp.MustCompile(`^\w+(\.\w+){2,}$`)

// collectionRole is where a role of collection coll ("ns.coll") named
// resource ("role", or "sub.role") would be under each collections root:
// the playbook's collections/, then CollectionsPath.
func (p *parser) collectionRole(coll, resource string) []string {
	ns, name, _ := strings.Cut(coll, ".")
	rel := filepath.Join(append([]string{"ansible_collections", ns, name, "roles"}, strings.Split(resource, ".")...)...)
	var dirs []string
	for _, root := range append([]string{filepath.Join(p.baseDir, "collections")}, p.opts.CollectionsPath...) {
		dirs = append(dirs, filepath.Join(root, rel))
	}
	return dirs
}

// findRole returns the directory of the named role, and its collection
// ("ns.coll") when it was found in one.
func (p *parser) findRole(name string, from *yaml.Node, field string) (string, string, bool) {
	// Ansible's order (RoleDefinition._load_role_path): a collection's
	// role first — NAMESPACE.COLLECTION.ROLE, or a plain name from a role
	// of a collection, in that collection —; then, for a plain name and
	// for a path such as patroni/config alike, the playbook's roles/, the
	// roles path, beside the role that needs it, the playbook's dir.
	type cand struct{ dir, coll string }
	var cands []cand
	if filepath.IsAbs(name) {
		cands = []cand{{dir: name}}
	} else {
		if fqcrRE.MatchString(name) {
			parts := strings.SplitN(name, ".", 3)
			coll := parts[0] + "." + parts[1]
			for _, d := range p.collectionRole(coll, parts[2]) {
				cands = append(cands, cand{d, coll})
			}
		} else if p.role != nil && p.role.collection != "" && !strings.Contains(name, "/") {
			for _, d := range p.collectionRole(p.role.collection, name) {
				cands = append(cands, cand{d, p.role.collection})
			}
		}
		cands = append(cands, cand{dir: filepath.Join(p.baseDir, "roles", name)})
		for _, d := range p.opts.RolesPath {
			cands = append(cands, cand{dir: filepath.Join(d, name)})
		}
		if p.role != nil { // a dependency: beside the role that needs it
			cands = append(cands, cand{dir: filepath.Join(filepath.Dir(p.role.dir), name)})
		}
		cands = append(cands, cand{dir: filepath.Join(p.baseDir, name)})
	}
	var dirs []string
	for _, c := range cands {
		if st, err := os.Stat(c.dir); err == nil && st.IsDir() {
			return c.dir, c.coll, true
		}
		if !slices.Contains(dirs, c.dir) {
			dirs = append(dirs, c.dir)
		}
	}
	origin := ""
	if p.opts.RolesPathOrigin != "" {
		origin = "; the roles path is " + p.opts.RolesPathOrigin
	}
	p.Errorf(from, field, "role %q not found (looked in %s%s)", name, strings.Join(dirs, ", "), origin)
	return "", "", false
}

// mainFile is dir/sub/base with the first extension that exists, or "".
func mainFile(dir, sub, base string) string {
	for _, ext := range []string{".yml", ".yaml", ".json", ""} {
		path := filepath.Join(dir, sub, base+ext)
		if st, err := os.Stat(path); err == nil && !st.IsDir() {
			return path
		}
	}
	return ""
}

// loadRole reads a role: its dependencies' tasks and handlers, then its
// own. once skips a role already added to the play with the same
// parameters.
func (p *parser) loadRole(ref roleRef, tasksFrom string, once bool) (tasks, handlers []*Task) {
	name, ok := p.fileName(ref.nameNode, ref.field, "roles")
	if !ok {
		return nil, nil
	}
	dir, coll, ok := p.findRole(name, ref.nameNode, ref.field)
	if !ok {
		return nil, nil
	}
	if slices.Contains(p.roleNow, absPath(dir)) {
		p.Errorf(ref.nameNode, ref.field, "role dependency cycle: role %q depends on itself", name)
		return nil, nil
	}
	key := absPath(dir) + "\x00" + tasksFrom + "\x00" + paramKey(ref)
	if once && p.done[key] {
		return nil, nil
	}
	p.done[key] = true
	p.roleNow = append(p.roleNow, absPath(dir))
	outer := p.role
	defer func() {
		p.roleNow = p.roleNow[:len(p.roleNow)-1]
		p.role = outer
	}()
	ctx := &roleCtx{dir: dir, vars: map[string]any{}, chain: []string{absPath(dir)}, collection: coll}
	if outer != nil {
		ctx.chain = append(ctx.chain, outer.chain...)
	}
	if f := mainFile(dir, "defaults", "main"); f != "" {
		vars, names := p.readVars(f, ref.nameNode, ref.field)
		if p.cur.Defaults == nil {
			p.cur.Defaults = map[string]any{}
		}
		for _, k := range names {
			if _, ok := p.cur.Defaults[k]; !ok {
				p.cur.DefaultNames = append(p.cur.DefaultNames, k)
			}
			p.cur.Defaults[k] = vars[k]
		}
	}
	if f := mainFile(dir, "vars", "main"); f != "" {
		vars, names := p.readVars(f, ref.nameNode, ref.field)
		maps.Copy(ctx.vars, vars)
		if ref.public {
			if p.cur.Vars == nil {
				p.cur.Vars = map[string]any{}
			}
			for _, k := range names {
				if _, ok := p.cur.Vars[k]; !ok {
					p.cur.VarNames = append(p.cur.VarNames, k)
				}
				p.cur.Vars[k] = vars[k]
			}
		}
	}
	maps.Copy(ctx.vars, ref.params)
	ctx.vars["role_path"] = absPath(dir)
	ctx.vars["role_name"] = filepath.Base(dir)
	p.role = ctx
	if f := mainFile(dir, "meta", "main"); f != "" {
		t, h := p.roleDeps(f, ref)
		tasks, handlers = append(tasks, t...), append(handlers, h...)
		p.role = ctx
	}
	var own, ownHandlers []*Task
	from := "main"
	if tasksFrom != "" {
		from = strings.TrimSuffix(strings.TrimSuffix(tasksFrom, ".yml"), ".yaml")
	}
	if f := mainFile(dir, "tasks", from); f != "" {
		own = p.taskFile(f, ref.nameNode, ref.field, false)
	} else if tasksFrom != "" {
		p.Errorf(ref.nameNode, ref.field, "role %q has no tasks file %q (looked in %s)", name, tasksFrom, filepath.Join(dir, "tasks"))
	}
	// A role's handlers are the play's, once, however often it runs.
	if f := mainFile(dir, "handlers", "main"); f != "" && !p.done["handlers\x00"+absPath(dir)] {
		p.done["handlers\x00"+absPath(dir)] = true
		ownHandlers = p.taskFile(f, ref.nameNode, ref.field, true)
	}
	scope := &Task{Vars: ctx.vars, VarNames: slices.Sorted(maps.Keys(ctx.vars))}
	inherit(scope, own)
	inherit(scope, ownHandlers)
	for _, h := range ownHandlers {
		if h.Name != "" { // Ansible's "ROLE : HANDLER" notifies it too
			h.Listen = append(h.Listen, filepath.Base(dir)+" : "+h.Name)
		}
	}
	return append(tasks, own...), append(handlers, ownHandlers...)
}

// paramKey identifies a role entry's parameters, for running it once.
func paramKey(ref roleRef) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(ref.params)) {
		fmt.Fprintf(&b, "%s=%#v;", k, ref.params[k])
	}
	return b.String()
}

// roleDeps reads meta/main.yml's dependencies and loads each role first.
func (p *parser) roleDeps(file string, parent roleRef) (tasks, handlers []*Task) {
	p.inFile(file, parent.nameNode, parent.field, func(root *yaml.Node) {
		if root == nil {
			return
		}
		if root.Kind != yaml.MappingNode {
			p.Errorf(root, "", "role meta must be a mapping, not %s", yamlnode.Describe(root))
			return
		}
		for i := 0; i+1 < len(root.Content); i += 2 {
			k, v := yamlnode.Resolve(root.Content[i]), yamlnode.Resolve(root.Content[i+1])
			if k.Value != "dependencies" || yamlnode.IsNull(v) {
				continue // galaxy_info, allow_duplicates, ...: nothing to run
			}
			if v.Kind != yaml.SequenceNode {
				p.Errorf(v, "dependencies", "must be a list of roles, not %s", yamlnode.Describe(v))
				continue
			}
			for j, item := range v.Content {
				ref, ok := p.roleEntry(yamlnode.Resolve(item), yamlnode.IndexPath("dependencies", j))
				if !ok {
					continue
				}
				ref.public = parent.public
				t, h := p.loadRole(ref, "", true)
				inherit(ref.ctl, t)
				tasks, handlers = append(tasks, t...), append(handlers, h...)
			}
		}
	})
	return tasks, handlers
}

// readVars reads a YAML file of variables (an empty file has none).
func (p *parser) readVars(file string, from *yaml.Node, field string) (map[string]any, []string) {
	var vars map[string]any
	var names []string
	p.inFile(file, from, field, func(root *yaml.Node) {
		if root != nil {
			vars, names = p.vars(root, "")
		}
	})
	return vars, names
}
