package inventory

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"

	"tend/internal/diag"
)

// Variable directories: group_vars/NAME and host_vars/NAME beside each
// inventory source, read as Ansible's host_group_vars plugin reads them.
// For an entity NAME the first of NAME, NAME.yml, NAME.yaml and NAME.json
// that exists is used; when it is a directory, every file in it is read,
// recursively and in lexical order, skipping hidden names, names ending in
// ~, subdirectories with an extension, and files whose extension is not
// .yml, .yaml, .json or none. Each file is a YAML (or JSON) mapping of
// variables, held to the same rules as inventory vars; an empty file is
// ignored. Files naming no group or host of the inventory are not read.

// varExts are the suffixes tried after the bare name, in order.
var varExts = []string{"", ".yml", ".yaml", ".json"}

// varDir caches what one directory's group_vars/ and host_vars/ hold.
type varDir struct {
	groups, hosts map[string]map[string]any
}

// loadVarDirs reads group_vars/ and host_vars/ beside every source for
// every group and host, into fileVars (one entry per source, in order).
func (b *builder) loadVarDirs() error {
	n := len(b.varDirs)
	for _, g := range b.groupList {
		g.fileVars = make([]map[string]any, n)
	}
	for _, h := range b.hostList {
		h.fileVars = make([]map[string]any, n)
	}
	cache := map[string]*varDir{}
	for d, dir := range b.varDirs {
		vd := cache[dir]
		if vd == nil {
			vd = &varDir{}
			var err error
			names := make([]string, 0, len(b.groupList))
			for _, g := range b.groupList {
				names = append(names, g.name)
			}
			if vd.groups, err = b.readEntities(filepath.Join(dir, "group_vars"), names); err != nil {
				return err
			}
			names = names[:0]
			for _, h := range b.hostList {
				names = append(names, h.Name)
			}
			if vd.hosts, err = b.readEntities(filepath.Join(dir, "host_vars"), names); err != nil {
				return err
			}
			cache[dir] = vd
		}
		for _, g := range b.groupList {
			g.fileVars[d] = vd.groups[g.name]
		}
		for _, h := range b.hostList {
			h.fileVars[d] = vd.hosts[h.Name]
		}
	}
	return nil
}

// readEntities reads the variables dir holds for each of names. A missing
// dir, or one that is not a directory, holds nothing (Ansible warns about
// the latter and skips it).
func (b *builder) readEntities(dir string, names []string) (map[string]map[string]any, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if st, serr := os.Stat(dir); serr != nil || !st.IsDir() {
			return nil, nil
		}
		return nil, readError(dir, err)
	}
	present := map[string]bool{}
	for _, e := range entries {
		present[e.Name()] = true
	}
	out := map[string]map[string]any{}
	for _, name := range names {
		if strings.HasPrefix(name, "/") {
			continue
		}
		for _, ext := range varExts {
			if !present[name+ext] {
				continue
			}
			vars := map[string]any{}
			if err := b.readVarsPath(filepath.Join(dir, name+ext), vars); err != nil {
				return nil, err
			}
			if len(vars) > 0 {
				out[name] = vars
			}
			break
		}
	}
	return out, nil
}

// readVarsPath merges the variables of a file, or of every eligible file
// in a directory, into vars.
func (b *builder) readVarsPath(path string, vars map[string]any) error {
	st, err := os.Stat(path)
	if err != nil {
		return readError(path, err)
	}
	if !st.IsDir() {
		return b.readVarsFile(path, vars)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return readError(path, err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") {
			continue
		}
		full := filepath.Join(path, name)
		ext := filepath.Ext(name)
		st, err := os.Stat(full)
		if err != nil {
			return readError(full, err)
		}
		switch {
		case st.IsDir() && ext == "":
			err = b.readVarsPath(full, vars)
		case !st.IsDir() && (ext == "" || ext == ".yml" || ext == ".yaml" || ext == ".json"):
			err = b.readVarsFile(full, vars)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readVarsFile merges one vars file into vars, a later file winning.
func (b *builder) readVarsFile(path string, vars map[string]any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return readError(path, err)
	}
	if bytes.HasPrefix(data, []byte("$ANSIBLE_VAULT;")) {
		return &Error{Pos: diag.Pos{File: path, Line: 1, Col: 1}, Msg: "vault-encrypted files are not supported"}
	}
	p := &parser{file: path, b: b}
	root, err := p.yamlRoot(data, "a vars file must be a mapping of variables")
	if err != nil || root == nil {
		return err // nil for an empty file, which Ansible ignores
	}
	_ = p.collect(p.vars(root, "", func(name string, v any) { vars[name] = v })) // errStop ends the parse
	return p.errs.Err()
}
