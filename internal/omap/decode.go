package omap

import (
	"encoding/json"
	"fmt"

	"gopkg.in/yaml.v3"
)

// FromYAML converts a YAML node as yaml.v3's Unmarshal into an `any` does
// (its scalars typed by yaml.v3 itself, merge keys followed), except that
// a mapping whose keys are all strings becomes a *Map in written order.
func FromYAML(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return FromYAML(n.Content[0])
	case yaml.AliasNode:
		return FromYAML(n.Alias)
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := FromYAML(c)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case yaml.MappingNode:
		if !stringKeys(n) {
			var v any // a key that is not a string: as yaml.v3 has it
			err := n.Decode(&v)
			return v, err
		}
		out := New(len(n.Content) / 2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if _, dup := out.Get(k.Value); dup {
				return nil, fmt.Errorf("yaml: line %d: mapping key %q already defined", k.Line, k.Value)
			}
			v, err := FromYAML(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out.Set(k.Value, v)
		}
		return out, nil
	}
	var v any
	err := n.Decode(&v)
	return v, err
}

// stringKeys reports whether every key of mapping n is a plain string
// scalar (no merge key, no number or null yaml.v3 would type otherwise).
func stringKeys(n *yaml.Node) bool {
	for i := 0; i < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return false
		}
	}
	return true
}

// DecodeJSON reads one JSON value from dec as dec.Decode into an `any`
// does (UseNumber as dec has it), except that an object becomes a *Map
// in written order; a repeated key keeps its first place and its last
// value, as Python's json does.
func DecodeJSON(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	return jsonValue(dec, tok)
}

func jsonValue(dec *json.Decoder, tok json.Token) (any, error) {
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '[':
		out := []any{}
		for dec.More() {
			v, err := DecodeJSON(dec)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		_, err := dec.Token()
		return out, err
	case '{':
		out := New(0)
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, ok := kt.(string)
			if !ok {
				return nil, fmt.Errorf("omap: object key %v is not a string", kt)
			}
			v, err := DecodeJSON(dec)
			if err != nil {
				return nil, err
			}
			out.Set(k, v)
		}
		_, err := dec.Token()
		return out, err
	}
	return nil, fmt.Errorf("omap: unexpected %v", d)
}
