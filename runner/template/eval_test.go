package template

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// testVars resemble what the runner passes: YAML-decoded variables (int,
// string, list, map) and registered results (maps).
func testVars() map[string]any {
	return map[string]any{
		"count":     5,
		"big":       int64(7),
		"ratio":     2.5,
		"name":      "web1",
		"mode":      "0755",
		"flag":      "yes",
		"nothing":   nil,
		"ports":     []any{22, 80, 443},
		"closewait": map[string]any{"count": 12},
		"r":         map[string]any{"rc": 0, "stdout": "hello world", "changed": true, "failed": false, "stdout_lines": []any{"a", "b"}},
	}
}

func TestEval(t *testing.T) {
	tests := []struct {
		expr string
		want any
	}{
		{"count > 3", true},
		{"closewait.count > 5", true},
		{"r.rc == 0", true},
		{`r.stdout contains "world"`, true},
		{"r['rc'] != 0", false},
		{"count == big - 2", true},
		{"big > count", true},
		{"ratio < count", true},
		{"count == 5.0", true},
		{"missing | default(5)", 5},
		{"missing | d('x')", "x"},
		{"count | default(1)", 5},
		{"r.nope | default('none')", "none"},
		{"missing.deep.path | default(0)", 0},
		{"'' | default('e', true)", "e"},
		{"missing ?? 7", 7},
		{"r.nope ?? 8", 8},
		{"missing is defined", false},
		{"missing is not defined", true},
		{"missing is undefined", true},
		{"r.stdout is defined", true},
		{"r.nope is defined", false},
		{"ports[9] is defined", false},
		{"missing is defined and missing > 3", false},
		{"count is defined and count > 3", true},
		{"not missing is defined", true},
		{"nothing is none", true},
		{"nothing is defined", true},
		{"'42' | int + 1", 43},
		{"' 7 ' | int", 7},
		{"'3.9' | int", 3},
		{"'abc' | int(0)", 0},
		{"ratio | int", 2},
		{"mode | int", 755},
		{"count | string", "5"},
		{"count | float", 5.0},
		{"flag | bool", true},
		{"'off' | bool", false},
		{"ports | length", 3},
		{"name | length", 4},
		{"r.stdout_lines | count", 2},
		{"ports | length > 2 and name | length == 4", true},
		{"5 < count | int", false},
		{"not flag | bool", false},
		{"80 in ports", true},
		{"81 not in ports", true},
		{"'web' in name", true},
		{"True and not False", true},
		{"None", nil},
		{"count == 5 or missing", true},
		{"r is changed", true},
		{"r is failed", false},
		{"r is succeeded", true},
		{"r is not skipped", true},
		{"'big' if count > 3 else 'small'", "big"},
		{"'big' if count > 9 else 'small'", "small"},
		{"name.startswith('web')", true},
		{"name.upper()", "WEB1"},
		{"'a b  c'.split()", []any{"a", "b", "c"}},
		{"'a,b'.split(',')", []any{"a", "b"}},
		{"'  x '.strip()", "x"},
		{"r.get('rc')", 0},
		{"r.get('nope', 3)", 3},
		{"ports | join(',')", "22,80,443"},
		{"ports | first", 22},
		{"ports | last", 443},
		{"ports | max", 443},
		{"ports[-1]", 443},
		{"ports.0", 22},
		{"[3, 1, 2] | sort", []any{1, 2, 3}},
		{"[1, 1, 2] | unique", []any{1, 2}},
		{"r.stdout | regex_search('w\\\\w+')", "world"},
		{"r.stdout | regex_search('zzz')", nil},
		{"r.stdout | regex_replace('(\\\\w+) (\\\\w+)', '\\\\2 \\\\1')", "world hello"},
		{"r.stdout is search('o w')", true},
		{"r.stdout is match('world')", false},
		{"r.stdout is match('hello')", true},
		{"'a b' | quote", "'a b'"},
		{"\"it's\" | quote", `'it'"'"'s'`},
		{"'plain' | quote", "plain"},
		{"count is number", true},
		{"name is string", true},
		{"ports is sequence", true},
		{"r is mapping", true},
		{"count | ternary('y', 'n')", "y"},
		{"'/etc/sysctl.d/90.conf' | basename", "90.conf"},
		{"2.567 | round(1)", 2.6},
		{"len(ports)", 3},
		{"filter(ports, # > 50)", []any{80, 443}},
		{"{'a': count}", dict("a", 5)},
		{"name + '.example'", "web1.example"},
		{"count * 2 + 1", 11},
		{"count % 2 == 1", true},
		{"count ~ name", "5web1"},
		{"count // 2", 2},
		{"count is odd", true},
		{"name.title()", "Web1"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := Eval(tt.expr, testVars())
			if err != nil {
				t.Fatalf("Eval(%q): %v", tt.expr, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Eval(%q) = %#v (%T), want %#v (%T)", tt.expr, got, got, tt.want, tt.want)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	tests := []struct {
		expr      string
		undefined string // the *UndefinedError name, if that is the error
		want      string // else a substring of the error
	}{
		{expr: "mq_prot > 3", undefined: "mq_prot"},
		{expr: "count > 3 and mq_prot", undefined: "mq_prot"},
		{expr: "closewait.cnt > 5", undefined: "closewait.cnt"},
		{expr: "r.stdout_lines[5]", undefined: "r.stdout_lines[5]"},
		{expr: "missing | int", undefined: "missing"},
		{expr: "nothing.x", undefined: "nothing.x"},
		{expr: "missing", undefined: "missing"},
		{expr: "{% if x %}", want: "Jinja statements"},
		{expr: "a {{ b }}", want: "cannot contain {{ }}"},
		{expr: "count | lenght", want: `unknown filter "lenght"; did you mean "length"?`},
		{expr: "frob(count)", want: `unknown function "frob"`},
		{expr: "lookup('password', '/tmp/p')", want: `unknown lookup plugin "password"`},
		{expr: "count | combine({})", want: "combine: int"},
		{expr: "count | frobnicate", want: `unknown filter "frobnicate"`},
		{expr: "count is frobnicated", want: `unknown test "frobnicated"`},
		{expr: "name.encode()", want: `unsupported method "encode"`},
		{expr: "count >", want: "invalid expression"},
		{expr: "(count", want: `missing ")"`},
		{expr: "'abc", want: "unterminated string"},
		{expr: "", want: "empty expression"},
		{expr: "| int", want: "filter | without a value"},
		{expr: "'abc' | int", want: `int: cannot convert string "abc" to an integer`},
		{expr: "count.x", want: "cannot fetch x"},
		{expr: "count is changed", want: "'is changed' needs a registered result"},
		{expr: "name + 1", want: "invalid operation"},
		{expr: "r.stdout | regex_search('(')", want: "regex_search: error parsing regexp"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := Eval(tt.expr, testVars())
			if err == nil {
				t.Fatalf("Eval(%q) succeeded", tt.expr)
			}
			var ue *UndefinedError
			if tt.undefined != "" {
				if !errors.As(err, &ue) || ue.Name != tt.undefined {
					t.Fatalf("Eval(%q) error = %v, want undefined %q", tt.expr, err, tt.undefined)
				}
				if want := `undefined variable "` + tt.undefined + `"`; err.Error() != want {
					t.Errorf("message %q, want %q", err.Error(), want)
				}
				return
			}
			if errors.As(err, &ue) {
				t.Errorf("Eval(%q) = undefined %q, want %q", tt.expr, ue.Name, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Eval(%q) error = %v, want it to contain %q", tt.expr, err, tt.want)
			}
		})
	}
}

func TestEvalBool(t *testing.T) {
	tests := []struct {
		expr    string
		want    bool
		wantErr string
	}{
		{expr: "count > 3", want: true},
		{expr: "true", want: true},
		{expr: "false", want: false},
		{expr: "{{ count > 3 }}", want: true},
		{expr: "'True'", want: true},
		{expr: "'false'", want: false},
		{expr: "missing is defined", want: false},
		{expr: "r.stdout", wantErr: `condition "r.stdout" is string "hello world", not true or false`},
		{expr: "count", wantErr: "is int"},
		{expr: "r.rc", want: false},
		{expr: "r.rc + 1", want: true},
		{expr: "big - 6", want: true},
		{expr: "r.rc - 1", wantErr: "is int"},
		{expr: "nothing", wantErr: "is null"},
		{expr: "mq_prot", wantErr: `undefined variable "mq_prot"`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := EvalBool(tt.expr, testVars())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("EvalBool(%q) = %v, %v; want error %q", tt.expr, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("EvalBool(%q) = %v, %v; want %v", tt.expr, got, err, tt.want)
			}
		})
	}
}

func TestVarsAndCheck(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{"a > b.c and d | default(1)", []string{"a", "b", "d"}},
		{"x is defined", []string{"x"}},
		{"len(xs) > 0", []string{"xs"}},
		{"filter(xs, # > lim)", []string{"lim", "xs"}},
		{"'lit'", []string{}},
		{"host {{ a }} and {{ b | int }}", []string{"a", "b"}},
		{"a >", nil},
	}
	for _, tt := range tests {
		got := Vars(tt.expr)
		if len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("Vars(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
	if err := Check("a > 1 and b is defined"); err != nil {
		t.Errorf("Check valid: %v", err)
	}
	if err := Check("a >"); err == nil {
		t.Error("Check(\"a >\") succeeded")
	}
	if err := CheckTemplate("x {{ a | frob }}"); err == nil || !strings.Contains(err.Error(), "unknown filter") {
		t.Errorf("CheckTemplate = %v", err)
	}
	if err := CheckTemplate("{% for %}"); err == nil {
		t.Error("CheckTemplate accepted a statement")
	}
}

func TestEvalConcurrent(t *testing.T) {
	done := make(chan error)
	for i := 0; i < 8; i++ {
		go func() {
			var err error
			for j := 0; j < 200 && err == nil; j++ {
				var ok bool
				ok, err = EvalBool("closewait.count > 5 and r.rc == 0 and missing | default(true)", testVars())
				if err == nil && !ok {
					err = errors.New("false")
				}
			}
			done <- err
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func BenchmarkEvalBool(b *testing.B) {
	vars := testVars()
	for b.Loop() {
		if _, err := EvalBool("closewait.count > 5 and r.stdout is defined and count | int < 10", vars); err != nil {
			b.Fatal(err)
		}
	}
}
