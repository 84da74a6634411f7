package template

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"tend/internal/suggest"
)

// program is one compiled expression, cached by its source text.
type program struct {
	prog *vm.Program
	vars []string // root variables read, sorted
	err  error
}

// programs caches compiled expressions by source text. Playbooks hold a
// bounded set of expressions, so the cache is never evicted.
var programs sync.Map // string -> *program

// compile returns the cached program for src, compiling it once.
func compile(src string) *program {
	if p, ok := programs.Load(src); ok {
		return p.(*program)
	}
	p := build(src)
	actual, _ := programs.LoadOrStore(src, p)
	return actual.(*program)
}

// callables are the function tables registered with expr.
var callables = []map[string]func(...any) (any, error){runtimeFuncs, filterFuncs, testFuncs, methodFuncs,
	opFuncs, collFilters, dataFilters, globalFuncs, ansibleFilters}

// callableNames are the names a template may call directly: Jinja's
// globals, the filters that also answer to calls (int(x)) and expr's
// builtins (len, filter, ...).
var callableNames = func() map[string]string {
	out := map[string]string{}
	for name, fn := range globals {
		out[name] = fn
	}
	for name := range filterFuncs {
		out[name] = name
	}
	for _, b := range builtin.Builtins {
		out[b.Name] = b.Name
	}
	return out
}()

// registered reports whether expr knows a function of that name.
func registered(name string) bool {
	for _, table := range callables {
		if _, ok := table[name]; ok {
			return true
		}
	}
	_, ok := callableNames[name]
	return ok
}

// newConfig is a fresh expr configuration: the checker caches type data in
// it, so compilations do not share one.
func newConfig() *conf.Config {
	config := conf.CreateNew()
	expr.AllowUndefinedVariables()(config)
	expr.DisableBuiltin("now")(config) // Ansible's now() (datetime.go), not expr's
	for _, table := range callables {
		for name, fn := range table {
			expr.Function(name, fn)(config)
		}
	}
	return config
}

func build(src string) *program {
	fail := func(err error) *program {
		return &program{err: fmt.Errorf("invalid expression %q: %s", src, exprMessage(err))}
	}
	code, err := translate(src)
	if err != nil {
		return fail(err)
	}
	config := newConfig()
	tree, err := parser.ParseWithConfig(code, config)
	if err != nil {
		return fail(err)
	}
	p := &patcher{callees: map[*ast.Node]bool{}, vars: map[string]bool{}}
	ast.Walk(&tree.Node, calleeFinder(p.callees))
	ast.Walk(&tree.Node, p)
	if p.err != nil {
		return fail(p.err)
	}
	if _, err := checker.Check(tree, config); err != nil {
		return fail(err)
	}
	if err := optimizer.Optimize(&tree.Node, config); err != nil {
		return fail(err)
	}
	prog, err := compiler.Compile(tree, config)
	if err != nil {
		return fail(err)
	}
	vars := make([]string, 0, len(p.vars))
	for v := range p.vars {
		vars = append(vars, v)
	}
	sort.Strings(vars)
	return &program{prog: prog, vars: vars}
}

// exprMessage is an expr error without its snippet, which would show the
// translated code rather than what the user wrote.
func exprMessage(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) {
		return fe.Message
	}
	return err.Error()
}

// calleeFinder records the Callee slot of every call, whose identifier
// names a function rather than a variable.
type calleeFinder map[*ast.Node]bool

func (c calleeFinder) Visit(node *ast.Node) {
	if call, ok := (*node).(*ast.CallNode); ok {
		c[&call.Callee] = true
	}
}

// patcher rewrites every variable read into _var($env, "name") and every
// member read into _get(obj, key, "path"), so that a missing value is an
// *UndefinedError when read; under a guard (is defined, default, ??) the
// lenient forms are used instead. It also maps Python string methods onto
// functions. ast.Walk visits children first, so a guard sees its operand
// already rewritten.
type patcher struct {
	callees map[*ast.Node]bool
	vars    map[string]bool
	err     error
}

func (p *patcher) Visit(node *ast.Node) {
	if p.callees[node] {
		return
	}
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if n.Value == "$env" || strings.HasPrefix(n.Value, "$t") {
			return
		}
		p.vars[n.Value] = true
		ast.Patch(node, call("_var", &ast.IdentifierNode{Value: "$env"}, &ast.StringNode{Value: n.Value}))
	case *ast.MemberNode:
		fn := "_get"
		if n.Optional {
			fn = "_oget"
		}
		ast.Patch(node, call(fn, n.Node, n.Property, &ast.StringNode{Value: describe(n.Node, n.Property)}))
	case *ast.CallNode:
		p.patchCall(node, n)
	case *ast.BinaryNode:
		switch {
		case n.Operator == "??" && lenient(n.Left):
			n.Left = call("_nil", n.Left)
		case n.Operator == "in":
			ast.Patch(node, call("_in", n.Left, n.Right))
		case n.Operator == "==":
			ast.Patch(node, call("_eq", n.Left, n.Right))
		case n.Operator == "!=":
			ast.Patch(node, call("_ne", n.Left, n.Right))
		}
	case *ast.MapNode:
		// A mapping literal keeps its written order (see makeDict).
		args := make([]ast.Node, 0, 2*len(n.Pairs))
		for _, pr := range n.Pairs {
			pair := pr.(*ast.PairNode)
			args = append(args, pair.Key, pair.Value)
		}
		ast.Patch(node, call("_dict", args...))
	}
}

