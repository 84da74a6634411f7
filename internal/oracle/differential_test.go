package oracle

import (
	"os"
	"testing"
)

// TestDifferential runs every case in testdata with ansible-playbook and
// with tend on two identical lab hosts and compares them (see Lab.Run).
// ORACLE_CASE=NAME runs one case.
func TestDifferential(t *testing.T) {
	cases := MustLoadDir(t, "testdata")
	l := NewLab(t)
	only := os.Getenv("ORACLE_CASE")
	for _, c := range cases {
		if only != "" && c.Name != only {
			continue
		}
		t.Run(c.Name, func(t *testing.T) { l.Run(t, c) })
	}
}
