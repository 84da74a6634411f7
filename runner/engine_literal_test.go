package runner

import (
	"context"
	"testing"

	"tend/internal/memhost"
	"tend/runner/transport"
)

// TestEngineLiteralValues: a template that is one whole expression whose
// value is a string reading as a Python literal list, mapping or bool
// gives that value to set_fact and to task arguments, as Ansible's
// templating (jinja2_native off) does — a literal, a variable, a host's
// registered stdout alike — unless its last step is a text filter
// (to_json...); set_fact makes the strings true/false/yes/no booleans.
func TestEngineLiteralValues(t *testing.T) {
	const src = `- hosts: all
  gather_facts: false
  vars:
    s: '[1]'
  tasks:
    - command: printjson
      register: out
    - set_fact:
        lit: "{{ '[1]' }}"
        var: "{{ s }}"
        stdout: "{{ out.stdout }}"
        json: "{{ s | to_json }}"
        mapping: "{{ '{\"a\": true}' }}"
        truth: "{{ 'True' }}"
        yes_text: "yes"
        no_text: "No"
        text: "[{{ s }}"
    - debug:
        msg: "{{ s }}"
      register: arg
    - memfile:
        path: /types
        content: "{{ [lit, var, stdout, json, mapping, truth, yes_text, no_text, text, arg.msg] | map('type_debug') | join(' ') }} {{ stdout | length }}"
`
	f := newFleet("h1")
	f.hosts["h1"].Handle(memhost.Argv("printjson"), func(_ context.Context, _ *memhost.Host, _ transport.Command) (transport.Result, error) {
		return memhost.OK("[1, 2]\n"), nil
	})
	sum, _ := runOn(t, f, src, Options{})
	if err := sum.Err(); err != nil {
		t.Fatal(err)
	}
	want := "list list list str dict bool bool bool str list 2"
	if b, _ := f.hosts["h1"].File("/types"); string(b) != want {
		t.Errorf("types %q, want %q", b, want)
	}
}
