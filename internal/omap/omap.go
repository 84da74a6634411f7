// Package omap holds Map, the mapping tend's variables use so that a
// mapping keeps the order its keys were written in, as a Python dict does
// in Ansible: loops over dict2items, with_dict, d.items(), to_json and
// combine all yield keys in written order.
//
// A Map is built once (New, Set) and then only read. Reads never change
// it, so one Map may be shared by the variables of many hosts and read by
// them concurrently; Set must not be called once a Map is shared. Values
// that come from Go code (module results, facts) stay plain Go maps:
// Keys gives their keys sorted, the order tend has always used for them.
package omap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"gopkg.in/yaml.v3"
)

// Map is a mapping of string keys to values in the order the keys were
// first set. The zero value is not usable; call New.
type Map struct {
	keys []string
	vals map[string]any
}

// New returns an empty Map with room for n keys.
func New(n int) *Map {
	return &Map{keys: make([]string, 0, n), vals: make(map[string]any, n)}
}

// Set sets k to v. A new key goes last; an existing key keeps its place,
// as a Python dict's does. Only while building: see the package doc.
func (m *Map) Set(k string, v any) {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

// Get returns the value of k and whether m holds k.
func (m *Map) Get(k string) (any, bool) {
	v, ok := m.vals[k]
	return v, ok
}

// Len is the number of keys.
func (m *Map) Len() int { return len(m.keys) }

// Keys are the keys in order. The slice is m's own: do not modify it.
func (m *Map) Keys() []string { return m.keys }

// Plain is m's values as a Go map, m's own: read it, never write it.
func (m *Map) Plain() map[string]any { return m.vals }

// FromMap returns a Map of a Go map's entries, keys sorted.
func FromMap(g map[string]any) *Map {
	out := New(len(g))
	for _, k := range SortedKeys(g) {
		out.Set(k, g[k])
	}
	return out
}

// SortedKeys are a Go map's keys, sorted.
func SortedKeys(g map[string]any) []string {
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// AsMap returns v's entries as a Go map for reading: a *Map's own map or a
// map[string]any itself. ok is false for any other value.
func AsMap(v any) (m map[string]any, ok bool) {
	switch x := v.(type) {
	case *Map:
		if x == nil {
			return nil, false
		}
		return x.vals, true
	case map[string]any:
		return x, true
	}
	return nil, false
}

// Keys returns a mapping's keys in its order: a *Map's written order, a
// map[string]any's keys sorted. ok is false for any other value.
func Keys(v any) (keys []string, ok bool) {
	switch x := v.(type) {
	case *Map:
		if x == nil {
			return nil, false
		}
		return x.keys, true
	case map[string]any:
		return SortedKeys(x), true
	}
	return nil, false
}

// Plain returns v with every *Map in it, however deep, replaced by a Go
// map, for code that compares or stores values without caring for order.
// v itself is returned when it holds no *Map.
func Plain(v any) any {
	switch x := v.(type) {
	case *Map:
		out := make(map[string]any, len(x.keys))
		for k, e := range x.vals {
			out[k] = Plain(e)
		}
		return out
	case map[string]any:
		if !holdsMap(x) {
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Plain(e)
		}
		return out
	case []any:
		if !holdsMap(x) {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Plain(e)
		}
		return out
	}
	return v
}

// holdsMap reports whether a collection holds a *Map at any depth.
func holdsMap(v any) bool {
	switch x := v.(type) {
	case *Map:
		return true
	case map[string]any:
		for _, e := range x {
			if holdsMap(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if holdsMap(e) {
				return true
			}
		}
	}
	return false
}

// MarshalJSON writes m as a JSON object with its keys in order.
func (m *Map) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := enc.Encode(k); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1) // Encode's newline
		b.WriteByte(':')
		if err := enc.Encode(m.vals[k]); err != nil {
			return nil, fmt.Errorf("omap: %s: %w", k, err)
		}
		b.Truncate(b.Len() - 1)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// MarshalYAML writes m as a YAML mapping with its keys in order.
func (m *Map) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, k := range m.keys {
		var val yaml.Node
		if err := val.Encode(m.vals[k]); err != nil {
			return nil, fmt.Errorf("omap: %s: %w", k, err)
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, &val)
	}
	return n, nil
}
