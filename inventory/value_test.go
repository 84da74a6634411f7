package inventory

import (
	"reflect"
	"testing"

	"tend/internal/omap"
)

// TestScalars covers faults row 20: a plain scalar is typed only where YAML
// 1.1 and 1.2 agree; otherwise the text is kept as a string.
func TestScalars(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want any
	}{
		{`"0755"`, "0755"},
		{`'yes'`, "yes"},
		{`0755`, "0755"}, // YAML 1.1: 493; YAML 1.2: 755
		{`0o755`, "0o755"},
		{`0b101`, "0b101"},
		{`1_000`, "1_000"},
		{`1:30`, "1:30"}, // YAML 1.1 sexagesimal 90
		{`1e3`, "1e3"},   // YAML 1.2 float, YAML 1.1 string
		{`-.5`, "-.5"},
		{`.inf`, ".inf"},
		{`2024-01-02`, "2024-01-02"},
		{`yes`, "yes"},
		{`No`, "No"},
		{`on`, "on"},
		{`OFF`, "OFF"},
		{`y`, "y"},
		{`42`, 42},
		{`-7`, -7},
		{`+3`, 3},
		{`0`, 0},
		{`0x1F`, 31},
		{`99999999999999999999`, "99999999999999999999"},
		{`1.5`, 1.5},
		{`1.`, 1.0},
		{`.5`, 0.5},
		{`1.5e+3`, 1500.0},
		{`true`, true},
		{`False`, false},
		{`null`, nil},
		{`~`, nil},
		{``, nil},
		{`"null"`, "null"},
		{`!!str 0755`, "0755"},
		{`!!str yes`, "yes"},
		{`!!int 42`, 42},
		{`!!int "42"`, 42},
		{`!!float 1e3`, 1000.0},
		{`!!float 2`, 2.0},
		{`!!bool true`, true},
		{`!!null ""`, nil},
		{`[1, "2", yes]`, []any{1, "2", "yes"}},
		{`{a: 0755, b: [true]}`, map[string]any{"a": "0755", "b": []any{true}}},
		{"|\n        a\n        b", "a\nb\n"},
	} {
		inv := mustLoad(t, "all:\n  hosts:\n    h:\n      v: "+tc.yaml+"\n")
		h, _ := inv.Host("h")
		if got := omap.Plain(h.Vars["v"]); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("v: %s => %#v, want %#v", tc.yaml, got, tc.want)
		}
	}
}

func TestAliasesAndMerge(t *testing.T) {
	inv := mustLoad(t, `
all:
  vars:
    base: &base {user: app, port: 80, tags: [a]}
  children:
    web:
      vars:
        <<: *base
        port: 8080
      hosts:
        h1: &hv {role: web}
        h2: *hv
    db:
      vars:
        <<: [{a: first, b: first}, {a: second, c: second}]
      hosts:
        h3:
`)
	h1, _ := inv.Host("h1")
	h2, _ := inv.Host("h2")
	h3, _ := inv.Host("h3")
	base := map[string]any{"user": "app", "port": 80, "tags": []any{"a"}}
	for _, tc := range []struct {
		h    *Host
		want map[string]any
	}{
		{h1, map[string]any{"base": base, "user": "app", "port": 8080, "tags": []any{"a"}, "role": "web"}},
		{h2, map[string]any{"base": base, "user": "app", "port": 8080, "tags": []any{"a"}, "role": "web"}},
		{h3, map[string]any{"base": base, "a": "first", "b": "first", "c": "second"}},
	} {
		if !reflect.DeepEqual(omap.Plain(tc.h.Vars), tc.want) {
			t.Errorf("%s vars = %#v\nwant %#v", tc.h.Name, tc.h.Vars, tc.want)
		}
	}
}

func TestAliasBomb(t *testing.T) {
	doc := "all:\n  vars:\n    a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		doc += "    " + n + ": &" + n + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = n
	}
	if _, err := Load(write(t, "bomb.yml", doc)); err == nil {
		t.Fatal("alias bomb loaded without error")
	}
}
