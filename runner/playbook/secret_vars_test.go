package playbook

import (
	"reflect"
	"strings"
	"testing"
)

// TestSecretVars reads the play keyword secret_vars: a name or a list.
func TestSecretVars(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want []string
		err  string
	}{
		{"- hosts: all\n  secret_vars: [db_password, api_token]\n", []string{"db_password", "api_token"}, ""},
		{"- hosts: all\n  secret_vars: db_password\n", []string{"db_password"}, ""},
		{"- hosts: all\n  secret_vars: {a: 1}\n", nil, "pb.yml:2:16: secret_vars: must be a name or a list of names, not a mapping"},
		{"- hosts: all\n  secret_var: [x]\n", nil, `secret_var: unknown play key; did you mean "secret_vars"?`},
	} {
		pb, err := Parse("pb.yml", []byte(tc.src), testModules)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.src, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		if got := pb.Plays[0].SecretVars; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: SecretVars %q, want %q", tc.src, got, tc.want)
		}
	}
}
