package template

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"

	"tend/internal/omap"
)

// maxRenderNodes bounds the nodes one RenderNode call produces, aliases
// expanded, so an alias bomb in module arguments cannot exhaust memory.
const maxRenderNodes = 100_000

// NodeError is a failure rendering one scalar of a node tree: it carries
// the scalar's line and column, to which the caller adds the file.
type NodeError struct {
	Line, Column int
	Err          error
}

// Error formats the position and the cause: "12:9: undefined variable ...".
func (e *NodeError) Error() string { return fmt.Sprintf("%d:%d: %v", e.Line, e.Column, e.Err) }

// Unwrap returns the cause, an *UndefinedError for instance.
func (e *NodeError) Unwrap() error { return e.Err }

// RenderNode returns a deep copy of n with every string scalar value
// rendered by Render; mapping keys are copied unchanged and aliases are
// expanded. Every node keeps the Line and Column of the node it comes from.
// A native result becomes a node of its kind: an int a !!int scalar, a
// list a sequence, a map a mapping (keys sorted). A rendered string is a
// !!str scalar, so "0755" stays a string for DecodeStrict. Errors are
// *NodeError.
func RenderNode(n *yaml.Node, vars map[string]any) (*yaml.Node, error) {
	r := &nodeRenderer{vars: vars, budget: maxRenderNodes}
	return r.render(n)
}

type nodeRenderer struct {
	vars   map[string]any
	budget int
}

func (r *nodeRenderer) render(n *yaml.Node) (*yaml.Node, error) {
	if n == nil {
		return nil, nil
	}
	if r.budget--; r.budget < 0 {
		return nil, &NodeError{n.Line, n.Column, fmt.Errorf("arguments expand to more than %d nodes (aliases)", maxRenderNodes)}
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return r.render(n.Alias)
	}
	out := *n
	out.Anchor = ""
	out.Alias = nil
	switch n.Kind {
	case yaml.ScalarNode:
		if (n.Tag != "!!str" && n.Tag != "") || !isTemplate(n.Value) {
			return &out, nil
		}
		v, err := Render(n.Value, r.vars)
		if err != nil {
			return nil, &NodeError{n.Line, n.Column, err}
		}
		if s, ok := v.(string); ok {
			out.Value, out.Tag = s, "!!str"
			return &out, nil
		}
		node, err := ValueNode(v, n.Line, n.Column)
		if err != nil {
			return nil, &NodeError{n.Line, n.Column, err}
		}
		return node, nil
	case yaml.MappingNode, yaml.SequenceNode, yaml.DocumentNode:
		out.Content = make([]*yaml.Node, len(n.Content))
		for i, child := range n.Content {
			var err error
			if n.Kind == yaml.MappingNode && i%2 == 0 {
				out.Content[i], err = r.copyKey(child)
			} else {
				out.Content[i], err = r.render(child)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return &out, nil
}

// copyKey deep-copies a mapping key without rendering it.
func (r *nodeRenderer) copyKey(n *yaml.Node) (*yaml.Node, error) {
	if r.budget--; r.budget < 0 {
		return nil, &NodeError{n.Line, n.Column, fmt.Errorf("arguments expand to more than %d nodes (aliases)", maxRenderNodes)}
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return r.copyKey(n.Alias)
	}
	out := *n
	out.Anchor, out.Alias = "", nil
	out.Content = make([]*yaml.Node, len(n.Content))
	for i, child := range n.Content {
		var err error
		if out.Content[i], err = r.copyKey(child); err != nil {
			return nil, err
		}
	}
	return &out, nil
}

// ValueNode converts a Go value (as Eval returns) into a YAML node
// positioned at line:col: scalars get their YAML tag, slices become
// sequences, maps with string keys become mappings with sorted keys.
func ValueNode(v any, line, col int) (*yaml.Node, error) {
	scalar := func(tag, value string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value, Line: line, Column: col}
	}
	if v == nil {
		return scalar("!!null", "null"), nil
	}
	if om, ok := v.(*omap.Map); ok {
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line, Column: col}
		for _, k := range om.Keys() {
			e, _ := om.Get(k)
			val, err := ValueNode(e, line, col)
			if err != nil {
				return nil, err
			}
			m.Content = append(m.Content, scalar("!!str", k), val)
		}
		return m, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return scalar("!!str", rv.String()), nil
	case reflect.Bool:
		return scalar("!!bool", strconv.FormatBool(rv.Bool())), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return scalar("!!int", strconv.FormatInt(rv.Int(), 10)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return scalar("!!int", strconv.FormatUint(rv.Uint(), 10)), nil
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("result %v is not a finite number", f)
		}
		return scalar("!!float", strconv.FormatFloat(f, 'f', -1, 64)), nil
	case reflect.Slice, reflect.Array:
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: line, Column: col}
		for i := 0; i < rv.Len(); i++ {
			item, err := ValueNode(rv.Index(i).Interface(), line, col)
			if err != nil {
				return nil, err
			}
			seq.Content = append(seq.Content, item)
		}
		return seq, nil
	case reflect.Map:
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line, Column: col}
		keys := rv.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			val, err := ValueNode(rv.MapIndex(k).Interface(), line, col)
			if err != nil {
				return nil, err
			}
			m.Content = append(m.Content, scalar("!!str", fmt.Sprint(k.Interface())), val)
		}
		return m, nil
	}
	if _, ok := v.(undefined); ok {
		return nil, fmt.Errorf("result is undefined")
	}
	return scalar("!!str", format(v)), nil
}
