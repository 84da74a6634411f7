package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"tend/internal/yamlnode"
	"tend/runner/plan"
	"tend/runner/transport"
)

// findSpec lists files on the host by name, age, size and type: Ansible's
// find module. It only reads (one remote command), so it runs in check
// mode too. Symlinks are never followed unless asked, and even then a
// symlink whose directory lies outside the given paths, or that loops back
// into its own ancestors, is not descended.
var findSpec = Spec{New: newFind, RunsInCheckMode: true}

type findArgs struct {
	Paths       []string `yaml:"paths"`
	Path        []string `yaml:"path"`
	Name        []string `yaml:"name"`
	Patterns    []string `yaml:"patterns"`
	Pattern     []string `yaml:"pattern"`
	Excludes    []string `yaml:"excludes"`
	Exclude     []string `yaml:"exclude"`
	Contains    string   `yaml:"contains"`
	FileType    string   `yaml:"file_type"`
	Age         string   `yaml:"age"`
	AgeStamp    string   `yaml:"age_stamp"`
	Size        string   `yaml:"size"`
	Recurse     bool     `yaml:"recurse"`
	Hidden      bool     `yaml:"hidden"`
	Follow      bool     `yaml:"follow"`
	GetChecksum bool     `yaml:"get_checksum"`
	UseRegex    bool     `yaml:"use_regex"`
	Depth       int      `yaml:"depth"`
}

type findModule struct {
	paths              []string
	patterns, excludes []*regexp.Regexp
	fileType           string
	age                *int64 // seconds; negative: at most
	ageStamp           string
	size               *int64 // bytes; negative: at most
	recurse, hidden    bool
	follow, checksum   bool
	depth              int
}

var findTypes = []string{"file", "directory", "link", "any"}

func newFind(a Args) (Module, error) {
	var args findArgs
	if err := yamlnode.DecodeStrict(a.File, a.Node, &args, yamlnode.DecodeOptions{AllowTemplates: true}); err != nil {
		return nil, err
	}
	fail := func(key, format string, v ...any) (Module, error) {
		return nil, posErr(a.File, argNode(a.Node, key), "find", format, v...)
	}
	m := &findModule{fileType: "file", ageStamp: "mtime", recurse: args.Recurse, hidden: args.Hidden,
		follow: args.Follow, checksum: args.GetChecksum, depth: args.Depth}
	paths, pkey, err := pickList(a, alias3{"paths", args.Paths}, alias3{"path", args.Path}, alias3{"name", args.Name})
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 && !templatedArg(a.Node, pkey) {
		return fail("paths", "paths is required: the directories to search")
	}
	for _, p := range paths {
		cp, err := checkRemotePath(a, "find", pkey, p)
		if err != nil {
			return nil, err
		}
		m.paths = append(m.paths, cp)
	}
	patterns, patKey, err := pickList(a, alias3{"patterns", args.Patterns}, alias3{"pattern", args.Pattern})
	if err != nil {
		return nil, err
	}
	excludes, exKey, err := pickList(a, alias3{"excludes", args.Excludes}, alias3{"exclude", args.Exclude})
	if err != nil {
		return nil, err
	}
	if len(patterns) == 0 {
		patterns = []string{"*"}
		if args.UseRegex {
			patterns = []string{".*"}
		}
	}
	for _, l := range []struct {
		key  string
		in   []string
		dest *[]*regexp.Regexp
	}{{patKey, patterns, &m.patterns}, {exKey, excludes, &m.excludes}} {
		for _, p := range l.in {
			if templated(p) {
				continue
			}
			re, err := findPattern(p, args.UseRegex)
			if err != nil {
				return fail(l.key, "%v", err)
			}
			*l.dest = append(*l.dest, re)
		}
	}
	if args.Contains != "" {
		return fail("contains", "contains (matching file content) is not supported yet")
	}
	if args.FileType != "" {
		if !templated(args.FileType) && !contains(findTypes, args.FileType) {
			return fail("file_type", "file_type must be one of %s, not %q", strings.Join(findTypes, ", "), args.FileType)
		}
		m.fileType = args.FileType
	}
	if args.AgeStamp != "" {
		if !templated(args.AgeStamp) && !contains([]string{"mtime", "atime", "ctime"}, args.AgeStamp) {
			return fail("age_stamp", "age_stamp must be mtime, atime or ctime, not %q", args.AgeStamp)
		}
		m.ageStamp = args.AgeStamp
	}
	if args.Age != "" && !templated(args.Age) {
		v, err := parseFindAge(args.Age)
		if err != nil {
			return fail("age", "%v", err)
		}
		m.age = &v
	}
	if args.Size != "" && !templated(args.Size) {
		v, err := parseFindSize(args.Size)
		if err != nil {
			return fail("size", "%v", err)
		}
		m.size = &v
	}
	if args.Depth < 0 {
		return fail("depth", "depth must be 0 (no limit) or more")
	}
	return m, nil
}

