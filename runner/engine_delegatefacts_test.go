package runner

import "testing"

// TestEngineDelegateFacts: with delegate_facts a delegated set_fact's
// variables belong to the delegate (hostvars, and its own variables in a
// later play); without it, to the host.
func TestEngineDelegateFacts(t *testing.T) {
	const ini = "h1\nh2\n"
	src := `- hosts: h1
  gather_facts: false
  tasks:
    - set_fact: {color: blue}
      delegate_to: h2
      delegate_facts: true
    - set_fact: {size: 3}
      delegate_to: h2
    - name: seen
      memfile: {path: /seen, content: "{{ hostvars['h2'].color }} {{ color | default('none') }} {{ size }} {{ hostvars['h2'].size | default('none') }}"}
- hosts: h2
  gather_facts: false
  tasks:
    - name: own
      memfile: {path: /own, content: "{{ color }}"}
`
	registerMemfile()
	f := newFleet("h1", "h2")
	runOnInv(t, f, ini, src, Options{})
	if got, _ := f.hosts["h1"].File("/seen"); string(got) != "blue none 3 none" {
		t.Errorf("h1 saw %q, want %q", got, "blue none 3 none")
	}
	if got, _ := f.hosts["h2"].File("/own"); string(got) != "blue" {
		t.Errorf("h2's own color %q, want blue", got)
	}
}
