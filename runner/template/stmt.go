package template

import (
	"fmt"
	"strings"
	"sync"
)

// A template is parsed into a tree of nodes: literal text, {{ outputs }},
// and the statements {% if %}, {% for %} and {% set %}. Every expression
// is compiled when the template is parsed, so an unknown filter fails
// before any host is contacted.
type (
	textNode string
	outNode  struct {
		expr string
		line int
	}
	ifNode struct {
		conds  []string
		lines  []int // of each if/elif tag
		bodies [][]node
		els    []node
	}
	forNode struct {
		targets    []string
		iter, cond string
		body, els  []node
		line       int
	}
	setNode struct {
		targets []string
		expr    string
		line    int
	}
	node any
)

// tmplTree is a parsed template, cached by its text.
type tmplTree struct {
	nodes []node
	err   error
}

var trees sync.Map // string -> *tmplTree

// parseTree returns the cached tree of s, parsing it once.
func parseTree(s string) ([]node, error) {
	if t, ok := trees.Load(s); ok {
		return t.(*tmplTree).nodes, t.(*tmplTree).err
	}
	nodes, err := buildTree(s)
	t := &tmplTree{nodes: nodes, err: err}
	actual, _ := trees.LoadOrStore(s, t)
	return actual.(*tmplTree).nodes, actual.(*tmplTree).err
}

// tag is one lexical piece of a template.
type tag struct {
	kind byte // 't' text, '{' output, '%' statement
	text string
	line int // where the tag opens, from 1
}

// lexTemplate splits s into text, {{ }} and {% %} pieces, dropping
// {# comments #}, applying whitespace control ({%- -%}, {{- -}}) and
// trim_blocks (the newline right after a %} goes, as Ansible sets it).
// {% raw %} ... {% endraw %} is text.
func lexTemplate(s string) ([]tag, error) {
	var tags []tag
	trimNext := false
	orig, seen, line := s, 0, 1
	for s != "" {
		i := nextOpen(s)
		if i < 0 {
			tags = appendText(tags, s, trimNext)
			break
		}
		pos := len(orig) - len(s) + i
		line += strings.Count(orig[seen:pos], "\n")
		seen = pos
		text, kind := s[:i], s[i+1]
		body := s[i+2:]
		if strings.HasPrefix(body, "-") {
			text = strings.TrimRight(text, " \t\r\n")
			body = body[1:]
		}
		tags = appendText(tags, text, trimNext)
		trimNext = false
		var end int
		switch kind {
		case '{':
			end = exprEnd(body, "}}")
		case '%':
			end = exprEnd(body, "%}")
		default:
			end = strings.Index(body, "#}")
		}
		if end < 0 {
			return nil, atLine(line, fmt.Errorf("unterminated %s in %q", s[i:i+2], shorten(s[i:])))
		}
		inner, rest := body[:end], body[end+2:]
		if strings.HasSuffix(inner, "-") {
			inner = inner[:len(inner)-1]
			trimNext = true
		} else if kind != '{' && strings.HasPrefix(rest, "\n") {
			rest = rest[1:] // trim_blocks
		}
		inner = strings.TrimSpace(inner)
		switch kind {
		case '{':
			if inner == "" {
				return nil, atLine(line, fmt.Errorf("empty {{ }} in %q", shorten(s)))
			}
			tags = append(tags, tag{'{', inner, line})
		case '%':
			if inner == "raw" {
				j := strings.Index(rest, "{%")
				for j >= 0 && !isEndRaw(rest[j:]) {
					k := strings.Index(rest[j+2:], "{%")
					if k < 0 {
						j = -1
						break
					}
					j += 2 + k
				}
				if j < 0 {
					return nil, atLine(line, fmt.Errorf("{%% raw %%} without {%% endraw %%}"))
				}
				tags = append(tags, tag{'t', rest[:j], 0})
				s = rest[j+strings.Index(rest[j:], "%}")+2:]
				continue
			}
			tags = append(tags, tag{'%', inner, line})
		}
		s = rest
	}
	return tags, nil
}

func isEndRaw(s string) bool {
	s = strings.TrimLeft(strings.TrimPrefix(s[2:], "-"), " \t")
	return strings.HasPrefix(s, "endraw")
}

// nextOpen finds the next {{, {% or a {# that has its #}; a lone {# (a
// shell's ${#arr[@]}) is text.
func nextOpen(s string) int {
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '{' {
			continue
		}
		switch s[i+1] {
		case '{', '%':
			return i
		case '#':
			if strings.Contains(s[i+2:], "#}") {
				return i
			}
		}
	}
	return -1
}

func appendText(tags []tag, text string, trimLeft bool) []tag {
	if trimLeft {
		text = strings.TrimLeft(text, " \t\r\n")
	}
	if text == "" {
		return tags
	}
	return append(tags, tag{'t', text, 0})
}

