package runner

import (
	"strings"
	"testing"

	"tend/internal/memhost"
)

// TestEngineEnvironmentTemplate: an environment given as a template
// ("{{ proxy_env | default({}) }}", Ansible's common form) is rendered
// for each host to a mapping; a named variable after it (a task's over a
// play's template) still wins; the values reach the program and are on
// no command line; a template that renders to no mapping of scalars
// fails the task with its position.
func TestEngineEnvironmentTemplate(t *testing.T) {
	const src = `- hosts: all
  gather_facts: false
  vars:
    proxy_env: {HTTP_PROXY: "http://proxy:3128", PORT: 3128, ON: true, WHO: "{{ inventory_hostname }}"}
  environment: "{{ proxy_env | default({}) }}"
  tasks:
    - name: play
      command: printenv HTTP_PROXY PORT ON WHO
    - name: task over play
      command: printenv HTTP_PROXY PORT
      environment: {PORT: "8080"}
    - name: none
      command: printenv HTTP_PROXY
      environment: "{{ nothing | default({}) }}"
    - name: not a mapping
      command: "true"
      ignore_errors: true
      environment: "{{ ['A'] }}"
    - name: nested value
      command: "true"
      ignore_errors: true
      environment: "{{ {'A': [1]} }}"
    - name: bad name
      command: "true"
      ignore_errors: true
      environment: "{{ {'A-B': 1} }}"
`
	f := newFleet("h1")
	f.handle(memhost.Argv("/bin/sh"), runsLocally)
	_, rec := runOn(t, f, src, Options{})
	for task, want := range map[string]string{
		"play":           "http://proxy:3128\n3128\nTrue\nh1",
		"task over play": "http://proxy:3128\n8080",
		"none":           "http://proxy:3128",
	} {
		r := rec.result(t, "h1", task, PhaseTask)
		if got, _ := r.Change.Data["stdout"].(string); got != want || r.Status != StatusChanged {
			t.Errorf("%s: %s, stdout %q, want %q (%s)", task, r.Status, got, want, r.Error)
		}
	}
	for task, want := range map[string]string{
		"not a mapping": `play.yml:15:7: environment: "{{ ['A'] }}" rendered [A]; must be a mapping of environment variables (NAME: value)`,
		"nested value":  `play.yml:19:7: environment: "{{ {'A': [1]} }}" rendered A: [1]; must be a string, number or boolean`,
		"bad name":      `rendered the variable name "A-B"`,
	} {
		r := rec.result(t, "h1", task, PhaseTask)
		if r.Status != StatusFailed || !strings.Contains(r.Error, want) {
			t.Errorf("%s: %s %q, want failed with %q", task, r.Status, r.Error, want)
		}
	}
	for _, c := range f.hosts["h1"].Calls() {
		if line := strings.Join(c.Argv, " "); strings.Contains(line, "proxy:3128") || strings.Contains(line, "8080") {
			t.Errorf("a value is on the command line %q", line)
		}
	}
}
