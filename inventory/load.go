package inventory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"tend/internal/diag"
)

// Load reads inventory sources and resolves them into one Inventory; see
// LoadContext.
func Load(paths ...string) (*Inventory, error) {
	return LoadContext(context.Background(), paths...)
}

// LoadContext reads inventory sources and resolves them into one
// Inventory. Several sources merge as several -i options do in Ansible:
// groups and hosts of the same name are the same group or host, and a
// variable set at the same level in a later source wins.
//
// A source is a file, a directory, or a comma-separated host list
// ("web1,web2," as Ansible's host_list plugin, when no such file exists).
// A file with an execute bit and a "#!" line (or an ELF binary) is a
// dynamic inventory, run with --list under ctx; any other file is a YAML
// inventory when it parses as a YAML mapping and an INI inventory
// otherwise. A directory loads every file in it, recursively, in lexical
// order, skipping what Ansible skips: hidden names, group_vars, host_vars,
// vars_plugins, and names ending in ~ .orig .ini .cfg .retry .pyc .pyo
// .swp .bak .rpm .md .txt .rst. group_vars/ and host_vars/ beside each
// source file (or inside a source directory) are read afterwards.
//
// Every input error is an *Error; Load reports all it finds in the sources
// (a bad host, group or variable is left out and the parse goes on), as a
// diag.List of them sorted by position when there are several. With no
// paths Load returns an error; use Implicit for "no inventory".
func LoadContext(ctx context.Context, paths ...string) (*Inventory, error) {
	return LoadPlaybookContext(ctx, nil, paths...)
}

// LoadPlaybookContext is LoadContext that also reads group_vars/ and
// host_vars/ in each of playbookDirs (the playbook's directory), as
// Ansible does: at each level (group_vars/all, other groups' group_vars/,
// host_vars/) the playbook's win over the inventory's.
func LoadPlaybookContext(ctx context.Context, playbookDirs []string, paths ...string) (*Inventory, error) {
	if len(paths) == 0 {
		return nil, errors.New("inventory: no inventory file given")
	}
	b := newBuilder()
	for _, path := range paths {
		st, err := os.Stat(path)
		switch {
		case err != nil && strings.Contains(path, ",") && errors.Is(err, fs.ErrNotExist):
			err = b.loadHostList(path)
		case err != nil:
			err = readError(path, err)
		case st.IsDir():
			b.varDirs = append(b.varDirs, path)
			err = b.loadDir(ctx, path)
		default:
			b.varDirs = append(b.varDirs, filepath.Dir(path))
			err = b.loadFile(ctx, path, st)
		}
		addErrors(&b.errs, path, err) // and on to the next source
	}
	if len(b.errs) > 0 {
		return nil, b.errs.Err()
	}
	// After the sources': resolve merges each level in varDirs order.
	b.varDirs = append(b.varDirs, playbookDirs...)
	if err := b.loadVarDirs(); err != nil {
		return nil, err
	}
	return b.finish(), nil
}

// readError reports an unreadable source.
func readError(path string, err error) *Error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &Error{Pos: diag.Pos{File: path}, Msg: "cannot read the inventory: " + err.Error()}
}

// ignoredRE is Ansible's IGNORED for files in an inventory directory
// (IGNORED_ALWAYS and the default INVENTORY_IGNORE_EXTS).
var ignoredRE = regexp.MustCompile(`^\.|^host_vars$|^group_vars$|^vars_plugins$|(~|\.orig|\.ini|\.cfg|\.retry|\.pyc|\.pyo|\.swp|\.bak|\.rpm|\.md|\.txt|\.rst)$`)

// loadDir loads every inventory file under dir, in lexical order.
func (b *builder) loadDir(ctx context.Context, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return readError(dir, err)
	}
	for _, e := range entries { // ReadDir sorts by name
		if ignoredRE.MatchString(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		st, err := os.Stat(path)
		if err != nil {
			addErrors(&b.errs, path, readError(path, err))
			continue
		}
		if st.IsDir() {
			err = b.loadDir(ctx, path)
		} else {
			err = b.loadFile(ctx, path, st)
		}
		addErrors(&b.errs, path, err) // and on to the next file
	}
	return nil
}

// loadFile loads one inventory file: a script, YAML or INI.
func (b *builder) loadFile(ctx context.Context, path string, st fs.FileInfo) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return readError(path, err)
	}
	script := bytes.HasPrefix(data, []byte("#!")) || bytes.HasPrefix(data, []byte("\x7fELF"))
	switch {
	case script && st.Mode()&0o111 != 0:
		return b.runScript(ctx, path)
	case script && bytes.HasPrefix(data, []byte("#!")):
		return &Error{Pos: diag.Pos{File: path, Line: 1, Col: 1}, Msg: "starts with #! like an inventory script but is not executable (chmod +x it to run it)"}
	}
	p := &parser{file: path, b: b}
	root, yerr := p.yamlRoot(data, "an inventory must be a mapping of groups (all: ...) or an INI file")
	if root != nil {
		if yerr != nil {
			return yerr
		}
		return p.parseYAML(root)
	}
	ierr := (&iniParser{file: path, b: b}).parse(data)
	switch {
	case ierr == nil:
		return nil
	case errors.Is(ierr, errEmptyINI):
		return &Error{Pos: diag.Pos{File: path}, Msg: "empty inventory"}
	case yerr != nil && looksLikeYAML(path, data):
		return yerr
	}
	return ierr
}

// yamlishRE matches a first line that only YAML would hold.
var yamlishRE = regexp.MustCompile(`^(---|%YAML|[^\s=\[#;]+:(\s|$))`)

// looksLikeYAML decides which error to report for a file that is neither
// a YAML mapping nor valid INI: the YAML one for a .yml, .yaml or .json
// name or a first line such as "all:", else the INI one.
func looksLikeYAML(path string, data []byte) bool {
	if slices.Contains([]string{".yml", ".yaml", ".json"}, filepath.Ext(path)) {
		return true
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		return yamlishRE.MatchString(line)
	}
	return false
}

// loadHostList reads a comma-separated host list source ("web1,web2:2222,")
// into ungrouped, as Ansible's host_list plugin does (no ranges).
func (b *builder) loadHostList(src string) error {
	for _, item := range strings.Split(src, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		names, port, err := expandHostKey(item)
		if err == nil && strings.Contains(item, "[") && !bracketedPortR.MatchString(item) {
			err = fmt.Errorf("host %q: ranges are not allowed in a host list", item)
		}
		if err != nil {
			return &Error{Pos: diag.Pos{File: src}, Msg: "host list: " + err.Error()}
		}
		h := b.host(b.group("ungrouped"), names[0])
		if port != 0 {
			h.own["ansible_port"] = port
		}
	}
	return nil
}