func shorten(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// buildTree lexes and parses a template, compiling every expression.
func buildTree(s string) ([]node, error) {
	tags, err := lexTemplate(s)
	if err != nil {
		return nil, err
	}
	p := &treeParser{tags: tags}
	nodes, end, err := p.block()
	if err != nil {
		return nil, err
	}
	if end != "" {
		return nil, atLine(p.tags[p.i-1].line, fmt.Errorf("{%% %s %%} without its opening statement", end))
	}
	return nodes, nil
}

type treeParser struct {
	tags []tag
	i    int
}

// unsupportedStmts are the Jinja statements tend refuses, with why.
var unsupportedStmts = map[string]string{
	"macro": "macros", "call": "macro calls", "block": "template inheritance", "extends": "template inheritance",
	"include": "template includes", "import": "template imports", "from": "template imports",
	"filter": "filter blocks", "with": "with blocks", "autoescape": "autoescape blocks", "do": "do statements",
	"break": "loop controls", "continue": "loop controls",
}

// block parses nodes up to an end tag (endif, elif, else, endfor) or the
// end, and returns the end tag's full text.
func (p *treeParser) block() ([]node, string, error) {
	var nodes []node
	for p.i < len(p.tags) {
		t := p.tags[p.i]
		p.i++
		switch t.kind {
		case 't':
			nodes = append(nodes, textNode(t.text))
		case '{':
			if err := compileExpr(t.text); err != nil {
				return nil, "", atLine(t.line, err)
			}
			nodes = append(nodes, outNode{t.text, t.line})
		case '%':
			word, rest := splitWord(t.text)
			var n node
			var err error
			switch word {
			case "if":
				n, err = p.parseIf(rest, t.line)
			case "for":
				n, err = p.parseFor(rest, t.line)
			case "set":
				n, err = parseSet(rest, t.line)
			case "endif", "elif", "else", "endfor":
				return nodes, t.text, nil
			default:
				if what, ok := unsupportedStmts[word]; ok {
					err = fmt.Errorf("{%% %s %%}: %s are not supported in tend templates; use {%% if %%}, {%% for %%} and {%% set %%}", word, what)
				} else {
					err = fmt.Errorf("unknown statement {%% %s %%}", word)
				}
			}
			if err != nil {
				return nil, "", atLine(t.line, err)
			}
			nodes = append(nodes, n)
		}
	}
	return nodes, "", nil
}

func splitWord(s string) (string, string) {
	word, rest, _ := strings.Cut(s, " ")
	return word, strings.TrimSpace(rest)
}

// compileExpr compiles an expression and returns its error.
func compileExpr(e string) error { return compile(e).err }

func (p *treeParser) parseIf(cond string, line int) (node, error) {
	n := &ifNode{}
	for {
		if err := compileExpr(cond); err != nil {
			return nil, atLine(line, err)
		}
		body, end, err := p.block()
		if err != nil {
			return nil, err
		}
		n.conds = append(n.conds, cond)
		n.lines = append(n.lines, line)
		n.bodies = append(n.bodies, body)
		word, rest := splitWord(end)
		switch word {
		case "elif":
			cond, line = rest, p.tags[p.i-1].line
			continue
		case "else":
			if n.els, end, err = p.block(); err != nil {
				return nil, err
			}
			if end != "endif" {
				return nil, fmt.Errorf("{%% if %%} needs {%% endif %%}, found %s", describeEnd(end))
			}
			return n, nil
		case "endif":
			return n, nil
		}
		return nil, fmt.Errorf("{%% if %%} needs {%% endif %%}, found %s", describeEnd(end))
	}
}

func describeEnd(end string) string {
	if end == "" {
		return "the end of the template"
	}
	return "{% " + end + " %}"
}

// parseFor reads `x in xs`, `k, v in m.items()` and `x in xs if cond`.
func (p *treeParser) parseFor(spec string, line int) (node, error) {
	toks, err := lex(spec)
	if err != nil {
		return nil, err
	}
	n := &forNode{line: line}
	i := 0
	for ; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tIdent && t.text == "in" {
			break
		}
		if t.kind == tIdent {
			n.targets = append(n.targets, t.text)
		} else if !(t.kind == tOp && t.text == ",") && t.kind != tOpen && t.kind != tClose {
			return nil, fmt.Errorf("{%% for %s %%}: expected names before 'in'", spec)
		}
	}
	if len(n.targets) == 0 || i == len(toks) {
		return nil, fmt.Errorf("{%% for %s %%}: expected `name in list`", spec)
	}
	_, after, _ := strings.Cut(spec, " in ")
	n.iter = strings.TrimSpace(after)
	if cut := topLevelIf(n.iter); cut >= 0 {
		n.iter, n.cond = strings.TrimSpace(n.iter[:cut]), strings.TrimSpace(n.iter[cut+3:])
		if err := compileExpr(n.cond); err != nil {
			return nil, err
		}
	}
	if strings.HasSuffix(n.iter, " recursive") {
		return nil, fmt.Errorf("{%% for ... recursive %%} is not supported")
	}
	if err := compileExpr(n.iter); err != nil {
		return nil, err
	}
	body, end, err := p.block()
	if err != nil {
		return nil, err
	}
	n.body = body
	if end == "else" {
		if n.els, end, err = p.block(); err != nil {
			return nil, err
		}
	}
	if end != "endfor" {
		return nil, fmt.Errorf("{%% for %%} needs {%% endfor %%}, found %s", describeEnd(end))
	}
	return n, nil
}

// topLevelIf finds " if " outside brackets and quotes in a for loop's
// list expression, where it starts the loop filter.
func topLevelIf(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '"':
			for i++; i < len(s) && s[i] != c; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case ' ':
			if depth == 0 && strings.HasPrefix(s[i:], " if ") {
				return i
			}
		}
	}
	return -1
}

func parseSet(spec string, line int) (node, error) {
	lhs, rhs, ok := strings.Cut(spec, "=")
	if !ok || strings.HasPrefix(rhs, "=") {
		return nil, fmt.Errorf("{%% set %s %%}: expected `name = value` (block set is not supported)", spec)
	}
	n := &setNode{expr: strings.TrimSpace(rhs), line: line}
	for _, name := range strings.Split(lhs, ",") {
		name = strings.TrimSpace(name)
		if name == "" || !isIdentStart(name[0]) || strings.ContainsAny(name, " .[") {
			return nil, fmt.Errorf("{%% set %s %%}: %q is not a variable name", spec, name)
		}
		n.targets = append(n.targets, name)
	}
	if err := compileExpr(n.expr); err != nil {
		return nil, err
	}
	return n, nil
}
