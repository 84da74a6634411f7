package runner

import (
	"context"
	"slices"
	"strings"
	"testing"

	"tend/inventory"
	"tend/runner/modules"
	"tend/runner/playbook"
)

// TestEngineRemoteUserTemplate: a play's remote_user given as a template
// is rendered for each host (its inventory variables, the play's vars,
// -e extra vars over both); an inventory ansible_user still wins; one that
// renders to no user name fails that host, positioned, without a
// connection. A task delegated to a host whose inventory gives no
// ansible_user logs in there as the play's remote_user of the host it
// runs for, as Ansible's play context does, not as that host's
// ansible_user.
func TestEngineRemoteUserTemplate(t *testing.T) {
	registerMemfile()
	src := `- hosts: h1,h2,h4
  gather_facts: false
  remote_user: "{{ deploy_user | default(fallback) }}"
  vars: {fallback: deploy}
  tasks:
    - memfile: {path: /a, content: x}
    - memfile: {path: /d, content: x}
      delegate_to: h3
`
	tests := []struct {
		name  string
		extra map[string]any
		want  []string
	}{
		{"per host", nil, []string{"h1:alice", "h2:ops", "h3:alice", "h3:deploy"}},
		{"extra vars win", map[string]any{"deploy_user": "eve"}, []string{"h1:eve", "h2:ops", "h3:eve", "h4:eve"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb, err := playbook.Parse("play.yml", []byte(src), playbook.ParseOptions{Modules: modules.Names(), Check: Validate})
			if err != nil {
				t.Fatal(err)
			}
			inv, err := inventory.Load("h1,h2,h3,h4,")
			if err != nil {
				t.Fatal(err)
			}
			for name, vars := range map[string]map[string]any{
				"h1": {"deploy_user": "alice"}, "h2": {"ansible_user": "ops"}, "h4": {"deploy_user": "a;b"},
			} {
				h, _ := inv.Host(name)
				for k, v := range vars {
					h.Vars[k] = v
				}
			}
			conn := &userLog{fleet: newFleet("h1", "h2", "h3", "h4")}
			rec := &recorder{}
			sum, err := Run(context.Background(), pb, inv, Options{Connector: conn, Observer: rec, Forks: 1, ExtraVars: tt.extra})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(conn.users)
			if !slices.Equal(conn.users, tt.want) {
				t.Errorf("connects %v, want %v", conn.users, tt.want)
			}
			if tt.extra == nil {
				r := rec.result(t, "h4", "connect", PhaseTask)
				if r.Status != StatusFailed || !strings.Contains(r.Error, `play.yml:3:16: remote_user: "{{ deploy_user | default(fallback) }}": "a;b" is not a user name`) ||
					!slices.Equal(sum.Failed, []string{"h4"}) || len(sum.Unreachable) > 0 {
					t.Errorf("h4: %s %q; failed %v unreachable %v", r.Status, r.Error, sum.Failed, sum.Unreachable)
				}
			} else if sum.Err() != nil {
				t.Error(sum.Err())
			}
		})
	}
}
