package modules

import (
	"path"
	"regexp"
	"sort"
	"strings"

	"tend/internal/yamlnode"
)

// archiveSpec creates a compressed archive of files or trees on the host:
// community.general's archive (also `archive`). A single file is only
// compressed (gz, bz2, xz), several paths, a glob, a directory or
// force_archive make a tar (optionally compressed) or a zip. The archive
// is built by the host's tar, gzip, bzip2, xz, or python3's zipfile into
// a temporary file beside dest, then renamed over it; `remove` deletes the
// sources only after that rename. Whether the task changed anything is
// decided as the module decides it: the members of the old and new
// archive compared (tar: name, mode, owner, size and mtime as tar lists
// them; zip: name and CRC; a compressed file: the CRC of its content).
var archiveSpec = Spec{New: newArchive, Verifiable: true}

// archiveFormats are the module's choices of format.
var archiveFormats = map[string]bool{"gz": true, "bz2": true, "xz": true, "tar": true, "zip": true}

// archiveArgs are archive's YAML arguments.
type archiveArgs struct {
	Path              []string `yaml:"path"`
	Dest              string   `yaml:"dest"`
	Format            string   `yaml:"format"`
	ExcludePath       []string `yaml:"exclude_path"`
	ExclusionPatterns []string `yaml:"exclusion_patterns"`
	ForceArchive      bool     `yaml:"force_archive"`
	Remove            bool     `yaml:"remove"`
	fileCommonArgs    `yaml:",inline"`
}

// archiveModule is one archive task, validated.
type archiveModule struct {
	paths    []string // as given: absolute paths or globs
	exclude  []string // exclude_path, as given
	patterns []string // exclusion_patterns (fnmatch)
	dest     string   // "" when derived from the one path
	format   string
	force    bool
	remove   bool
	attrs    fileAttrs
}

func newArchive(a Args) (Module, error) {
	var args archiveArgs
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	perr := func(key, format string, v ...any) error {
		return posErr(a.File, argValueNode(a.Node, key), "archive", format, v...)
	}
	m := &archiveModule{paths: listArg(a.Node, "path", args.Path), exclude: listArg(a.Node, "exclude_path", args.ExcludePath),
		patterns: listArg(a.Node, "exclusion_patterns", args.ExclusionPatterns),
		dest:     args.Dest, format: args.Format, force: args.ForceArchive, remove: args.Remove}
	if m.format == "" {
		m.format = "gz"
	}
	if !templated(m.format) && !archiveFormats[m.format] {
		return nil, perr("format", "value of format must be one of: bz2, gz, tar, xz, zip, got: %s", m.format)
	}
	if len(m.paths) == 0 {
		return nil, posErr(a.File, a.Node, "archive", "path is required (a path, a glob, or a list of them)")
	}
	for _, l := range []struct {
		key  string
		vals []string
	}{{"path", m.paths}, {"exclude_path", m.exclude}} {
		for _, p := range l.vals {
			if err := checkArchivePath(a, l.key, p); err != nil {
				return nil, err
			}
		}
	}
	for _, p := range m.patterns {
		if strings.ContainsRune(p, 0) {
			return nil, perr("exclusion_patterns", "exclusion_patterns: a pattern cannot hold a NUL byte")
		}
	}
	if m.dest != "" {
		if err := checkArchivePath(a, "dest", m.dest); err != nil {
			return nil, err
		}
	}
	var err error
	if m.attrs, err = args.fileCommonArgs.attrs(a, "archive"); err != nil {
		return nil, err
	}
	// The module fails on the host whatever it finds there when no dest
	// is given for what must be an archive: refused here instead. (With
	// exclude_path, the paths left are only known on the host.)
	if m.dest == "" && len(m.exclude) == 0 && !anyTemplated(m.paths) {
		if m.force || len(distinct(m.paths)) > 1 || anyGlob(m.paths) {
			return nil, posErr(a.File, a.Node, "archive", `Error, must specify "dest" when archiving multiple files or trees`)
		}
	}
	return m, nil
}

// checkArchivePath refuses a path tend cannot take as the module does:
// relative (the module documents absolute ones; tend resolves none), ~,
// a NUL byte. The path is kept as given: a trailing slash changes the
// archive's root, as in the module.
func checkArchivePath(a Args, key, p string) error {
	switch {
	case templated(p):
		return nil
	case strings.ContainsRune(p, 0):
		return posErr(a.File, argNode(a.Node, key), "archive", "%s: a path cannot hold a NUL byte", key)
	case strings.HasPrefix(p, "~"):
		return posErr(a.File, argNode(a.Node, key), "archive", "%s %q: tend expands no ~ (give the absolute path)", key, p)
	case !path.IsAbs(p):
		return posErr(a.File, argNode(a.Node, key), "archive", "%s %q must be an absolute path", key, p)
	}
	return nil
}

