package inventory

import (
	"reflect"
	"testing"
)

func TestPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		host  string
		want  map[string]any
	}{
		{
			name: "host over child over parent over all",
			files: []string{`
all:
  vars: {a: all, b: all, c: all, d: all}
  children:
    parent:
      vars: {b: parent, c: parent, d: parent}
      children:
        child:
          vars: {c: child, d: child}
          hosts:
            h: {d: host}
`},
			host: "h",
			want: map[string]any{"a": "all", "b": "parent", "c": "child", "d": "host"},
		},
		{
			name: "siblings at the same depth: later name wins",
			files: []string{`
all:
  children:
    zeta:
      vars: {v: zeta}
      hosts: {h: }
    alpha:
      vars: {v: alpha, only_alpha: 1}
      hosts: {h: }
`},
			host: "h",
			want: map[string]any{"v": "zeta", "only_alpha": 1},
		},
		{
			name: "ansible_group_priority beats name, and is not a variable",
			files: []string{`
all:
  children:
    zeta:
      vars: {v: zeta}
      hosts: {h: }
    alpha:
      vars: {v: alpha, ansible_group_priority: 5}
      hosts: {h: }
`},
			host: "h",
			want: map[string]any{"v": "alpha"},
		},
		{
			name: "depth beats name and priority",
			files: []string{`
all:
  children:
    zz_top:
      vars: {v: top, ansible_group_priority: 99}
      children:
        aa_deep:
          vars: {v: deep}
          hosts: {h: }
`},
			host: "h",
			want: map[string]any{"v": "deep"},
		},
		{
			name: "depth is the longest path from all",
			files: []string{`
all:
  children:
    b_shallow:
      vars: {v: shallow}
      hosts: {h: }
    outer:
      children:
        a_nested:
          vars: {v: nested}
          children:
            b_shallow:
`},
			host: "h",
			// b_shallow sits at depth 1 under all and depth 3 under
			// outer/a_nested: it takes 3 and so beats a_nested (2).
			want: map[string]any{"v": "shallow"},
		},
		{
			name: "the same host under two groups: host vars merge, later wins",
			files: []string{`
all:
  children:
    g1:
      hosts:
        h: {x: 1, y: 1}
    g2:
      hosts:
        h: {y: 2}
`},
			host: "h",
			want: map[string]any{"x": 1, "y": 2},
		},
		{
			name: "shallow merge of mappings (hash_behaviour=replace)",
			files: []string{`
all:
  vars:
    m: {a: 1, b: 2}
  hosts:
    h:
      m: {b: 3}
`},
			host: "h",
			want: map[string]any{"m": map[string]any{"b": 3}},
		},
		{
			name: "a later file wins at the same level, not across levels",
			files: []string{`
all:
  vars: {v: all1, w: all1}
  children:
    g:
      vars: {g: g1}
      hosts:
        h: {hv: file1}
`, `
all:
  vars: {v: all2}
  children:
    g:
      vars: {g: g2}
      hosts:
        h:
`, `
all:
  vars: {hv: all3}
`},
			host: "h",
			want: map[string]any{"v": "all2", "w": "all1", "g": "g2", "hv": "file1"},
		},
		{
			name: "ansible_group_priority set in a later file",
			files: []string{`
all:
  children:
    a: {vars: {v: a}, hosts: {h: }}
    b: {vars: {v: b}, hosts: {h: }}
`, `
all:
  children:
    a: {vars: {ansible_group_priority: 2}}
`},
			host: "h",
			want: map[string]any{"v": "a"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := mustLoad(t, tc.files...)
			h, ok := inv.Host(tc.host)
			if !ok {
				t.Fatalf("no host %q", tc.host)
			}
			if !reflect.DeepEqual(h.Vars, tc.want) {
				t.Errorf("vars = %#v\nwant   %#v", h.Vars, tc.want)
			}
		})
	}
}
