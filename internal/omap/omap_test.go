package omap

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func build(kv ...any) *Map {
	m := New(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		m.Set(kv[i].(string), kv[i+1])
	}
	return m
}

// TestSetKeepsFirstPlace: a new key goes last, an existing one keeps its
// place and takes the new value, as a Python dict's.
func TestSetKeepsFirstPlace(t *testing.T) {
	m := build("z", 1, "a", 2, "z", 3, "m", 4)
	if got := m.Keys(); !reflect.DeepEqual(got, []string{"z", "a", "m"}) {
		t.Errorf("keys %v", got)
	}
	if v, ok := m.Get("z"); !ok || v != 3 || m.Len() != 3 {
		t.Errorf("z = %v, %v; len %d", v, ok, m.Len())
	}
}

func TestKeysAndAsMap(t *testing.T) {
	tests := []struct {
		name string
		v    any
		keys []string
		ok   bool
	}{
		{"ordered", build("z", 1, "a", 2), []string{"z", "a"}, true},
		{"Go map sorted", map[string]any{"z": 1, "a": 2}, []string{"a", "z"}, true},
		{"list", []any{1}, nil, false},
		{"nil Map", (*Map)(nil), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, ok := Keys(tt.v)
			if ok != tt.ok || !reflect.DeepEqual(keys, tt.keys) {
				t.Errorf("Keys = %v, %v; want %v, %v", keys, ok, tt.keys, tt.ok)
			}
			if _, ok := AsMap(tt.v); ok != tt.ok {
				t.Errorf("AsMap ok = %v", ok)
			}
		})
	}
}

func TestPlain(t *testing.T) {
	in := []any{build("z", build("y", 1)), map[string]any{"k": build("a", []any{2})}, "s"}
	want := []any{map[string]any{"z": map[string]any{"y": 1}}, map[string]any{"k": map[string]any{"a": []any{2}}}, "s"}
	if got := Plain(in); !reflect.DeepEqual(got, want) {
		t.Errorf("Plain = %#v", got)
	}
	plainList := []any{1, map[string]any{"a": 1}}
	if got := Plain(plainList); &got.([]any)[0] != &plainList[0] {
		t.Errorf("a value without a Map was copied")
	}
}

func TestMarshal(t *testing.T) {
	m := build("z", 1, "a", build("y", "<b>", "b", []any{true, nil}))
	j, err := json.Marshal(m)
	if err != nil || string(j) != `{"z":1,"a":{"y":"\u003cb\u003e","b":[true,null]}}` {
		t.Errorf("json %s, %v", j, err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil || b.String() != "{\"z\":1,\"a\":{\"y\":\"<b>\",\"b\":[true,null]}}\n" {
		t.Errorf("json unescaped %s, %v", b.String(), err)
	}
	y, err := yaml.Marshal(m)
	if err != nil || string(y) != "z: 1\na:\n    y: <b>\n    b:\n        - true\n        - null\n" {
		t.Errorf("yaml %q, %v", y, err)
	}
}

func TestFromYAML(t *testing.T) {
	tests := []struct {
		name, src string
		want      any
		err       string
	}{
		{"order and yaml.v3 typing", "z: 0755\na: [yes, 1.5, ~]\nm: {q: 1, b: '2'}", build("z", 493, "a", []any{"yes", 1.5, nil}, "m", build("q", 1, "b", "2")), ""},
		{"alias", "x: &a {k: 1, c: 2}\ny: *a", build("x", build("k", 1, "c", 2), "y", build("k", 1, "c", 2)), ""},
		{"int keys as yaml.v3", "1: a", map[any]any{1: "a"}, ""},
		{"duplicate", "a: 1\na: 2", nil, `mapping key "a" already defined`},
		{"empty", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tt.src), &doc); err != nil {
				t.Fatal(err)
			}
			got, err := FromYAML(&doc)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromYAML = %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
}

func TestDecodeJSON(t *testing.T) {
	dec := json.NewDecoder(strings.NewReader(`{"z": [1, {"b": 2, "a": null}], "a": "x", "z": 3}`))
	dec.UseNumber()
	got, err := DecodeJSON(dec)
	want := build("z", json.Number("3"), "a", "x")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeJSON = %#v, %v", got, err)
	}
	dec = json.NewDecoder(strings.NewReader(`[{"b": 2, "a": 1}]`))
	got, err = DecodeJSON(dec)
	if want := []any{build("b", 2.0, "a", 1.0)}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeJSON list = %#v, %v", got, err)
	}
	if _, err := DecodeJSON(json.NewDecoder(strings.NewReader(`{"a": `))); err == nil {
		t.Errorf("truncated JSON accepted")
	}
}
