package oracle

import (
	"os"
	"strings"
	"testing"
)

// TestCompareTrees: every entry of a compared tree counts: one missing, one
// extra, a mode, an owner or a checksum that differs, a tree that exists
// on one host only.
func TestCompareTrees(t *testing.T) {
	base := []string{"a|directory|755|0:0|-", "a/f|regular file|644|0:0|abc"}
	for _, tc := range []struct {
		name string
		got  []string
		want string // "" for no difference
	}{
		{"same", base, ""},
		{"missing entry", base[:1], "/t/a/f: missing, want regular file|644|0:0|abc"},
		{"extra entry", append(append([]string(nil), base...), "b|regular file|644|0:0|x"), "/t/b: extra entry"},
		{"mode", []string{base[0], "a/f|regular file|600|0:0|abc"}, "/t/a/f: regular file|600|0:0|abc, want regular file|644|0:0|abc"},
		{"owner", []string{base[0], "a/f|regular file|644|65534:0|abc"}, "/t/a/f: regular file|644|65534:0|abc"},
		{"content", []string{base[0], "a/f|regular file|644|0:0|abd"}, "want regular file|644|0:0|abc"},
		{"tree missing", nil, "/t: exists false, want true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := compareTrees(map[string][]string{"/t": base}, map[string][]string{"/t": tc.got})
			got := strings.Join(out, "\n")
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("differences %q, want %q", got, tc.want)
			}
		})
	}
}

// TestLoadCaseCompareTree: the compare-tree directive is read, and alone
// is enough to compare something.
func TestLoadCaseCompareTree(t *testing.T) {
	p := t.TempDir() + "/c.txtar"
	writeFile(t, p, "compare-tree /etc/oracle/a /etc/oracle/b\n-- playbook.yml --\n- hosts: all\n")
	c, err := LoadCase(p)
	if err != nil || strings.Join(c.CompareTrees, " ") != "/etc/oracle/a /etc/oracle/b" {
		t.Errorf("case %+v, %v", c.CompareTrees, err)
	}
	writeFile(t, p, "compare-tree rel\n-- playbook.yml --\n- hosts: all\n")
	if _, err := LoadCase(p); err == nil || !strings.Contains(err.Error(), `"rel" is not an absolute path`) {
		t.Errorf("relative tree: %v", err)
	}
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