func (p *patcher) patchCall(node *ast.Node, n *ast.CallNode) {
	switch callee := n.Callee.(type) {
	case *ast.IdentifierNode:
		switch name := callee.Value; {
		case name == "lookup" || name == "query" || name == "q":
			p.patchLookup(node, n, name != "lookup")
			return
		case !registered(name):
			p.err = unknownName("function", name, callableNames)
			return
		}
		if guards[callee.Value] && len(n.Arguments) > 0 {
			lenient(n.Arguments[0])
		}
	case *ast.MemberNode:
		name, ok := callee.Property.(*ast.StringNode)
		if !ok {
			p.err = fmt.Errorf("unsupported call")
			return
		}
		if _, ok := methodFuncs["_m_"+name.Value]; !ok {
			p.err = fmt.Errorf("unsupported method %q%s", name.Value, methodHint(name.Value))
			return
		}
		ast.Patch(node, call("_m_"+name.Value, append([]ast.Node{callee.Node}, n.Arguments...)...))
	}
}

// patchLookup turns lookup('name', terms...) into _lookup($env, asList,
// 'name', terms...); the plugin name must be a literal tend knows, so an
// unknown one fails at parse time.
func (p *patcher) patchLookup(node *ast.Node, n *ast.CallNode, asList bool) {
	if len(n.Arguments) == 0 {
		p.err = fmt.Errorf("lookup needs a plugin name")
		return
	}
	name, ok := n.Arguments[0].(*ast.StringNode)
	if !ok {
		p.err = fmt.Errorf("the lookup plugin name must be a quoted string")
		return
	}
	short := strings.TrimPrefix(strings.TrimPrefix(name.Value, "ansible.builtin."), "ansible.legacy.")
	if _, ok := lookupPlugins[short]; !ok {
		p.err = unknownName("lookup plugin", name.Value, lookupPlugins)
		return
	}
	name.Value = short // lookup('ansible.builtin.env', ...): tend's lookups are all ansible.builtin's
	args := append([]ast.Node{&ast.IdentifierNode{Value: "$env"}, &ast.BoolNode{Value: asList}}, n.Arguments...)
	ast.Patch(node, call("_lookup", args...))
}

// guards are the functions whose first argument may be undefined.
var guards = map[string]bool{"default": true, "is_defined": true, "is_undefined": true}

// lenient turns a chain of strict lookups (_var, _get) into lenient ones in
// place and reports whether n was such a chain.
func lenient(n ast.Node) bool {
	c, ok := n.(*ast.CallNode)
	if !ok {
		return false
	}
	id, ok := c.Callee.(*ast.IdentifierNode)
	if !ok {
		return false
	}
	switch id.Value {
	case "_var":
		id.Value = "_lvar"
	case "_get":
		id.Value = "_lget"
		lenient(c.Arguments[0])
	case "_lvar", "_lget":
	default:
		return false
	}
	return true
}

// lookups are the functions the patcher substitutes for reads; their last
// argument names what they read.
var lookups = map[string]bool{"_var": true, "_lvar": true, "_get": true, "_lget": true, "_oget": true}

// call builds a call of a registered function.
func call(name string, args ...ast.Node) *ast.CallNode {
	return &ast.CallNode{Callee: &ast.IdentifierNode{Value: name}, Arguments: args}
}

// describe names a lookup for messages from its already rewritten object
// and its key: "r" + "stdout" is "r.stdout".
func describe(obj, key ast.Node) string {
	base := "value"
	if c, ok := obj.(*ast.CallNode); ok {
		if id, ok := c.Callee.(*ast.IdentifierNode); ok && len(c.Arguments) > 1 {
			if s, ok := c.Arguments[len(c.Arguments)-1].(*ast.StringNode); ok && lookups[id.Value] {
				base = s.Value
			}
		}
	}
	switch k := key.(type) {
	case *ast.StringNode:
		return describeKey(base, k.Value)
	case *ast.IntegerNode:
		return describeKey(base, k.Value)
	}
	return base + "[...]"
}

// methodHint suggests what to write instead of an unsupported method: a
// filter of that name, a close method or filter, or nothing. It never
// names one tend does not have.
func methodHint(name string) string {
	var methods []string
	for m := range methodFuncs {
		methods = append(methods, strings.TrimPrefix(m, "_m_"))
	}
	if m := suggest.Closest(name, methods); m != "" {
		return fmt.Sprintf("; did you mean .%s()?", m)
	}
	if _, ok := filters[strings.ToLower(name)]; ok {
		return fmt.Sprintf("; use the filter | %s", strings.ToLower(name))
	}
	if f := suggest.Closest(name, mapKeys(filters)); f != "" {
		return fmt.Sprintf("; did you mean the filter | %s?", f)
	}
	return ""
}

// mapKeys lists m's keys.
func mapKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