func anyTemplated(v []string) bool {
	for _, s := range v {
		if templated(s) {
			return true
		}
	}
	return false
}

// isGlob is the module's test for a pattern: a * or a ? in it (a [ alone
// is a literal path).
func isGlob(p string) bool { return strings.ContainsAny(p, "*?") }

func anyGlob(v []string) bool {
	for _, s := range v {
		if isGlob(s) {
			return true
		}
	}
	return false
}

// distinct is v sorted without duplicates.
func distinct(v []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range v {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// pyDirname is Python's os.path.dirname: everything before the last
// slash, trailing slashes removed unless it is all slashes.
func pyDirname(p string) string {
	i := strings.LastIndex(p, "/") + 1
	head := p[:i]
	if t := strings.TrimRight(head, "/"); t != "" {
		return t
	}
	return head
}

// pyJoinSlash is Python's os.path.join(p, ""): p with one trailing slash
// (none added to "" or to a path already ending in one).
func pyJoinSlash(p string) string {
	if p == "" || strings.HasSuffix(p, "/") {
		return p
	}
	return p + "/"
}

// archiveRoot is the module's arcroot: the longest common prefix
// (character by character) of the paths' directories, cut back to a
// directory, with a trailing slash. Members are named by their path with
// this prefix removed.
func archiveRoot(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	prefix := pyJoinSlash(pyDirname(paths[0]))
	for _, p := range paths[1:] {
		d := pyJoinSlash(pyDirname(p))
		n := 0
		for n < len(prefix) && n < len(d) && prefix[n] == d[n] {
			n++
		}
		prefix = prefix[:n]
	}
	return pyJoinSlash(pyDirname(prefix))
}

// archiveDestState is the module's dest_state for an existing dest when
// nothing was archived: archive when its name says so, else compress.
var archiveNameRe = regexp.MustCompile(`(?i)\.(tar|tar\.(gz|bz2|xz)|tgz|tbz2|zip)$`)

func archiveDestState(dest string) string {
	if archiveNameRe.MatchString(path.Base(dest)) {
		return "archive"
	}
	return "compress"
}

// fnmatchAny reports whether name matches one of the fnmatch patterns
// (Python's fnmatch: * and ? match a slash too).
func fnmatchAny(name string, patterns []string) bool {
	for _, p := range patterns {
		if re, err := regexp.Compile(`^(?s:` + globToRegexp(p) + `)$`); err == nil && re.MatchString(name) {
			return true
		}
	}
	return false
}

// archTarget is one source path that exists on the host.
type archTarget struct {
	path  string
	isDir bool      // a directory, a symlink to one followed (os.path.isdir)
	tree  []fsEntry // every entry below a directory, symlinks not followed
}

// archMember is one entry the archive holds.
type archMember struct {
	path, arc string
	archived  bool // registered in `archived` (and removed with remove)
}

// archiveMembers lists what goes into a tar or zip archive of targets
// rooted at root, as the module walks them: a directory's entries (never
// the directory itself), a file as itself; exclusion_patterns match the
// member's name in a tar, its full path in a zip. The module registers a
// zip's directories nowhere in `archived` (it looks them up without their
// trailing slash); sockets are left out (tarfile leaves them out).
func archiveMembers(format, root string, targets []archTarget, patterns []string) []archMember {
	var out []archMember
	add := func(full string, typ byte) {
		if typ == 's' {
			return
		}
		arc := strings.TrimPrefix(full, root)
		if format == "zip" {
			if fnmatchAny(full, patterns) {
				return
			}
			out = append(out, archMember{path: full, arc: arc, archived: typ != 'd'})
			return
		}
		if fnmatchAny(strings.TrimLeft(arc, "/"), patterns) {
			return
		}
		out = append(out, archMember{path: full, arc: arc, archived: true})
	}
	for _, t := range targets {
		if !t.isDir {
			add(t.path, 'f')
			continue
		}
		top := strings.TrimSuffix(t.path, "/")
		for _, e := range t.tree {
			rel := strings.TrimLeft(strings.TrimPrefix(e.Path, t.path), "/")
			add(top+"/"+rel, e.Type)
		}
	}
	return out
}
