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
// name:.
func (p *parser) includeVars(arg *yaml.Node, field string) (map[string]any, bool) {
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
