package inventory

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"tend/internal/diag"
)

// INI inventories are read as Ansible 2.14's ini plugin reads them:
//
//	host1                        # before any section: ungrouped
//	[web]                        # hosts of group web
//	web[01:03].lan:2222 a=1 b="x y"
//	[web:vars]                   # one var=value per line
//	http_port=8080
//	[prod:children]              # child groups of prod
//	web
//
// Lines starting with # or ; are comments. Host lines are split like a
// POSIX shell (quotes group, # starts a comment); every value, in host
// lines and :vars sections alike, is a Python literal where it parses as
// one (see pyValue). A group named in :children or :vars must have its own
// [group] or [group:children] section somewhere in the file (or be
// defined by an earlier source). Unlike Ansible, which keeps the last, a
// variable set twice on one host line, or twice for one group in the
// :vars sections of one file, is refused with both positions.

// errEmptyINI marks a file holding only blank lines and comments.
var errEmptyINI = errors.New("no content")

var (
	sectionRE   = regexp.MustCompile(`^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$`)
	groupNameRE = regexp.MustCompile(`^([^:\]\s]+)\s*(?:#.*)?$`)
)

// iniParser reads one INI file into a builder.
type iniParser struct {
	file    string
	b       *builder
	line    int                     // current line, 1-based
	pending map[string]*pendingDecl // groups named before being declared
	order   []string                // pending names, first first
	varsAt  map[[2]string][2]int    // group, var → line, col where :vars set it
}

// pendingDecl is a group used in [x:vars] or [x:children] before its own
// section declared it.
type pendingDecl struct {
	line, col int
	state     string   // "vars" or "children"
	parents   []string // for "children": the groups listing it
}

