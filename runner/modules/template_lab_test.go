package modules

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestLabTemplate: a template rendered with the host's variables against
// a real sshd host: the dry run shows the unified diff and writes nothing,
// the apply writes it (backup, mode), a second run changes nothing, a file
// rendered into a directory takes the template's name, and an undefined
// variable fails before the host is touched.
func TestLabTemplate(t *testing.T) {
	l := newFSLab(t)
	dir := t.TempDir()
	pb := filepath.Join(dir, "site.yml")
	mustWrite(t, filepath.Join(dir, "templates", "app.conf.j2"),
		"# {{ name }}\n{% for p in ports %}\nlisten {{ p }}\n{% endfor %}\n", 0o644)
	mustWrite(t, filepath.Join(dir, "templates", "undef.j2"), "a\n{{ nope }}\n", 0o644)
	vars := map[string]any{"name": "web1", "ports": []any{80, 443}}

	t.Run("OverExistingWithBackup", func(t *testing.T) {
		d := l.sub("existing")
		p := filepath.Join(d, "app.conf")
		mustWrite(t, p, "# web1\nlisten 80\n", 0o640)
		m, err := newTemplateT(pb, "src: app.conf.j2\ndest: "+p+"\nbackup: true\nmode: \"0644\"", vars, t)
		if err != nil {
			t.Fatal(err)
		}
		dry, got := l.converge(t, m, d)
		if diff := dry.Files[0].Diff; !strings.Contains(diff, " listen 80\n+listen 443\n") {
			t.Errorf("diff %q", diff)
		}
		if readT(t, p) != "# web1\nlisten 80\nlisten 443\n" || modeOf(t, p) != 0o644 {
			t.Errorf("content %q mode %v", readT(t, p), modeOf(t, p))
		}
		if b := got.Files[0].Backup; b == "" || readT(t, b) != "# web1\nlisten 80\n" {
			t.Errorf("backup %q", b)
		}
		if got.Data["src"] != filepath.Join(dir, "templates", "app.conf.j2") {
			t.Errorf("registered src %v", got.Data["src"])
		}
	})

	t.Run("IntoDirectoryWithValidate", func(t *testing.T) {
		d := l.sub("dir")
		m, err := newTemplateT(pb, "src: app.conf.j2\ndest: "+d+"/\nvalidate: grep -q 'listen 443' %s", vars, t)
		if err != nil {
			t.Fatal(err)
		}
		dry, _ := l.converge(t, m, d)
		if !strings.HasPrefix(dry.Files[0].Diff, "--- /dev/null\n") {
			t.Errorf("diff %q", dry.Files[0].Diff)
		}
		if got := readT(t, filepath.Join(d, "app.conf.j2")); got != "# web1\nlisten 80\nlisten 443\n" {
			t.Errorf("content %q", got)
		}
	})

	t.Run("UndefinedWritesNothing", func(t *testing.T) {
		d := l.sub("undef")
		p := filepath.Join(d, "f")
		mustWrite(t, p, "keep\n", 0o644)
		before := snapshot(t, d)
		_, err := newTemplateT(pb, "src: undef.j2\ndest: "+p, vars, t)
		if err == nil || !strings.Contains(err.Error(), "undef.j2:2: undefined variable \"nope\"") {
			t.Fatalf("err = %v", err)
		}
		sameSnap(t, "an undefined variable", before, snapshot(t, d))
	})
}
