package modules

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestControlModuleArgs: bad arguments of the control modules are refused
// with file:line:column and what is wrong; good ones build.
func TestControlModuleArgs(t *testing.T) {
	tests := []struct {
		module, args, err string
	}{
		{"debug", `{msg: hi}`, ""},
		{"debug", `{var: x, verbosity: 2}`, ""},
		{"debug", `{msg: hi, var: x}`, `play.yml:1:16: debug: give msg or var, not both`},
		{"debug", `{msg: hi, verbosity: loud}`, `play.yml:1:22: debug: verbosity: want a whole number`},
		{"debug", `{mesage: hi}`, `play.yml:1:2: debug: unknown argument "mesage"`},
		{"set_fact", `{a: 1, cacheable: true}`, ""},
		{"set_fact", `{"bad-name": 1}`, `play.yml:1:2: set_fact: "bad-name" is not a valid variable name`},
		{"set_fact", `just text`, `play.yml:1:1: set_fact: want a mapping`},
		{"set_fact", `{"{{ item.var }}": 1}`, ""}, // a templated name is rendered when the task runs
		{"set_fact", `{if: 1}`, `play.yml:1:2: set_fact: "if" is not a valid variable name`},
		{"set_fact", `{"None": 1}`, `"None" is not a valid variable name`},
		{"fail", `{}`, ""},
		{"fail", `{message: x}`, `play.yml:1:2: fail: unknown argument "message"`},
		{"pause", `{seconds: 1}`, ""},
		{"pause", `{minutes: "{{ m }}"}`, ""},
		{"pause", `{prompt: "press enter"}`, `play.yml:1:1: pause: without seconds: or minutes: pause waits for a key press`},
		{"pause", `{seconds: -1}`, `play.yml:1:11: pause: seconds: want a non-negative number`},
		{"add_host", `{name: "db:2222", groups: "a, b", x: 1}`, ""},
		{"add_host", `{groups: a}`, `play.yml:1:1: add_host: name is required`},
		{"add_host", `{name: [a]}`, `play.yml:1:8: add_host: name: want a host name`},
		{"add_host", `{name: a, "bad-var": 1}`, `play.yml:1:11: add_host: "bad-var" is not a valid variable name`},
		{"add_host", `{name: a, groups: {x: 1}}`, `play.yml:1:19: add_host: groups: want a group name or a list`},
		{"group_by", `{key: "os {{ x }}", parents: [p]}`, ""},
		{"group_by", `{parents: p}`, `play.yml:1:1: group_by: key is required`},
		{"group_by", `{key: k, parent: p}`, `play.yml:1:10: group_by: unknown argument "parent"`},
		{"meta", `flush_handlers`, ""},
		{"meta", `flush`, `play.yml:1:1: meta: want one of flush_handlers, end_host`},
	}
	for _, tt := range tests {
		t.Run(tt.module+" "+tt.args, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tt.args), &doc); err != nil {
				t.Fatal(err)
			}
			spec, _ := Lookup(tt.module)
			_, err := spec.New(Args{Node: doc.Content[0], File: "play.yml"})
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v, want %q", err, tt.err)
			}
		})
	}
}

// TestControlModuleResults: what debug, set_fact and fail return, and a
// pause an interrupt ends.
func TestControlModuleResults(t *testing.T) {
	node := func(s string) *yaml.Node {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Content[0]
	}
	eval := func(e string) (any, error) {
		if e == "known" {
			return []any{1, 2}, nil
		}
		return nil, context.Canceled
	}
	ctx := context.Background()
	m, _ := debugSpec.New(Args{Node: node(`{var: known}`), Eval: eval})
	c, _ := m.Check(ctx, nil)
	if c.Summary != "known: [1,2]" || c.Changed() || c.Failed {
		t.Errorf("debug var: %+v", c)
	}
	m, _ = debugSpec.New(Args{Node: node(`{var: nope}`), Eval: eval})
	if c, _ = m.Check(ctx, nil); c.Data["nope"] != "VARIABLE IS NOT DEFINED!" {
		t.Errorf("debug undefined var: %+v", c)
	}
	m, _ = setFactSpec.New(Args{Node: node(`{a: 1, b: [x], cacheable: true}`)})
	c, _ = m.Check(ctx, nil)
	if f := c.Data["ansible_facts"].(map[string]any); len(f) != 2 || f["a"] != 1 || c.Summary != "set a, b" {
		t.Errorf("set_fact: %+v", c)
	}
	m, _ = setFactSpec.New(Args{Node: node(`{d: {z: 1, a: [{y: 0755, b: 2}]}}`)})
	c, _ = m.Check(ctx, nil)
	if j, _ := json.Marshal(c.Data["ansible_facts"]); string(j) != `{"d":{"z":1,"a":[{"y":493,"b":2}]}}` {
		t.Errorf("set_fact mapping in written order: %s", j)
	}
	m, _ = failSpec.New(Args{Node: node(`{}`)})
	if c, _ = m.Check(ctx, nil); !c.Failed || c.Msg != "Failed as requested from task" {
		t.Errorf("fail: %+v", c)
	}
	m, _ = pauseSpec.New(Args{Node: node(`{minutes: 10}`)})
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	start := time.Now()
	if _, err := m.Check(cctx, nil); err == nil {
		t.Errorf("pause ignored the interrupt (%s)", time.Since(start))
	}
}
