package modules

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"tend/runner/plan"
	"tend/runner/transport"
)

// lineinfileSpec ensures one line is in a file, or that no line matching a
// pattern is: Ansible's lineinfile, with its arguments and its choices
// (the LAST matching line is replaced unless firstmatch; a line that
// matches nothing goes after the last insertafter match, else at the end),
// plus a diff in the dry run, a recheck after apply and binary files
// refused.
var lineinfileSpec = Spec{New: newLineinfile, Verifiable: true}

// lineinfileArgs are the module's YAML arguments (Ansible's names and aliases).
type lineinfileArgs struct {
	pathArgs       `yaml:",inline"`
	fileCommonArgs `yaml:",inline"`
	State          string  `yaml:"state"`
	Regexp         *string `yaml:"regexp"`
	Regex          *string `yaml:"regex"`
	SearchString   *string `yaml:"search_string"`
	Line           *string `yaml:"line"`
	Value          *string `yaml:"value"`
	InsertAfter    *string `yaml:"insertafter"`
	InsertBefore   *string `yaml:"insertbefore"`
	Backrefs       bool    `yaml:"backrefs"`
	Create         bool    `yaml:"create"`
	Backup         *bool   `yaml:"backup"`
	Firstmatch     bool    `yaml:"firstmatch"`
	Validate       string  `yaml:"validate"`
}

// pathArgs is the path argument of the content modules and its aliases.
type pathArgs struct {
	Path     string `yaml:"path"`
	Dest     string `yaml:"dest"`
	Destfile string `yaml:"destfile"`
	Name     string `yaml:"name"`
}

// resolve returns the one path given, or an error naming the clash.
func (p pathArgs) resolve(file string, n *yaml.Node, module string) (string, error) {
	var got []string
	var val string
	for _, c := range []struct{ key, v string }{{"path", p.Path}, {"dest", p.Dest}, {"destfile", p.Destfile}, {"name", p.Name}} {
		if c.v != "" {
			got, val = append(got, c.key), c.v
		}
	}
	switch {
	case len(got) == 0:
		return "", posErr(file, n, module, "path is required (aliases: dest, destfile, name)")
	case len(got) > 1:
		return "", posErr(file, n, module, "give one of %v, they are the same argument", got)
	}
	if !sysctlTemplated(val) && (!path.IsAbs(val) || strings.ContainsAny(val, "\n\x00")) {
		return "", posErr(file, sysctlArgValue(n, got[0], n), module, "%s %q must be an absolute path (tend expands no ~ nor relative paths)", got[0], val)
	}
	return val, nil
}

// lineinfileModule is one validated lineinfile task.
type lineinfileModule struct {
	path                      string
	absent                    bool
	re                        *pyRegexp // nil without regexp
	search                    *string
	line                      *string
	tpl                       pyTemplate // line as a template, with backrefs
	insertAfter, insertBefore string     // "" when not given; EOF/BOF or a pattern
	ins                       *pyRegexp  // the insertafter/insertbefore pattern
	backrefs, create          bool
	firstmatch                bool
	opts                      writeOpts
}

func newLineinfile(a Args) (Module, error) {
	var args lineinfileArgs
	const mod = "lineinfile"
	at, fail, err := decodeTextArgs(a, mod, &args)
	if err != nil {
		return nil, err
	}
	p, err := args.pathArgs.resolve(a.File, a.Node, mod)
	if err != nil {
		return nil, err
	}
	m := &lineinfileModule{path: p, search: args.SearchString, backrefs: args.Backrefs,
		create: args.Create, firstmatch: args.Firstmatch, opts: writeOpts{backup: true}}
	if args.Backup != nil {
		m.opts.backup = *args.Backup
	}
	switch args.State {
	case "", "present":
	case "absent":
		m.absent = true
	default:
		if !sysctlTemplated(args.State) {
			return fail("state", "state must be present or absent, not %q", args.State)
		}
	}
	regexKey, regex := "regexp", args.Regexp
	if args.Regex != nil {
		if regex != nil {
			return fail("regex", "give regexp or regex, not both")
		}
		regexKey, regex = "regex", args.Regex
	}
	m.line = args.Line
	if args.Value != nil {
		if m.line != nil {
			return fail("value", "give line or value, not both")
		}
		m.line = args.Value
	}
	switch {
	case args.InsertAfter != nil && args.InsertBefore != nil:
		return fail("insertbefore", "insertafter and insertbefore are mutually exclusive")
	case regex != nil && m.search != nil:
		return fail("search_string", "%s and search_string are mutually exclusive", regexKey)
	case m.backrefs && m.search != nil:
		return fail("backrefs", "backrefs and search_string are mutually exclusive")
	}
	if regex != nil && !sysctlTemplated(*regex) {
		if m.re, err = compilePyRegexp(*regex); err != nil {
			return fail(regexKey, "%v", err)
		}
	}
	if m.absent {
		if regex == nil && m.search == nil && m.line == nil {
			return fail("state", "one of line, search_string, or regexp is required with state=absent")
		}
	} else {
		if m.backrefs && regex == nil {
			return fail("backrefs", "regexp is required with backrefs=true")
		}
		if m.line == nil {
			return fail("state", "line is required with state=present")
		}
		if args.InsertAfter != nil {
			m.insertAfter = *args.InsertAfter
		}
		if args.InsertBefore != nil {
			m.insertBefore = *args.InsertBefore
		}
		if m.insertAfter == "" && m.insertBefore == "" {
			m.insertAfter = "EOF"
		}
		key, ins := "insertafter", m.insertAfter
		if m.insertBefore != "" {
			key, ins = "insertbefore", m.insertBefore
		}
		if ins != "EOF" && ins != "BOF" && !sysctlTemplated(ins) {
			if m.ins, err = compilePyRegexp(ins); err != nil {
				return fail(key, "%v", err)
			}
		}
		if m.backrefs && m.re != nil && !sysctlTemplated(*m.line) {
			if m.tpl, err = parsePyTemplate(*m.line, m.re.re); err != nil {
				return fail("line", "%v", err)
			}
		}
	}
	if err := m.opts.setWriteArgs(a, mod, at, args.Validate, args.fileCommonArgs); err != nil {
		return nil, err
	}
	return m, nil
}

