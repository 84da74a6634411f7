package yamlnode

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

var (
	nodePtrType     = reflect.TypeFor[*yaml.Node]()
	nodeType        = reflect.TypeFor[yaml.Node]()
	durationType    = reflect.TypeFor[time.Duration]()
	orderedType     = reflect.TypeFor[OrderedStrings]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
)

// value decodes n into v, dispatching on v's type.
func (d *Decoder) value(n *yaml.Node, v reflect.Value, path string) {
	switch v.Type() {
	case nodePtrType:
		v.Set(reflect.ValueOf(n))
		return
	case nodeType:
		v.Set(reflect.ValueOf(*n))
		return
	}
	if d.budget--; d.budget < 0 {
		if d.budget == -1 {
			d.Errorf(n, path, "value expands to more than %d nodes (aliases)", maxValueNodes)
		}
		return
	}
	n = Resolve(n)
	if IsNull(n) {
		v.SetZero()
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerType) {
		if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			d.wrap(n, path, err)
		}
		return
	}
	t := v.Type()
	base := t // an optional string (*string) takes the text as a string does
	for base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	if d.opts.AllowTemplates && HasTemplate(n) && base.Kind() != reflect.String &&
		base.Kind() != reflect.Interface && !(base.Kind() == reflect.Slice && base.Elem().Kind() == reflect.String) {
		return // decoded again once rendered
	}
	switch {
	case t == durationType:
		if dur, ok := d.Duration(n, path); ok {
			v.SetInt(int64(dur))
		}
		return
	case t == orderedType:
		d.ordered(n, v, path)
		return
	}
	switch t.Kind() {
	case reflect.String:
		if d.Scalar(n, path, "a string") {
			v.SetString(n.Value)
		}
	case reflect.Bool:
		if b, ok := d.Bool(n, path); ok {
			v.SetBool(b)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if i, ok := d.Int(n, path, t.Bits()); ok {
			v.SetInt(i)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if i, ok := d.Int(n, path, 64); ok {
			limit := uint64(math.MaxUint64) >> (64 - t.Bits())
			if i < 0 || uint64(i) > limit {
				d.Errorf(n, path, "must be a decimal integer between 0 and %d", limit)
			} else {
				v.SetUint(uint64(i))
			}
		}
	case reflect.Float32, reflect.Float64:
		if f, ok := d.float(n, path); ok {
			v.SetFloat(f)
		}
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		d.value(n, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.slice(n, v, path)
	case reflect.Map:
		d.mapping(n, v, path)
	case reflect.Interface:
		if t.NumMethod() != 0 {
			d.misuse = fmt.Errorf("yamlnode: DecodeStrict: %s: unsupported field type %s", path, t)
			return
		}
		if val := d.Value(n, path); val != nil {
			v.Set(reflect.ValueOf(val))
		}
	default:
		d.misuse = fmt.Errorf("yamlnode: DecodeStrict: %s: unsupported field type %s", path, t)
	}
}

// wrap positions an error returned by a custom UnmarshalYAML.
func (d *Decoder) wrap(n *yaml.Node, path string, err error) {
	if !d.errs.Append(err) {
		d.Errorf(n, path, "%v", err)
	}
}

// Scalar reports whether n is a scalar, and reports an error at the field
// path saying it must be want ("a string") when it is not.
func (d *Decoder) Scalar(n *yaml.Node, path, want string) bool {
	if n.Kind != yaml.ScalarNode {
		d.Errorf(n, path, "must be %s, not %s", want, Describe(n))
		return false
	}
	return true
}

// Bool reads a boolean as Ansible does where one is meant: true/false and
// also yes/no, on/off, y/n, t/f, 1/0 in any letter case (the field is a
// boolean, so nothing is ambiguous). ok is false when an error was reported.
func (d *Decoder) Bool(n *yaml.Node, path string) (bool, bool) {
	if !d.Scalar(n, path, "true or false") {
		return false, false
	}
	if n.Tag == TagStr || n.Tag == TagBool || n.Tag == TagInt || n.Tag == "" {
		if b, ok := AnsibleBool(n.Value); ok {
			return b, true
		}
	}
	d.Errorf(n, path, "must be true or false, not %s", Describe(n))
	return false, false
}

// AnsibleBool reads the strings Ansible's boolean() takes: true, yes, on,
// y, t, 1 and false, no, off, n, f, 0, in any letter case.
func AnsibleBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "y", "t", "1":
		return true, true
	case "false", "no", "off", "n", "f", "0":
		return false, true
	}
	return false, false
}