// alias3 is a list argument under one of its spellings.
type alias3 struct {
	key  string
	vals []string
}

// pickList returns the one list given among the spellings (a scalar
// "a,b" is split on commas, as Ansible does) and its key.
func pickList(a Args, spellings ...alias3) ([]string, string, error) {
	var got *alias3
	for i, s := range spellings {
		if len(s.vals) == 0 {
			continue
		}
		if got != nil {
			return nil, "", posErr(a.File, argNode(a.Node, s.key), "find", "give %s or %s, not both (they are the same argument)", got.key, s.key)
		}
		got = &spellings[i]
	}
	if got == nil {
		return nil, spellings[0].key, nil
	}
	return listArg(a.Node, got.key, got.vals), got.key, nil
}

var (
	findAgeRe  = regexp.MustCompile(`^(-?\d+)([smhdw]?)$`)
	findSizeRe = regexp.MustCompile(`^(-?\d+)([bkmgt]?)$`)
)

// parseFindAge reads Ansible's age: "2d", "-1w", "3600" (seconds); units
// s, m, h, d, w. A negative age selects files at most that old.
func parseFindAge(s string) (int64, error) {
	m := findAgeRe.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("age %q: want a whole number with an optional unit s, m, h, d or w (e.g. 2d, -1w)", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("age %q: %v", s, err)
	}
	unit := map[string]int64{"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m[2]]
	return n * unit, nil
}

// parseFindSize reads Ansible's size: "10m", "-1k", "512" (bytes); units
// b, k, m, g, t are powers of 1024. A negative size selects files at most
// that large.
func parseFindSize(s string) (int64, error) {
	m := findSizeRe.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("size %q: want a whole number with an optional unit b, k, m, g or t (e.g. 10m, -1k)", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %v", s, err)
	}
	unit := map[string]int64{"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m[2]]
	return n * unit, nil
}

// findPattern compiles a name pattern: a shell glob matched against the
// whole base name (Python's fnmatch), or with use_regex a regular
// expression anchored at the start only (Python's re.match).
func findPattern(p string, useRegex bool) (*regexp.Regexp, error) {
	if useRegex {
		re, err := regexp.Compile(`^(?:` + p + `)`)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %v", p, err)
		}
		return re, nil
	}
	return regexp.Compile(`^(?s:` + globToRegexp(p) + `)$`)
}

// globToRegexp translates fnmatch syntax: * ? [seq] [!seq]; an unclosed [
// is a literal.
func globToRegexp(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := i + 1
			if j < len(p) && p[j] == '!' {
				j++
			}
			if j < len(p) && p[j] == ']' {
				j++
			}
			for j < len(p) && p[j] != ']' {
				j++
			}
			if j >= len(p) {
				b.WriteString(`\[`)
				continue
			}
			set := p[i+1 : j]
			neg := strings.HasPrefix(set, "!")
			if neg {
				set = set[1:]
			}
			set = strings.ReplaceAll(set, `\`, `\\`)
			set = strings.ReplaceAll(set, `[`, `\[`)
			if neg {
				b.WriteString("[^" + set + "]")
			} else if strings.HasPrefix(set, "^") {
				b.WriteString(`[\` + set + "]")
			} else {
				b.WriteString("[" + set + "]")
			}
			i = j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// Check lists the paths (one remote command; a second one hashes the
// matches when get_checksum asks) and filters here.
func (m *findModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	r, err := m.run(ctx, conn)
	if err != nil {
		return plan.Change{}, fmt.Errorf("find: %w", err)
	}
	return r, nil
}

// Apply is never needed: Check changes nothing.
func (m *findModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	return planned, nil
}
