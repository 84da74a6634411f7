package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"tend/internal/omap"
)

// ordered builds an *omap.Map from key, value pairs in the order given.
func ordered(kv ...any) *omap.Map {
	m := omap.New(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		m.Set(kv[i].(string), kv[i+1])
	}
	return m
}

func TestParseExtraVars(t *testing.T) {
	file := filepath.Join(t.TempDir(), "vars.yml")
	if err := os.WriteFile(file, []byte("mq_restart_command: /usr/bin/activemq restart\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want map[string]any
		err  string
	}{
		{"pair", []string{"k=v"}, map[string]any{"k": "v"}, ""},
		{"two pairs in one -e, as Ansible", []string{"a=1 b=2"}, map[string]any{"a": "1", "b": "2"}, ""},
		{"quoted value keeps its space", []string{`mq_restart_command="/usr/bin/activemq restart"`}, map[string]any{"mq_restart_command": "/usr/bin/activemq restart"}, ""},
		{"inline map", []string{`{"k": "a b"}`}, map[string]any{"k": "a b"}, ""},
		{"file", []string{"@" + file}, map[string]any{"mq_restart_command": "/usr/bin/activemq restart"}, ""},
		{"later wins", []string{"k=1", "k=2"}, map[string]any{"k": "2"}, ""},
		{"a mapping keeps its written order", []string{`{"d": {"z": 1, "a": [{"m": "0755", "b": 2.5}]}}`},
			map[string]any{"d": ordered("z", 1, "a", []any{ordered("m", "0755", "b", 2.5)})}, ""},
		{"YAML too", []string{"{d: {z: 0755, a: yes}}"}, map[string]any{"d": ordered("z", 493, "a", "yes")}, ""},
		{"unquoted space: the hint says how to quote", []string{"mq_restart_command=/usr/bin/activemq restart"}, nil,
			`extra-vars: -e "mq_restart_command=/usr/bin/activemq restart": "restart" is not KEY=VALUE with KEY a variable name (-e splits KEY=VALUE on spaces, as Ansible does: quote a value with spaces inside the argument, -e 'k="a b"', or use -e @file.yml or -e '{"k": "a b"}')`},
		{"one bad word: no space hint", []string{"novalue"}, nil, `extra-vars: -e "novalue": "novalue" is not KEY=VALUE with KEY a variable name`},
		{"bad key", []string{"1k=v"}, nil, `extra-vars: -e "1k=v": "1k=v" is not KEY=VALUE with KEY a variable name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseExtraVars(tt.args)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error:\n got %v\nwant %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}