// Int reads a plain decimal integer that fits in bits; ok is false when
// an error was reported.
func (d *Decoder) Int(n *yaml.Node, path string, bits int) (int64, bool) {
	if !d.Scalar(n, path, "a decimal integer") {
		return 0, false
	}
	// yaml.v3 tags a decimal too large for int64 as !!float; let
	// ParseInt report it as out of range. A string of decimal digits is
	// taken too, as Ansible's int arguments take it: a template renders an
	// extra variable (-e port=8080) as the string "8080". "07" is not.
	if (n.Tag != TagInt && n.Tag != TagFloat && n.Tag != TagStr) || !decimalRE.MatchString(n.Value) {
		d.Errorf(n, path, "must be a decimal integer, not %s", Describe(n))
		return 0, false
	}
	i, err := strconv.ParseInt(n.Value, 10, bits)
	if err != nil {
		d.Errorf(n, path, "%s is out of range for a %d-bit integer", n.Value, bits)
		return 0, false
	}
	return i, true
}

func (d *Decoder) float(n *yaml.Node, path string) (float64, bool) {
	if !d.Scalar(n, path, "a number") {
		return 0, false
	}
	// A string holding a number is taken, as Ansible's float arguments take
	// it: a template renders a computed number ("{{ x * 1.5 }}") as text.
	ok := (n.Tag == TagInt && decimalRE.MatchString(n.Value)) || (n.Tag == TagFloat && floatRE.MatchString(n.Value)) ||
		(n.Tag == TagStr && (decimalRE.MatchString(n.Value) || floatRE.MatchString(n.Value)))
	f, err := strconv.ParseFloat(n.Value, 64)
	if !ok || err != nil {
		d.Errorf(n, path, "must be a decimal number, not %s", Describe(n))
		return 0, false
	}
	return f, true
}

// Duration reads a "30s"-style Go duration or a whole number of seconds;
// ok is false when an error was reported.
func (d *Decoder) Duration(n *yaml.Node, path string) (time.Duration, bool) {
	if !d.Scalar(n, path, `a duration like "30s"`) {
		return 0, false
	}
	dur, err := parseDuration(n)
	if err != nil {
		d.Errorf(n, path, "%v", err)
		return 0, false
	}
	return dur, true
}

// parseDuration reads a duration scalar: a decimal !!int (or a string of
// decimal digits, as a template renders "{{ t }}" of -e t=30) is seconds,
// anything else must parse with time.ParseDuration; negatives are refused.
func parseDuration(n *yaml.Node) (time.Duration, error) {
	if (n.Tag == TagInt || n.Tag == TagStr) && decimalRE.MatchString(n.Value) {
		secs, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil || secs < 0 || secs > math.MaxInt64/int64(time.Second) {
			return 0, fmt.Errorf("%s seconds is out of range", n.Value)
		}
		return time.Duration(secs) * time.Second, nil
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		return 0, fmt.Errorf(`must be a duration like "30s" or a whole number of seconds, not %s`, Describe(n))
	}
	if dur < 0 {
		return 0, fmt.Errorf("must not be negative")
	}
	return dur, nil
}

// slice decodes a list; a single scalar is a one-element []string.
func (d *Decoder) slice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.ScalarNode && v.Type().Elem().Kind() == reflect.String {
		s := reflect.New(v.Type().Elem()).Elem()
		s.SetString(n.Value)
		v.Set(reflect.Append(reflect.MakeSlice(v.Type(), 0, 1), s))
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.Errorf(n, path, "must be a list, not %s", Describe(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.value(item, out.Index(i), IndexPath(path, i))
	}
	v.Set(out)
}

// mapping decodes a map with string keys.
func (d *Decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if v.Type().Key().Kind() != reflect.String {
		d.misuse = fmt.Errorf("yamlnode: DecodeStrict: %s: map keys must be strings, not %s", path, v.Type().Key())
		return
	}
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, path, "must be a mapping, not %s", Describe(n))
		return
	}
	out := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := Resolve(n.Content[i])
		if !d.key(k, seen, path) {
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		d.value(n.Content[i+1], elem, JoinPath(path, k.Value))
		key := reflect.New(v.Type().Key()).Elem()
		key.SetString(k.Value)
		out.SetMapIndex(key, elem)
	}
	v.Set(out)
}

// ordered decodes a mapping of scalars into OrderedStrings.
func (d *Decoder) ordered(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, path, "must be a mapping, not %s", Describe(n))
		return
	}
	out := OrderedStrings{Values: make(map[string]string, len(n.Content)/2)}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := Resolve(n.Content[i]), Resolve(n.Content[i+1])
		if !d.key(k, seen, path) {
			continue
		}
		if !d.Scalar(val, JoinPath(path, k.Value), "a string") {
			continue
		}
		out.Keys = append(out.Keys, k.Value)
		out.Values[k.Value] = val.Value
	}
	v.Set(reflect.ValueOf(out))
}
