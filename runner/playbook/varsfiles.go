package playbook

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/internal/omap"
	"tend/internal/yamlnode"
)

// varsFiles reads a play's vars_files: each entry a file (or a list of
// files, the first that exists) relative to the playbook, whose variables
// win over the play's vars.
func (p *parser) varsFiles(play *Play, v *yaml.Node) {
	if yamlnode.IsNull(v) {
		return
	}
	if v.Kind == yaml.MappingNode {
		p.Errorf(v, "vars_files", "must be a list of files, not a mapping")
		return
	}
	for i, item := range listItems(v) {
		item = yamlnode.Resolve(item)
		field := "vars_files"
		if v.Kind == yaml.SequenceNode {
			field = yamlnode.IndexPath(field, i)
		}
		choices := []*yaml.Node{item}
		if item.Kind == yaml.SequenceNode {
			choices = item.Content
		}
		var found string
		var tried []string
		for _, c := range choices {
			name, ok := p.fileName(yamlnode.Resolve(c), field, "vars_files")
			if !ok {
				tried = nil
				break
			}
			path := name
			if !filepath.IsAbs(path) {
				path = filepath.Join(p.baseDir, name)
			}
			tried = append(tried, path)
			if st, err := os.Stat(path); err == nil && !st.IsDir() {
				found = path
				break
			}
		}
		if found == "" {
			if len(tried) > 0 {
				p.Errorf(item, field, "vars file not found (looked for %s)", strings.Join(tried, ", "))
			}
			continue
		}
		vars, names := p.readVars(found, item, field)
		if play.Vars == nil {
			play.Vars = map[string]any{}
		}
		for _, k := range names {
			if _, ok := play.Vars[k]; !ok {
				play.VarNames = append(play.VarNames, k)
			}
			play.Vars[k] = vars[k]
		}
	}
}

// includeVars reads the files of an include_vars task at parse time: file
// (the argument itself or file:), or dir: (every .yml, .yaml and .json
// file under it, in lexical order, a later one winning), optionally under
// name:. A file named by host data, or by a with_first_found list, is
// chosen per host when the task runs (inc.Deferred; nil variables).
func (p *parser) includeVars(inc *Task, arg *yaml.Node, field string, ff *firstFoundList) (map[string]any, bool) {
	var fileNode, dirNode *yaml.Node
	var name string
	switch arg.Kind {
	case yaml.ScalarNode:
		fileNode = arg
	case yaml.MappingNode:
		for i := 0; i+1 < len(arg.Content); i += 2 {
			k, v := yamlnode.Resolve(arg.Content[i]), yamlnode.Resolve(arg.Content[i+1])
			f := yamlnode.JoinPath(field, k.Value)
			switch k.Value {
			case "file":
				fileNode = v
			case "dir":
				dirNode = v
			case "name":
				if name = p.str(v, f); !isIdentifier(name) {
					p.Errorf(v, f, "must be a variable name, not %s", yamlnode.Describe(v))
					return nil, false
				}
			default:
				p.Errorf(k, f, "unsupported include_vars option (tend takes file, dir, name)")
				return nil, false
			}
		}
	default:
		p.Errorf(arg, field, "must be a file name or a mapping with file: or dir:, not %s", yamlnode.Describe(arg))
		return nil, false
	}
	if (fileNode == nil) == (dirNode == nil) {
		p.Errorf(arg, field, "needs exactly one of file and dir")
		return nil, false
	}
	dirs := append(p.taskDirs("vars"), filepath.Join(p.baseDir, "vars"))
	out := map[string]any{}
	if ff != nil {
		if fileNode == nil || fileNode.Kind != yaml.ScalarNode || !strings.Contains(fileNode.Value, "{{") {
			p.Errorf(arg, field, "with_first_found: the file must be the loop's item (\"{{ item }}\"), not %s", yamlnode.Describe(arg))
			return nil, false
		}
		p.deferVars(inc, ff.names, fileNode, field, name, ff.skip)
		return nil, true
	}
	if fileNode != nil && fileNode.Kind == yaml.ScalarNode && p.needsHost(fileNode.Value, inc) {
		p.deferVars(inc, []string{fileNode.Value}, fileNode, field, name, false)
		return nil, true
	}
	var order []string // the names in file order, for name:
	add := func(vars map[string]any, names []string) {
		for _, k := range names {
			if _, seen := out[k]; !seen {
				order = append(order, k)
			}
			out[k] = vars[k]
		}
	}
	if fileNode != nil {
		fname, ok := p.fileName(fileNode, field, "include_vars")
		if !ok {
			return nil, false
		}
		path, ok := p.findFile(fname, dirs, fileNode, field, "vars file")
		if !ok {
			return nil, false
		}
		add(p.readVars(path, fileNode, field))
	} else {
		dname, ok := p.fileName(dirNode, field, "include_vars")
		if !ok {
			return nil, false
		}
		dir := ""
		for _, d := range dirs {
			path := filepath.Join(d, dname)
			if filepath.IsAbs(dname) {
				path = dname
			}
			if st, err := os.Stat(path); err == nil && st.IsDir() {
				dir = path
				break
			}
		}
		if dir == "" {
			p.Errorf(dirNode, field, "vars directory %q not found", dname)
			return nil, false
		}
		var files []string
		_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && slices.Contains([]string{".yml", ".yaml", ".json"}, filepath.Ext(path)) {
				files = append(files, path)
			}
			return nil
		})
		slices.Sort(files)
		for _, f := range files {
			add(p.readVars(f, dirNode, field))
		}
	}
	if name != "" {
		named := omap.New(len(order))
		for _, k := range order {
			named.Set(k, out[k])
		}
		return map[string]any{name: named}, true
	}
	return out, true
}

