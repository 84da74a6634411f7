package template

import (
	"reflect"
	"sync"
	"testing"

	"tend/internal/omap"
)

// dict builds an *omap.Map from key, value pairs in the order given.
func dict(kv ...any) *omap.Map {
	m := omap.New(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		m.Set(kv[i].(string), kv[i+1])
	}
	return m
}

// orderVars hold a mapping written z, a, m (as a playbook's vars are
// decoded) and a Go map as code builds one (a module's result).
func orderVars() map[string]any {
	return map[string]any{
		"tuning": dict("z", 1, "a", 2, "m", 3),
		"nested": dict("b", dict("y", 1, "x", 2), "a", []any{dict("k", 1, "c", 2)}),
		"gomap":  map[string]any{"z": 1, "a": 2},
		"same":   dict("m", 3, "a", 2, "z", 1),
		"keys":   []any{"z", "a"},
	}
}

// TestOrderKept: every way a template reads a mapping yields its keys in
// written order, as Ansible's dicts do; a Go map from code keeps the
// sorted order tend always gave it; outputs that sort in Ansible sort.
func TestOrderKept(t *testing.T) {
	tests := []struct{ name, tmpl, want string }{
		{"dict2items", "{{ tuning | dict2items | map(attribute='key') | join(',') }}", "z,a,m"},
		{"dict2items names", "{{ tuning | dict2items(key_name='n', value_name='v') | first | to_json }}", `{"n": "z", "v": 1}`},
		{"items()", "{% for k, v in tuning.items() %}{{ k }}={{ v }};{% endfor %}", "z=1;a=2;m=3;"},
		{"keys()", "{{ tuning.keys() | join(',') }}", "z,a,m"},
		{"values()", "{{ tuning.values() | join(',') }}", "1,2,3"},
		{"for over mapping", "{% for k in tuning %}{{ k }}{% endfor %}", "zam"},
		{"loop.first", "{% for k in tuning %}{% if loop.first %}{{ k }}{% endif %}{% endfor %}", "z"},
		{"str", "{{ tuning }}.", "{'z': 1, 'a': 2, 'm': 3}."},
		{"str nested", "{{ nested }}.", "{'b': {'y': 1, 'x': 2}, 'a': [{'k': 1, 'c': 2}]}."},
		{"to_json", "{{ tuning | to_json }}", `{"z": 1, "a": 2, "m": 3}`},
		{"to_json sort_keys", "{{ tuning | to_json(sort_keys=True) }}", `{"a": 2, "m": 3, "z": 1}`},
		{"to_nice_json sorts", "{{ tuning | to_nice_json }}", "{\n    \"a\": 2,\n    \"m\": 3,\n    \"z\": 1\n}"},
		{"to_nice_json unsorted", "{{ nested | to_nice_json(sort_keys=False, indent=1) }}", "{\n \"b\": {\n  \"y\": 1,\n  \"x\": 2\n },\n \"a\": [\n  {\n   \"k\": 1,\n   \"c\": 2\n  }\n ]\n}"},
		{"to_yaml sorts", "{{ tuning | to_yaml }}", "{a: 2, m: 3, z: 1}\n"},
		{"to_yaml unsorted", "{{ tuning | to_yaml(sort_keys=False) }}", "{z: 1, a: 2, m: 3}\n"},
		{"to_nice_yaml unsorted", "{{ nested | to_nice_yaml(sort_keys=False, indent=2) }}", "b:\n  y: 1\n  x: 2\na:\n- k: 1\n  c: 2\n"},
		{"combine", "{{ tuning | combine({'b': 9, 'a': 0}) | to_json }}", `{"z": 1, "a": 0, "m": 3, "b": 9}`},
		{"combine recursive", "{{ nested | combine({'b': {'w': 0, 'y': 5}}, recursive=True) | to_json }}", `{"b": {"y": 5, "x": 2, "w": 0}, "a": [{"k": 1, "c": 2}]}`},
		{"combine list", "{{ ([tuning, {'q': 0}] | combine).keys() | join(',') }}", "z,a,m,q"},
		{"items2dict", "{{ tuning | dict2items | items2dict | to_json }}", `{"z": 1, "a": 2, "m": 3}`},
		{"literal", "{{ {'z': 1, 'a': 2, 'z': 3} | to_json }}", `{"z": 3, "a": 2}`},
		{"literal computed keys", "{{ {keys[0]: 1, keys[1] ~ '!': 2} | to_json }}", `{"z": 1, "a!": 2}`},
		{"from_json", `{{ '{"z": 1, "a": {"y": 2.5, "b": null}}' | from_json | to_json }}`, `{"z": 1, "a": {"y": 2.5, "b": null}}`},
		{"from_yaml", "{{ 'z: 1\na: [x, {q: 1, b: 2}]' | from_yaml | to_json }}", `{"z": 1, "a": ["x", {"q": 1, "b": 2}]}`},
		{"dictsort still sorts", "{{ tuning | dictsort | map('first') | join(',') }}", "a,m,z"},
		{"Go map sorted", "{{ gomap | dict2items | map(attribute='key') | join(',') }}", "a,z"},
		{"Go map to_json", "{{ gomap | to_json }}", `{"a": 2, "z": 1}`},
		{"index dot", "{{ tuning.z }}-{{ tuning['a'] }}-{{ tuning.get('m') }}", "1-2-3"},
		{"in", "{{ 'a' in tuning }} {{ 'q' in tuning }} {{ 'q' not in tuning }}", "True False True"},
		{"in list of dicts", "{{ {'m': 3, 'a': 2, 'z': 1} in [tuning] }}.", "True."},
		{"length", "{{ tuning | length }} {{ tuning | count }}", "3 3"},
		{"truthy", "{% if tuning %}y{% endif %}{% if {} %}n{% endif %}", "y"},
		{"equal ignores order", "{{ tuning == same }} {{ tuning != same }} {{ tuning == {'z': 1} }}", "True False False"},
		{"equal Go map", "{{ {'z': 1, 'a': 2} == gomap }}.", "True."},
		{"is equalto", "{{ tuning is equalto(same) }}.", "True."},
		{"is mapping", "{{ tuning is mapping }} {{ tuning | type_debug }}", "True dict"},
		{"selectattr", "{{ tuning | dict2items | selectattr('value', 'gt', 1) | map(attribute='key') | join(',') }}", "a,m"},
		{"set keeps order", "{% set d = tuning | combine({'c': 0}) %}{{ d.keys() | join(',') }}", "z,a,m,c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.tmpl, orderVars())
			if err != nil {
				t.Fatalf("Render(%q): %v", tt.tmpl, err)
			}
			if got != tt.want {
				t.Errorf("Render(%q)\n got %q\nwant %q", tt.tmpl, got, tt.want)
			}
		})
	}
}

// TestOrderedValueNode: a mapping rendered for a module's arguments keeps
// its order in the YAML node the module decodes.
func TestOrderedValueNode(t *testing.T) {
	n, err := ValueNode(dict("z", 1, "a", dict("y", true, "b", nil)), 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := 0; i < len(n.Content); i += 2 {
		keys = append(keys, n.Content[i].Value)
	}
	inner := n.Content[3]
	keys = append(keys, inner.Content[0].Value, inner.Content[2].Value)
	if want := []string{"z", "a", "y", "b"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
}

// TestOrderConcurrent: many hosts render over one shared mapping at once;
// none changes it (go test -race checks the reads).
func TestOrderConcurrent(t *testing.T) {
	vars := orderVars()
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				got, err := Render("{{ tuning | combine({'b': 1}) | dict2items | map(attribute='key') | join(',') }}", vars)
				if err != nil || got != "z,a,m,b" {
					t.Errorf("got %v, %v", got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := vars["tuning"].(*omap.Map).Keys(); !reflect.DeepEqual(got, []string{"z", "a", "m"}) {
		t.Errorf("shared mapping changed: %v", got)
	}
}
