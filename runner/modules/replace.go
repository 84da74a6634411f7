package modules

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"

	"tend/runner/plan"
	"tend/runner/transport"
)

// replaceSpec replaces every match of a pattern in a file (MULTILINE), or
// in the part of it between after and before: Ansible's replace, plus a
// diff in the dry run, a recheck after apply (a pattern that matches its own
// replacement fails it: it would change the file on every run) and binary
// files refused.
var replaceSpec = Spec{New: newReplace, Verifiable: true}

// replaceArgs are the module's YAML arguments (Ansible's names and aliases).
type replaceArgs struct {
	pathArgs       `yaml:",inline"`
	fileCommonArgs `yaml:",inline"`
	Regexp         string  `yaml:"regexp"`
	Replace        string  `yaml:"replace"`
	After          *string `yaml:"after"`
	Before         *string `yaml:"before"`
	Backup         *bool   `yaml:"backup"`
	Validate       string  `yaml:"validate"`
	Encoding       string  `yaml:"encoding"`
}

// replaceModule is one validated replace task.
type replaceModule struct {
	path    string
	re      *pyRegexp // with (?m)
	tpl     pyTemplate
	section *regexp.Regexp // after/before, with (?s); nil for the whole file
	classes bool           // some pattern uses \w \d \s \b (ASCII in Go)
	opts    writeOpts
	// templated is set while validating a playbook whose values are not
	// rendered yet: nothing more can be checked.
	templated bool
}

func newReplace(a Args) (Module, error) {
	var args replaceArgs
	const mod = "replace"
	at, fail, err := decodeTextArgs(a, mod, &args)
	if err != nil {
		return nil, err
	}
	p, err := args.pathArgs.resolve(a.File, a.Node, mod)
	if err != nil {
		return nil, err
	}
	m := &replaceModule{path: p, opts: writeOpts{backup: true}}
	if args.Backup != nil {
		m.opts.backup = *args.Backup
	}
	if enc := strings.ToLower(strings.ReplaceAll(args.Encoding, "_", "-")); enc != "" && enc != "utf-8" && enc != "utf8" {
		return fail("encoding", "only utf-8 is supported, not %q", args.Encoding)
	}
	if args.Regexp == "" {
		return fail("regexp", "regexp is required")
	}
	if err := m.opts.setWriteArgs(a, mod, at, args.Validate, args.fileCommonArgs); err != nil {
		return nil, err
	}
	for _, s := range []*string{&args.Regexp, &args.Replace, args.After, args.Before} {
		if s != nil && sysctlTemplated(*s) {
			m.templated = true
			return m, nil
		}
	}
	re, err := compilePyRegexp(args.Regexp)
	if err != nil {
		return fail("regexp", "%v", err)
	}
	// Ansible compiles regexp with re.MULTILINE.
	if m.re, err = compilePyRegexp("(?m)" + args.Regexp); err != nil {
		return fail("regexp", "%v", err)
	}
	m.classes = re.unicodeClasses
	if m.tpl, err = parsePyTemplate(args.Replace, m.re.re); err != nil {
		return fail("replace", "%v", err)
	}
	// The section, as Ansible builds it: after(?P<subsection>.*?)before, with DOTALL.
	var section string
	switch {
	case args.After != nil && *args.After != "" && args.Before != nil && *args.Before != "":
		section = *args.After + "(?P<subsection>.*?)" + *args.Before
	case args.After != nil && *args.After != "":
		section = *args.After + "(?P<subsection>.*)"
	case args.Before != nil && *args.Before != "":
		section = "(?P<subsection>.*)" + *args.Before
	}
	if section != "" {
		key := "after"
		if args.After == nil || *args.After == "" {
			key = "before"
		}
		sre, err := compilePyRegexp(section)
		if err != nil {
			return fail(key, "%v", err)
		}
		if m.section, err = regexp.Compile("(?s)" + sre.re.String()); err != nil {
			return fail(key, "%v", err)
		}
		m.classes = m.classes || sre.unicodeClasses
	}
	return m, nil
}

// Check reads the file and plans the edit (a diff).
func (m *replaceModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	return checkEdit(ctx, conn, m.opts, m.plan)
}

// Apply writes what Check planned, or refuses a file that changed since.
func (m *replaceModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	return applyEdit(ctx, conn, planned, m.path, m.opts, m.plan)
}

func (m *replaceModule) plan(ctx context.Context, conn transport.Conn) (*fileEdit, error) {
	if m.templated {
		return nil, fmt.Errorf("replace: arguments still hold a template")
	}
	f, err := readTextFile(ctx, conn, "replace", m.path)
	if err != nil {
		return nil, err
	}
	if !f.exists {
		return nil, fmt.Errorf("replace: path %s does not exist", m.path)
	}
	if m.classes && !isASCII(f.content) {
		return nil, fmt.Errorf(`replace: %s holds non-ASCII text and the pattern uses \w, \d, \s or \b: these match Unicode in Python and ASCII only in Go, so the result could differ from Ansible's; use explicit classes ([0-9], [ \t], ...)`, m.path)
	}
	e := &fileEdit{module: "replace", file: f, backupKey: "backup_file", after: f.content}
	start, end := 0, len(f.content)
	if m.section != nil {
		loc := m.section.FindSubmatchIndex(f.content)
		if loc == nil {
			e.msg = "Pattern for before/after params did not match the given file"
			e.noAttrs = true // Ansible exits here, before mode and owner
			return e, nil
		}
		g := m.section.SubexpIndex("subsection")
		start, end = loc[2*g], loc[2*g+1]
	}
	section := f.content[start:end]
	out, n := m.tpl.subn(m.re.re, section)
	if n > 0 && !bytes.Equal(out, section) {
		after := append(append(append([]byte(nil), f.content[:start]...), out...), f.content[end:]...)
		e.after = after
		e.msg = fmt.Sprintf("%d replacements made", n)
	}
	e.data = map[string]any{"replacements": n}
	return e, nil
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
