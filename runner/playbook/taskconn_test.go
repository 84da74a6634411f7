package playbook

import (
	"strings"
	"testing"
)

// TestTaskRemoteUserAndAnyErrorsFatal: remote_user and any_errors_fatal
// on a task, a block (reaching the tasks inside that set none) and an
// import; a bad user name or a keyword ansible-core refuses on a dynamic
// include is refused with its file:line:column.
func TestTaskRemoteUserAndAnyErrorsFatal(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		user      []string // each task's RemoteUser, in Flatten order (blocks left out)
		fatal     []string // each task's AnyErrorsFatal: "", "true", "false"
		wantError string
	}{
		{name: "task", src: `
- hosts: a
  tasks:
    - command: id
      remote_user: deploy
      any_errors_fatal: true
    - command: id
`, user: []string{"deploy", ""}, fatal: []string{"true", ""}},
		{name: "block inherits, the task's own wins", src: `
- hosts: a
  tasks:
    - block:
        - command: id
        - command: id
          remote_user: "{{ other }}"
          any_errors_fatal: false
      rescue:
        - command: id
      remote_user: ops
      any_errors_fatal: yes
`, user: []string{"ops", "{{ other }}", "ops"}, fatal: []string{"true", "false", "true"}},
		{name: "bad user name", src: `
- hosts: a
  tasks:
    - command: id
      remote_user: "a;b"
`, wantError: `pb.yml:5:20: tasks[0].remote_user: "a;b" is not a user name`},
		{name: "not a boolean", src: `
- hosts: a
  tasks:
    - command: id
      any_errors_fatal: maybe
`, wantError: `pb.yml:5:25: tasks[0].any_errors_fatal`},
		{name: "include_tasks refuses it", src: `
- hosts: a
  tasks:
    - include_tasks: x.yml
      any_errors_fatal: true
`, wantError: `pb.yml:5:7: tasks[0].any_errors_fatal: "any_errors_fatal" is not valid on include_tasks (ansible-core refuses it too)`},
		{name: "include_role refuses remote_user", src: `
- hosts: a
  tasks:
    - include_role: {name: r}
      remote_user: deploy
`, wantError: `pb.yml:5:7: tasks[0].remote_user: "remote_user" is not valid on include_role`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb, err := Parse("pb.yml", []byte(tt.src), testModules)
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("error %v, want %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var users, fatal []string
			for _, task := range Flatten(pb.Plays[0].Tasks) {
				if task.Block != nil {
					continue
				}
				users = append(users, task.RemoteUser)
				f := ""
				if task.AnyErrorsFatal != nil {
					f = map[bool]string{true: "true", false: "false"}[*task.AnyErrorsFatal]
				}
				fatal = append(fatal, f)
			}
			if strings.Join(users, ",") != strings.Join(tt.user, ",") || strings.Join(fatal, ",") != strings.Join(tt.fatal, ",") {
				t.Errorf("remote_user %q any_errors_fatal %q, want %q %q", users, fatal, tt.user, tt.fatal)
			}
		})
	}
}

// TestIncludeRunOnceRefused: run_once on a dynamic include (which
// ansible-core accepts, running the include for one host) is refused with
// its position and what to write instead.
func TestIncludeRunOnceRefused(t *testing.T) {
	for kind, src := range map[string]string{
		"include_tasks": "- hosts: a\n  tasks:\n    - include_tasks: x.yml\n      run_once: true\n",
		"include_role":  "- hosts: a\n  tasks:\n    - include_role: {name: r}\n      run_once: true\n",
	} {
		want := "pb.yml:4:7: tasks[0].run_once: run_once on " + kind + " is not supported by tend"
		if _, err := Parse("pb.yml", []byte(src), testModules); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", kind, err, want)
		}
	}
}

// TestIncludeRoleNameFromHostData: an include_role whose name needs a
// host's data (an inventory variable, a fact, a registered result) is
// refused before any host is contacted, positioned at the name: tend
// resolves roles (their handlers, defaults and vars too) when it reads
// the playbook. ansible-core would resolve it per host when it runs.
func TestIncludeRoleNameFromHostData(t *testing.T) {
	src := "- hosts: a\n  tasks:\n    - include_role:\n        name: \"{{ role_from_inventory }}\"\n"
	want := `pb.yml:4:15: tasks[0].include_role: "{{ role_from_inventory }}": undefined variable "role_from_inventory"; tend resolves roles before contacting any host`
	if _, err := Parse("pb.yml", []byte(src), reuseOpts); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}