// Check reads the file and plans the edit (a diff).
func (m *lineinfileModule) Check(ctx context.Context, conn transport.Conn) (plan.Change, error) {
	return checkEdit(ctx, conn, m.opts, m.plan)
}

// Apply writes what Check planned, or refuses a file that changed since.
func (m *lineinfileModule) Apply(ctx context.Context, conn transport.Conn, planned plan.Change) (plan.Change, error) {
	return applyEdit(ctx, conn, planned, m.path, m.opts, m.plan)
}

func (m *lineinfileModule) plan(ctx context.Context, conn transport.Conn) (*fileEdit, error) {
	f, err := readTextFile(ctx, conn, "lineinfile", m.path)
	if err != nil {
		return nil, err
	}
	e := &fileEdit{module: "lineinfile", file: f, backupKey: "backup"}
	lines := fileLines(f.content)
	if m.absent {
		m.remove(e, lines)
		return e, nil
	}
	if !f.exists {
		if !m.create {
			return nil, fmt.Errorf("lineinfile: destination %s does not exist (create: true makes it)", m.path)
		}
		e.create = true
	}
	e.after = bytes.Join(m.present(e, lines), nil)
	return e, nil
}

// remove drops every line that matches (state: absent).
func (m *lineinfileModule) remove(e *fileEdit, lines [][]byte) {
	e.after = f0(e.file.content)
	if !e.file.exists {
		e.msg = "file not present"
		return
	}
	var kept [][]byte
	found := 0
	for _, l := range lines {
		var hit bool
		switch {
		case m.re != nil:
			hit = m.re.re.Match(chomp(l))
		case m.search != nil:
			hit = bytes.Contains(l, []byte(*m.search))
		default:
			hit = *m.line == string(bytes.TrimRight(l, "\r\n"))
		}
		if hit {
			found++
		} else {
			kept = append(kept, l)
		}
	}
	e.after = bytes.Join(kept, nil)
	e.data = map[string]any{"found": found}
	if found > 0 {
		e.msg = fmt.Sprintf("%d line(s) removed", found)
	}
}

func f0(b []byte) []byte { return append([]byte(nil), b...) }

// present returns the lines with the line ensured, as Ansible decides.
func (m *lineinfileModule) present(e *fileEdit, lines [][]byte) [][]byte {
	line := []byte(*m.line)
	withNL := append(append([]byte(nil), line...), '\n')
	at, insAt := -1, -1
	var match []int
	var matchLine []byte
	found := false
	// 1. The last line the regexp or search string finds (the first with firstmatch).
	for i, l := range lines {
		var hit bool
		switch {
		case m.re != nil:
			if sm := m.re.re.FindSubmatchIndex(chomp(l)); sm != nil {
				hit, match, matchLine = true, sm, l
			}
		case m.search != nil:
			hit = bytes.Contains(l, []byte(*m.search))
		}
		if hit {
			at, found = i, true
			if m.firstmatch {
				break
			}
		}
	}
	// 2. Otherwise the line itself, or where insertafter/insertbefore point.
	if !found {
		for i, l := range lines {
			if bytes.Equal(line, bytes.TrimRight(l, "\r\n")) {
				at = i
			} else if m.ins != nil && m.ins.re.Match(chomp(l)) {
				if m.insertAfter != "" {
					insAt = i + 1
				} else {
					insAt = i
				}
				if m.firstmatch {
					break
				}
			}
		}
	}
	insert := func(i int, l []byte) [][]byte {
		e.msg = "line added"
		out := append([][]byte(nil), lines[:i]...)
		out = append(out, l)
		return append(out, lines[i:]...)
	}
	// endNL ends the last line so that a line can follow it.
	endNL := func() {
		if n := len(lines); n > 0 && !bytes.HasSuffix(lines[n-1], []byte("\n")) && !bytes.HasSuffix(lines[n-1], []byte("\r")) {
			lines[n-1] = append(f0(lines[n-1]), '\n')
		}
	}
	switch {
	case at != -1:
		newLine := line
		if m.backrefs && match != nil {
			newLine = m.tpl.expand(nil, chomp(matchLine), match)
		}
		if !bytes.HasSuffix(newLine, []byte("\n")) {
			newLine = append(f0(newLine), '\n')
		}
		if !bytes.Equal(lines[at], newLine) {
			lines[at] = newLine
			e.msg = "line replaced"
		}
		return lines
	case m.backrefs:
		return lines // no match: nothing to expand the backreferences from
	case m.insertBefore == "BOF" || m.insertAfter == "BOF":
		return insert(0, withNL)
	case m.insertAfter == "EOF" || insAt == -1:
		endNL()
		return insert(len(lines), withNL)
	case m.insertAfter != "":
		if insAt == len(lines) {
			if !bytes.Equal(bytes.TrimRight(lines[insAt-1], "\r\n"), line) {
				// Ansible appends to a last line without a newline ("lastnew");
				// tend ends that line first.
				endNL()
				return insert(insAt, withNL)
			}
			return lines
		}
		if !bytes.Equal(bytes.TrimRight(lines[insAt], "\r\n"), line) {
			return insert(insAt, withNL)
		}
		return lines
	default:
		return insert(insAt, withNL)
	}
}
