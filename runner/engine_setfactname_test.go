package runner

import (
	"strings"
	"testing"
)

// TestEngineSetFactTemplatedName: a set_fact whose variable name is a
// template ("{{ item.var }}": value) is rendered for each host and item
// when the task runs; a name that renders no valid variable name (as
// Ansible's isidentifier) fails the host at the key's position.
func TestEngineSetFactTemplatedName(t *testing.T) {
	for _, c := range []struct {
		name, key, want, err string
	}{
		{"from the item", `"{{ item.var }}"`, "kafka_port | int == 9092 and zk_port | int == 2181", ""},
		{"prefix and item", `"x_{{ item.var }}"`, "x_kafka_port | int == 9092 and x_zk_port | int == 2181", ""},
		{"not a name", `"{{ item.var }}-1"`, "true", `play.yml:10:9: set_fact: variable name "{{ item.var }}-1" rendered "kafka_port-1", which is not a valid variable name`},
		{"a keyword", `"{{ 'if' }}"`, "true", `rendered "if", which is not a valid variable name`},
		{"undefined", `"{{ item.nope }}"`, "true", `play.yml:10:9: set_fact: variable name "{{ item.nope }}": `},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := `
- hosts: all
  gather_facts: false
  vars:
    listeners:
      - {var: kafka_port, port: 9092}
      - {var: zk_port, port: 2181}
  tasks:
    - set_fact:
        ` + c.key + `: "{{ item.port }}"
      loop: "{{ listeners }}"
    - name: show
      assert:
        that: "` + c.want + `"
`
			f := newFleet("h1")
			_, rec := runOn(t, f, src, Options{})
			r := taskOwnResult(t, rec, "h1", "set_fact")
			if c.err != "" {
				if r.Status != StatusFailed || !strings.Contains(r.Error, c.err) {
					t.Fatalf("set_fact %s %q, want failed with %q", r.Status, r.Error, c.err)
				}
				return
			}
			if r.Status != StatusOK {
				t.Fatalf("set_fact %s %q", r.Status, r.Error)
			}
			if r := rec.result(t, "h1", "show", PhaseTask); r.Status != StatusOK {
				t.Errorf("assert %s: %s", c.want, r.Error)
			}
		})
	}
}
