package yamlnode

import (
	"fmt"
	"reflect"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// DecodeOptions tunes DecodeStrict.
type DecodeOptions struct {
	// AllowTemplates accepts a scalar holding "{{" for any typed field
	// (int, bool, duration, list, struct, ...) and leaves the field at its
	// zero value: the value is only known after rendering for a host, when
	// the arguments are decoded again. String fields receive the text.
	AllowTemplates bool
}

// OrderedStrings is a mapping of scalars that keeps its keys in file order,
// for arguments whose order matters (sysctl settings, environment).
type OrderedStrings struct {
	Keys   []string
	Values map[string]string
}

// DecodeStrict decodes a YAML mapping into the struct out points to, the
// way every module decodes its arguments. Keys are matched against `yaml`
// struct tags (`yaml:"name"`, `yaml:"name,omitempty"`, `yaml:"name,required"`,
// `yaml:",inline"` for an embedded struct, `yaml:"-"` to skip; an untagged
// field is its lower-cased name).
//
// Nothing is coerced: a string field takes the scalar's raw text (0755,
// yes and 1e3 stay exactly that); an int field needs a plain decimal
// integer; a bool field needs true or false; a time.Duration is "30s" or a
// whole number of seconds; a []string is a list of scalars or one scalar; a
// map[string]string or OrderedStrings is a mapping of scalars; *yaml.Node
// keeps the raw node; `any` follows DecodeValue; structs, pointers, slices
// and maps nest. A null value leaves the field at its zero value and does
// not satisfy `required`. Unknown keys (with a "did you mean"), duplicate
// keys, missing required keys and type mismatches are *diag.Error values
// positioned in file; several are returned as a diag.List. A nil or null node
// decodes as an empty mapping.
//
// Misuse by the caller (out not a pointer to a struct, an unsupported field
// type) is reported as a plain error.
func DecodeStrict(file string, node *yaml.Node, out any, opts DecodeOptions) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("yamlnode: DecodeStrict needs a non-nil pointer to a struct, got %T", out)
	}
	if _, err := fieldsOf(rv.Elem().Type()); err != nil {
		return err
	}
	d := NewDecoder(file)
	return d.Struct(node, out, opts)
}

// Struct is DecodeStrict with d's file, collecting d's errors: it returns
// only a misuse by the caller; the input's problems are in d.Err.
func (d *Decoder) Struct(node *yaml.Node, out any, opts DecodeOptions) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("yamlnode: Struct needs a non-nil pointer to a struct, got %T", out)
	}
	if _, err := fieldsOf(rv.Elem().Type()); err != nil {
		return err
	}
	saved := d.opts
	d.opts = opts
	defer func() { d.opts = saved }()
	if node != nil && node.Kind == yaml.DocumentNode && len(node.Content) > 0 {
		node = node.Content[0]
	}
	if IsNull(Resolve(node)) {
		node = &yaml.Node{Kind: yaml.MappingNode, Line: lineOf(node), Column: colOf(node)}
	}
	d.value(node, rv.Elem(), "")
	if d.misuse != nil {
		return d.misuse
	}
	return d.Err()
}

func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

func colOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Column
}

// field is one decodable struct field.
type field struct {
	name     string
	index    []int
	required bool
}

// structFields is a struct type's decodable fields, by key and in order.
type structFields struct {
	list   []field
	byName map[string]field
	names  []string
}

var fieldCache sync.Map // reflect.Type -> *structFields

// fieldsOf lists t's keys, flattening `,inline` embedded structs.
func fieldsOf(t reflect.Type) (*structFields, error) {
	if cached, ok := fieldCache.Load(t); ok {
		return cached.(*structFields), nil
	}
	sf := &structFields{byName: map[string]field{}}
	if err := collectFields(t, nil, sf); err != nil {
		return nil, err
	}
	fieldCache.Store(t, sf)
	return sf, nil
}

func collectFields(t reflect.Type, index []int, sf *structFields) error {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, optText, _ := strings.Cut(tag, ",")
		opts := map[string]bool{}
		for _, o := range strings.Split(optText, ",") {
			opts[o] = true
		}
		idx := append(append([]int(nil), index...), i)
		if opts["inline"] {
			if f.Type.Kind() != reflect.Struct {
				return fmt.Errorf("yamlnode: %s.%s: inline needs a struct field", t, f.Name)
			}
			if err := collectFields(f.Type, idx, sf); err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if _, dup := sf.byName[name]; dup {
			return fmt.Errorf("yamlnode: %s: two fields use the key %q", t, name)
		}
		fd := field{name: name, index: idx, required: opts["required"]}
		sf.list = append(sf.list, fd)
		sf.byName[name] = fd
		sf.names = append(sf.names, name)
	}
	return nil
}

// decodeStruct fills v from a mapping node.
func (d *Decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, path, "must be a mapping, not %s", Describe(n))
		return
	}
	sf, err := fieldsOf(v.Type())
	if err != nil {
		d.misuse = err
		return
	}
	present := map[string]bool{}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := Resolve(n.Content[i]), n.Content[i+1]
		if !d.key(k, seen, path) {
			continue
		}
		f, ok := sf.byName[k.Value]
		if !ok {
			d.Errorf(k, JoinPath(path, k.Value), "unknown key%s", DidYouMean(k.Value, sf.names))
			continue
		}
		if !IsNull(Resolve(val)) {
			present[f.name] = true
		}
		d.value(val, v.FieldByIndex(f.index), JoinPath(path, k.Value))
	}
	for _, f := range sf.list {
		if f.required && !present[f.name] {
			d.Errorf(n, JoinPath(path, f.name), "missing required key")
		}
	}
}

// key checks one mapping key: a scalar, not a merge key, not a duplicate.
func (d *Decoder) key(k *yaml.Node, seen map[string]*yaml.Node, path string) bool {
	if k.Kind != yaml.ScalarNode {
		d.Errorf(k, path, "mapping keys must be strings, not %s", Describe(k))
		return false
	}
	if k.Value == "<<" && k.Tag == "!!merge" {
		d.Errorf(k, path, "merge keys (<<) are not supported; write the keys out")
		return false
	}
	if first, dup := seen[k.Value]; dup {
		d.Errorf(k, JoinPath(path, k.Value), "duplicate key (first at line %d, again at line %d)", first.Line, k.Line)
		return false
	}
	seen[k.Value] = k
	return true
}
