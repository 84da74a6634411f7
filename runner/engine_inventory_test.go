package runner

import (
	"testing"
)

// TestEngineAddHostGroupBy: add_host runs once per batch and reports on
// one host; the host it adds, with its groups and variables, and the
// groups group_by makes are what later plays select; port in the name
// becomes ansible_port.
func TestEngineAddHostGroupBy(t *testing.T) {
	const ini = "h1\nh2\n"
	src := `- hosts: all
  gather_facts: false
  tasks:
    - name: add
      add_host: {name: "new1:2222", groups: [web], color: red}
    - name: group
      group_by: {key: "k_{{ inventory_hostname }}", parents: grp}
- hosts: web
  gather_facts: false
  tasks:
    - name: new
      memfile: {path: /new, content: "{{ color }} {{ ansible_port }} {{ group_names | join(',') }}"}
- hosts: "grp:!k_h2"
  gather_facts: false
  tasks:
    - name: grouped
      memfile: {path: /grouped, content: "{{ group_names | join(',') }} {{ groups['grp'] | join(',') }}"}
`
	f := newFleet("h1", "h2", "new1")
	_, rec := runOnInv(t, f, ini, src, Options{})
	ran := 0
	for _, h := range []string{"h1", "h2"} {
		if rec.ran(h, "add") {
			ran++
		}
	}
	if ran != 1 {
		t.Errorf("add_host reported on %d hosts, want 1", ran)
	}
	for host, want := range map[string]map[string]string{
		"new1": {"/new": "red 2222 web"},
		"h1":   {"/grouped": "grp,k_h1 h1,h2"},
		"h2":   {"/grouped": ""},
	} {
		for path, content := range want {
			if got, _ := f.hosts[host].File(path); string(got) != content {
				t.Errorf("%s:%s = %q, want %q", host, path, got, content)
			}
		}
	}
}
