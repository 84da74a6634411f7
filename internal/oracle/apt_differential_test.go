package oracle

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"tend/internal/lab"
)

// TestDifferentialApt runs testdata/apt/apt-deb-fixture.txtar: apt with
// fixture packages this test builds (dpkg-deb --build: no dependency, one
// file under /usr/share/NAME/), one per lab host since both share
// /var/lib/dpkg, purged at the end whatever happens. Ansible's apt needs
// python3-apt on the host.
func TestDifferentialApt(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import apt").Run(); err != nil {
		t.Skip("python3-apt not installed; ansible's apt cannot run")
	}
	c, err := LoadCase(filepath.Join("testdata", "apt", "apt-deb-fixture.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	l := NewLab(t)
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	prefix, dir := "tend-oracle-"+hex.EncodeToString(b), t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{l.ansible.Addr, l.tend.Addr} {
		name := prefix + "-" + strings.ReplaceAll(addr, ".", "-")
		buildFixtureDeb(t, dir, name, addr)
		c.Compare = append(c.Compare, "/usr/share/"+name+"/fixture.txt")
	}
	c.ExtraVars = append(c.ExtraVars, "fixture_dir="+dir, "fixture_prefix="+prefix)
	l.Run(t, c)
}

// buildFixtureDeb builds package name as dir/ADDR.deb and purges it from
// this machine in Cleanup.
func buildFixtureDeb(t *testing.T, dir, name, addr string) {
	t.Helper()
	t.Cleanup(func() { purgeFixture(t, name) })
	root := filepath.Join(dir, name)
	files := map[string]string{
		"DEBIAN/control":                     "Package: " + name + "\nVersion: 1.0\nArchitecture: all\nMaintainer: tend tests <tend@localhost>\nDescription: tend oracle fixture\n",
		"usr/share/" + name + "/fixture.txt": name + "\n",
	}
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", root, filepath.Join(dir, addr+".deb")).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %v: %s", err, out)
	}
}

// purgeFixture purges name from this machine (lab.PurgePackage), reporting a failure.
func purgeFixture(t *testing.T, name string) {
	if err := lab.PurgePackage(name); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}