// errorf builds an *Error at column col (1-based runes) of the current line.
func (p *iniParser) errorf(col int, field, format string, args ...any) *Error {
	return &Error{Pos: diag.Pos{File: p.file, Line: p.line, Col: col}, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// parse reads the file. It returns errEmptyINI when there is nothing but
// comments and blank lines; else every problem it found (a line in error
// is left out and the next read), a diag.List when there are several.
func (p *iniParser) parse(data []byte) error {
	var errs diag.List
	p.pending = map[string]*pendingDecl{}
	p.varsAt = map[[2]string][2]int{}
	group, state, seen := "ungrouped", "hosts", false
	for i, raw := range splitLines(string(data)) {
		p.line = i + 1
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if !utf8.ValidString(raw) {
			errs = append(errs, p.errorf(0, "", "line is not valid UTF-8"))
			seen = true
			continue
		}
		seen = true
		col := utf8.RuneCountInString(raw[:strings.Index(raw, line)]) + 1
		var err error
		switch m := sectionRE.FindStringSubmatch(line); {
		case m != nil:
			group, state, err = p.section(m[1], m[2], col)
		case line[0] == '[' && line[len(line)-1] == ']':
			err = p.errorf(col, "", "invalid section %s: a section is [group], [group:vars] or [group:children], without spaces", line)
		case state == "hosts":
			err = p.hostLine(group, line, col)
		case state == "vars":
			err = p.varLine(group, line, col)
		default:
			err = p.childLine(group, line, col)
		}
		addErrors(&errs, p.file, err)
	}
	if !seen {
		return errEmptyINI
	}
	for _, name := range p.order {
		if d := p.pending[name]; d != nil {
			p.line = d.line
			if d.state == "vars" {
				errs = append(errs, p.errorf(d.col, "", "section [%s:vars] is for a group that is never defined (add a [%s] or [%s:children] section)", name, name, name))
				continue
			}
			errs = append(errs, p.errorf(d.col, "", "section [%s:children] includes group %q, which is never defined (add a [%s] or [%s:children] section)", d.parents[len(d.parents)-1], name, name, name))
		}
	}
	return errs.Err()
}

// section handles a [name] or [name:kind] header and returns the new
// group and state.
func (p *iniParser) section(name, kind string, col int) (string, string, error) {
	if kind == "" {
		kind = "hosts"
	}
	if kind != "hosts" && kind != "children" && kind != "vars" {
		return "", "", p.errorf(col, "", "section [%s:%s] has unknown type %q: want [%s], [%s:vars] or [%s:children]%s",
			name, kind, kind, name, name, name, suggest(kind, "vars", "children"))
	}
	if err := checkGroupName(name); err != nil {
		return "", "", p.errorf(col+1, "", "%v", err)
	}
	if p.b.groups[name] == nil {
		if kind == "vars" && p.pending[name] == nil {
			p.addPending(name, &pendingDecl{line: p.line, col: col, state: "vars"})
		}
		p.b.group(name)
	}
	if d := p.pending[name]; d != nil && kind != "vars" {
		if d.state == "children" {
			if err := p.addPendingChildren(name); err != nil {
				return "", "", err
			}
		}
		delete(p.pending, name)
	}
	return name, kind, nil
}

func (p *iniParser) addPending(name string, d *pendingDecl) {
	p.pending[name] = d
	p.order = append(p.order, name)
}

// addPendingChildren links a newly declared group under the groups that
// listed it as a child before it was declared.
func (p *iniParser) addPendingChildren(name string) error {
	d := p.pending[name]
	for _, parent := range d.parents {
		if err := p.link(parent, name, d.line, d.col); err != nil {
			return err
		}
		if pd := p.pending[parent]; pd != nil && pd.state == "children" {
			if err := p.addPendingChildren(parent); err != nil {
				return err
			}
		}
	}
	delete(p.pending, name)
	return nil
}

// link makes child a child of parent, refusing cycles at line:col.
func (p *iniParser) link(parent, child string, line, col int) error {
	save := p.line
	p.line = line
	defer func() { p.line = save }()
	if child == "all" {
		return p.errorf(col, "", `group "all" cannot be a child group`)
	}
	if cycle := p.b.addChild(p.b.group(parent), p.b.group(child)); cycle != nil {
		return p.errorf(col, "", "group %q would be its own ancestor: %s", child, strings.Join(cycle, " → "))
	}
	return nil
}

// childLine handles one line of a [group:children] section.
func (p *iniParser) childLine(group, line string, col int) error {
	m := groupNameRE.FindStringSubmatch(line)
	if m == nil {
		return p.errorf(col, "", "expected a group name, got %q", line)
	}
	child := m[1]
	if err := checkGroupName(child); err != nil {
		return p.errorf(col, "", "%v", err)
	}
	if p.b.groups[child] != nil {
		return p.link(group, child, p.line, col)
	}
	if d := p.pending[child]; d != nil {
		d.parents = append(d.parents, group)
	} else {
		p.addPending(child, &pendingDecl{line: p.line, col: col, state: "children", parents: []string{group}})
	}
	return nil
}

// varLine handles one key=value line of a [group:vars] section: the value
// is the rest of the line, comments included, as in Ansible.
func (p *iniParser) varLine(group, line string, col int) error {
	eq := strings.IndexByte(line, '=')
	if eq < 0 {
		return p.errorf(col, "", "expected key=value, got %q", line)
	}
	k, v := strings.TrimSpace(line[:eq]), strings.TrimSpace(line[eq+1:])
	vcol := col + utf8.RuneCountInString(line[:eq+1]) + utf8.RuneCountInString(line[eq+1:]) - utf8.RuneCountInString(strings.TrimLeftFunc(line[eq+1:], unicode.IsSpace))
	val, err := p.value(k, v, col, vcol)
	if err != nil {
		return err
	}
	if at, dup := p.varsAt[[2]string{group, k}]; dup {
		return p.errorf(col, k, "variable %q of group %q is set twice (first at line %d:%d)", k, group, at[0], at[1])
	}
	p.varsAt[[2]string{group, k}] = [2]int{p.line, col}
	g := p.b.group(group)
	if k == "ansible_group_priority" {
		g.priority, _ = toInt(val)
	} else {
		g.vars[k] = val
	}
	return nil
}

// value checks a variable's name and reads its value.
func (p *iniParser) value(k, v string, kcol, vcol int) (any, error) {
	if err := checkVarName(k); err != nil {
		return nil, p.errorf(kcol, k, "%v", err)
	}
	val, err := pyValue(v)
	if err != nil {
		return nil, p.errorf(vcol, k, "%v", err)
	}
	if err := checkVar(k, val); err != nil {
		return nil, p.errorf(vcol, k, "%v", err)
	}
	return val, nil
}

// hostLine handles "HOSTPATTERN [key=value ...]" in a hosts section.
func (p *iniParser) hostLine(group, line string, col int) error {
	toks, err := shlexSplit(line)
	if err != nil {
		return p.errorf(col, "", "cannot split host line: %v", err)
	}
	if len(toks) == 0 {
		return nil
	}
	key := toks[0].text
	kcol := col + toks[0].col
	if strings.TrimSpace(key) == "---" {
		return p.errorf(kcol, "", "host %q: a line of --- is a sign this is a YAML file, which must be a mapping (all: ...)", key)
	}
	if _, port, ok := parseAddress(key); strings.HasSuffix(key, ":") && (!ok || port == "") {
		return p.errorf(kcol, "", "host %q ends in \":\", which is reserved for a port", key)
	}
	names, port, err := expandHostKey(key)
	if err != nil {
		return p.errorf(kcol, "", "%v", err)
	}
	type kv struct {
		k   string
		v   any
		col int
	}
	var vars []kv
	for _, t := range toks[1:] {
		tcol := col + t.col
		eq := strings.IndexByte(t.text, '=')
		if eq < 0 {
			return p.errorf(tcol, "", "expected key=value host variable assignment, got %q", t.text)
		}
		k := t.text[:eq]
		for _, e := range vars {
			if e.k == k {
				return p.errorf(tcol, k, "variable %q is set twice on this line (first at column %d)", k, e.col)
			}
		}
		v, err := p.value(k, t.text[eq+1:], tcol, tcol+utf8.RuneCountInString(k)+1)
		if err != nil {
			return err
		}
		vars = append(vars, kv{k, v, tcol})
	}
	g := p.b.group(group)
	for _, name := range names {
		h := p.b.host(g, name)
		if port != 0 {
			h.own["ansible_port"] = port
		}
		for _, e := range vars {
			h.own[e.k] = deepCopy(e.v)
		}
	}
	return nil
}

// splitLines splits s at the line boundaries of Python's str.splitlines,
// so that line numbers agree with Ansible's.
func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			out = append(out, s[start:i])
			if r == '\r' && i+1 < len(s) && s[i+1] == '\n' {
				n++
			}
			start = i + n
		}
		i += n
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}
