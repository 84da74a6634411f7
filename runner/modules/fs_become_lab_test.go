package modules

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestLabFileModulesBecome: file, copy, stat and find through sudo (a
// password-asking sudoer on a real sshd host) reach what only root may:
// a root-only directory is listed, written (copy, template) and re-checked.
func TestLabFileModulesBecome(t *testing.T) {
	_, root := sudoLab(t)
	fl := &fsLab{t: t, conn: root, dir: t.TempDir()}
	d := fl.sub("root-only")
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(fl.dir, 0o755)
	p := filepath.Join(d, "secret.conf")
	mustWrite(t, p, "a\n", 0o600)

	fl.converge(t, newCopyT(t, "play.yml", "dest: "+p+"\ncontent: \"b\\n\"\nowner: nobody"), d)
	if readT(t, p) != "b\n" {
		t.Errorf("content %q", readT(t, p))
	}
	fl.converge(t, newFileT(t, "path: "+filepath.Join(d, "sub")+"\nstate: directory\nmode: \"0700\""), d)
	c2, err := newFindT(t, "paths: "+d).Check(context.Background(), fl.conn)
	if err != nil || c2.Data["matched"] != 1 {
		t.Errorf("find under sudo: %v %+v", err, c2.Data)
	}
	pb := filepath.Join(t.TempDir(), "site.yml")
	mustWrite(t, filepath.Join(filepath.Dir(pb), "templates", "t.j2"), "v={{ v }}\n", 0o644)
	tm, err := newTemplateT(pb, "src: t.j2\ndest: "+filepath.Join(d, "t.conf")+"\nmode: \"0600\"", map[string]any{"v": 1}, t)
	if err != nil {
		t.Fatal(err)
	}
	fl.converge(t, tm, d)
	if readT(t, filepath.Join(d, "t.conf")) != "v=1\n" {
		t.Errorf("template under sudo: %q", readT(t, filepath.Join(d, "t.conf")))
	}
}
