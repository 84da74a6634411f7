package oracle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadCaseBase64AndController: base64 decodes a seed or a controller
// file; compare-controller takes relative paths only.
func TestLoadCaseBase64AndController(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		check      func(Case) bool
		err        string
	}{
		{"seed and controller decoded", "compare-controller out\nbase64 /etc/oracle/a.bin\nbase64 files/b.bin\n-- playbook.yml --\n- hosts: all\n-- /etc/oracle/a.bin --\nAAEC\n-- files/b.bin --\nA\nAE=\n",
			func(c Case) bool {
				return string(c.Seeds[0].Content) == "\x00\x01\x02" && string(c.Controller["files/b.bin"]) == "\x00\x01" && c.CompareController[0] == "out"
			}, ""},
		{"absolute controller path", "compare-controller /tmp/x\n-- playbook.yml --\n- hosts: all\n", nil, "want a path relative to the playbook's directory"},
		{"escaping controller path", "compare-controller ../x\n-- playbook.yml --\n- hosts: all\n", nil, "want a path relative"},
		{"unknown base64 file", "compare-controller out\nbase64 files/nope\n-- playbook.yml --\n- hosts: all\n", nil, "base64 files/nope: no such file"},
		{"not base64", "compare-controller out\nbase64 files/b\n-- playbook.yml --\n- hosts: all\n-- files/b --\n!!\n", nil, "base64 files/b: illegal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.txtar")
			if err := os.WriteFile(p, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := LoadCase(p)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !tc.check(c) {
				t.Fatalf("%v %+v", err, c)
			}
		})
	}
}

// TestControllerTrees: a file, a tree and a missing path, as compareTrees
// reads them.
func TestControllerTrees(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "out", "h1"), 0o755)
	os.WriteFile(filepath.Join(dir, "out", "h1", "f"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "one"), []byte("y"), 0o640)
	got, err := controllerTrees(dir, []string{"out", "one", "none"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got["out"]) != 2 || !strings.HasPrefix(got["out"][1], "h1/f|regular file|600|") || got["none"] != nil ||
		len(got["one"]) != 1 || !strings.HasPrefix(got["one"][0], "|regular file|640|") {
		t.Errorf("trees %q", got)
	}
	other := map[string][]string{"out": got["out"][:1], "one": got["one"], "none": nil}
	if d := compareTrees(got, other); len(d) != 1 || !strings.Contains(d[0], "h1/f: missing") {
		t.Errorf("compare %q", d)
	}
}
