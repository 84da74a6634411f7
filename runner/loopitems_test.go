package runner

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"tend/internal/yamlnode"
	"tend/runner/playbook"
)

// TestLoopItems: each loop keyword expands its value as Ansible's lookup
// of that name does.
func TestLoopItems(t *testing.T) {
	vars := map[string]any{
		"pkgs":   []any{"a", "b"},
		"tuning": map[string]any{"net.b": 2, "net.a": 1},
		"n":      3,
		// as a playbook's vars are decoded: keys in written order
		"ordered": mustOrdered(t, "{z: 1, a: {y: 1, b: 2}, m: 3}"),
	}
	for _, tc := range []struct{ kind, value, want string }{
		{"loop", `"{{ ordered | dict2items }}"`, `[{"key":"z","value":1},{"key":"a","value":{"y":1,"b":2}},{"key":"m","value":3}]`},
		{"loop", `"{{ ordered.items() | list }}"`, `[["z",1],["a",{"y":1,"b":2}],["m",3]]`},
		{"loop", `"{{ ordered.keys() | list }}"`, `["z","a","m"]`},
		{"loop", `"{{ ordered | combine({'b': 0, 'z': 9}) | dict2items | map(attribute='key') | list }}"`, `["z","a","m","b"]`},
		{"with_items", `"{{ [ordered] }}"`, `[{"z":1,"a":{"y":1,"b":2},"m":3}]`},
		{"with_dict", `"{{ ordered }}"`, `[{"key":"z","value":1},{"key":"a","value":{"y":1,"b":2}},{"key":"m","value":3}]`},
		{"with_dict", `{z: {y: 1, b: 2}, a: 2}`, `[{"key":"z","value":{"y":1,"b":2}},{"key":"a","value":2}]`},
		{"loop", `"{{ pkgs }}"`, `["a","b"]`},
		{"loop", `[x, "{{ n }}"]`, `["x",3]`},
		{"loop", `"{{ range(2) | list }}"`, `[0,1]`},
		{"loop", `"{{ tuning | dict2items }}"`, `[{"key":"net.a","value":1},{"key":"net.b","value":2}]`},
		{"loop", `[]`, `[]`},
		{"with_list", `[[a, b], c]`, `[["a","b"],"c"]`},
		{"with_items", `[[a, b], c, [[d]]]`, `["a","b","c",["d"]]`},
		{"with_items", `"{{ pkgs }}"`, `["a","b"]`},
		{"with_items", `solo`, `["solo"]`},
		{"with_dict", `{z: 1, a: 2}`, `[{"key":"z","value":1},{"key":"a","value":2}]`},
		{"with_dict", `"{{ tuning }}"`, `[{"key":"net.a","value":1},{"key":"net.b","value":2}]`},
		{"with_sequence", `start=1 end=3`, `["1","2","3"]`},
		{"with_sequence", `start=0 end=10 stride=5 format=web%02d`, `["web00","web05","web10"]`},
		{"with_sequence", `count=2`, `["1","2"]`},
		{"with_sequence", `count=0`, `[]`},
		{"with_sequence", `start=5 end=1 stride=-2`, `["5","3","1"]`},
		{"with_sequence", `4-6/2:n%d`, `["n4","n6"]`},
		{"with_sequence", `"end={{ n }}"`, `["1","2","3"]`},
		{"with_nested", `[[a, b], [1, 2]]`, `[["a",1],["a",2],["b",1],["b",2]]`},
		{"with_together", `[[a, b, c], [1, 2]]`, `[["a",1],["b",2],["c",null]]`},
	} {
		t.Run(tc.kind+" "+tc.value, func(t *testing.T) {
			got, err := loopItems(loopOf(t, tc.kind, tc.value), vars, "/pb/play.yml")
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				got = []any{}
			}
			b, _ := json.Marshal(got)
			if string(b) != tc.want {
				t.Errorf("got %s, want %s", b, tc.want)
			}
		})
	}
}

// TestLoopItemsErrors: values a loop cannot take are refused with why.
func TestLoopItemsErrors(t *testing.T) {
	for _, tc := range []struct{ kind, value, want string }{
		{"loop", `"{{ 'a,b' }}"`, `must be a list, not the string "a,b"`},
		{"loop", `"{{ nope }}"`, `nope`},
		{"loop", `"{{ range(20000) | list }}"`, "20000 items: more than tend's limit of 10000"},
		{"with_dict", `[a]`, "with_dict needs a mapping, not a list"},
		{"with_sequence", `start=1`, "needs end or count"},
		{"with_sequence", `start=1 end=5 count=2`, "count or end, not both"},
		{"with_sequence", `start=5 end=1`, "the stride must be negative"},
		{"with_sequence", `end=3 stride=0`, "stride must not be 0"},
		{"with_sequence", `end=3 format=%d%d`, "exactly one"},
		{"with_sequence", `end=x`, `end must be an integer, not "x"`},
		{"with_sequence", `stop=3`, `unknown key "stop"`},
		{"with_sequence", `end=99999999`, "more than tend's limit"},
		{"with_nested", `a`, "must be a list of lists"},
	} {
		t.Run(tc.kind+" "+tc.value, func(t *testing.T) {
			_, err := loopItems(loopOf(t, tc.kind, tc.value), map[string]any{}, "/pb/play.yml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestLoopFileglob: with_fileglob lists the controller's regular files,
// relative patterns under the playbook's files/ or its directory, sorted.
func TestLoopFileglob(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"files/b.conf", "files/a.conf", "files/x.txt", "top.conf"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "files", "d.conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	pb := filepath.Join(dir, "play.yml")
	for _, tc := range []struct{ value, want string }{
		{`"*.conf"`, "files/a.conf files/b.conf"},
		{`"top.*"`, "top.conf"},
		{`["*.txt", "` + dir + `/files/a*"]`, "files/x.txt files/a.conf"},
		{`"none.*"`, ""},
	} {
		got, err := loopItems(loopOf(t, "with_fileglob", tc.value), nil, pb)
		if err != nil {
			t.Fatal(err)
		}
		var rel []string
		for _, g := range got {
			r, _ := filepath.Rel(dir, g.(string))
			rel = append(rel, r)
		}
		if s := strings.Join(rel, " "); s != tc.want {
			t.Errorf("%s: got %q, want %q", tc.value, s, tc.want)
		}
	}
}

func loopOf(t *testing.T, kind, value string) *playbook.Loop {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(value), &doc); err != nil {
		t.Fatal(err)
	}
	return &playbook.Loop{Kind: kind, Value: doc.Content[0], LoopVar: "item"}
}

// TestItemLabel: items show as Ansible shows them.
func TestItemLabel(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_fin_timeout"},
		{map[string]any{"value": 30, "key": "fin"}, "{'key': 'fin', 'value': 30}"},
		{[]any{"a", 1, true, nil, 1.5}, "['a', 1, True, None, 1.5]"},
		{[]any{"it's"}, `['it\'s']`},
		{strings.Repeat("x", 300), strings.Repeat("x", 200) + "… (100 bytes more)"},
	} {
		if got := itemLabel(tc.v); got != tc.want {
			t.Errorf("itemLabel(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// mustOrdered decodes a YAML value as variables are (mappings in written
// order).
func mustOrdered(t *testing.T, src string) any {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	v, err := yamlnode.DecodeOrdered("vars.yml", &doc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