// firstFoundList is a with_first_found: the candidate names (templates,
// joined with each of paths: when given) and skip:.
type firstFoundList struct {
	names []string
	skip  bool
}

// firstFound reads with_first_found: a list of names, or of mappings with
// files:, paths: and skip:, as Ansible's first_found lookup takes them.
func (p *parser) firstFound(v *yaml.Node, field string) *firstFoundList {
	ff := &firstFoundList{}
	for i, item := range listItems(v) {
		item = yamlnode.Resolve(item)
		f := yamlnode.IndexPath(field, i)
		if item.Kind == yaml.ScalarNode && !yamlnode.IsNull(item) {
			ff.names = append(ff.names, item.Value)
			continue
		}
		if item.Kind != yaml.MappingNode {
			p.Errorf(item, f, "must be a file name or a mapping with files: and paths:, not %s", yamlnode.Describe(item))
			continue
		}
		var files, paths []string
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, val := yamlnode.Resolve(item.Content[j]), yamlnode.Resolve(item.Content[j+1])
			kf := yamlnode.JoinPath(f, k.Value)
			switch k.Value {
			case "files", "paths":
				var l []string
				for _, x := range listItems(val) {
					x = yamlnode.Resolve(x)
					if x.Kind != yaml.ScalarNode {
						p.Errorf(x, kf, "must be a name, not %s", yamlnode.Describe(x))
						continue
					}
					for _, s := range strings.Split(x.Value, ",") { // as first_found splits them
						if s = strings.TrimSpace(s); s != "" {
							l = append(l, s)
						}
					}
				}
				if k.Value == "files" {
					files = l
				} else {
					paths = l
				}
			case "skip":
				ff.skip = p.boolean(val, kf)
			default:
				p.Errorf(k, kf, "unknown first_found option (files, paths, skip)")
			}
		}
		if len(paths) == 0 {
			paths = []string{""}
		}
		for _, d := range paths { // path by path, as first_found
			for _, fn := range files {
				if d != "" && !filepath.IsAbs(fn) {
					fn = filepath.Join(d, fn)
				}
				ff.names = append(ff.names, fn)
			}
		}
	}
	if len(ff.names) == 0 {
		p.Errorf(v, field, "with_first_found needs at least one file name")
	}
	return ff
}
