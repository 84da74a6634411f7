package modules

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestArchiveArgs: bad input is refused before any host, at the field.
func TestArchiveArgs(t *testing.T) {
	pb := filepath.Join(t.TempDir(), "play.yml")
	for _, tc := range []struct{ name, args, want string }{
		{"ok one file", "path: /var/log/a.log", ""},
		{"ok list with dest", "path: [/a, /b]\ndest: /t/x.tgz", ""},
		{"ok comma list", "path: /a,/b\ndest: /t/x.tgz\nformat: zip", ""},
		{"ok templated", "path: \"{{ p }}\"", ""},
		{"ok excluded down to one", "path: [/a, /b]\nexclude_path: /b", ""},
		{"unknown", "path: /a\nexclude: /b", "play.yml:2:1: exclude: unknown key"},
		{"no path", "dest: /a.gz", "play.yml:1:1: archive: path is required"},
		{"format", "path: /a\nformat: rar", "play.yml:2:9: archive: value of format must be one of: bz2, gz, tar, xz, zip, got: rar"},
		{"relative", "path: var/log", `play.yml:1:7: archive: path "var/log" must be an absolute path`},
		{"tilde", "path: [\"~/x\"]", `archive: path "~/x": tend expands no ~`},
		{"relative dest", "path: /a\ndest: a.gz", `play.yml:2:7: archive: dest "a.gz" must be an absolute path`},
		{"relative exclude", "path: /a/*\ndest: /t.tgz\nexclude_path: [b]", `exclude_path "b" must be an absolute path`},
		{"two paths no dest", "path: [/a, /b]", `play.yml:1:1: archive: Error, must specify "dest" when archiving multiple files or trees`},
		{"glob no dest", "path: /var/log/*.log", `must specify "dest"`},
		{"force no dest", "path: /a\nforce_archive: true", `must specify "dest"`},
		{"attributes", "path: /a\nattributes: +i", "attributes is not supported"},
		{"bool", "path: /a\nremove: maybe", "remove"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newArchive(Args{Node: argsNode(t, tc.args), File: pb})
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestArchiveRoot: the module's arcroot (os.path.commonprefix of the
// directories, character by character, cut back to a directory).
func TestArchiveRoot(t *testing.T) {
	for _, tc := range []struct {
		paths []string
		want  string
	}{
		{[]string{"/var/log/app"}, "/var/log/"},
		{[]string{"/var/log/app/"}, "/var/log/app/"},
		{[]string{"/var/log/app/a.log", "/var/log/app/b.log"}, "/var/log/app/"},
		{[]string{"/var/log/app1/a", "/var/log/app2/b"}, "/var/log/"},
		{[]string{"/srv/a/x", "/srv/ab/y"}, "/srv/"},
		{[]string{"/a", "/b"}, "/"},
		{[]string{"/etc/x", "/var/y"}, "/"},
	} {
		if got := archiveRoot(tc.paths); got != tc.want {
			t.Errorf("archiveRoot(%q) = %q, want %q", tc.paths, got, tc.want)
		}
	}
}

// TestArchiveMembers: a directory's entries without the directory itself;
// exclusion_patterns on the member name in a tar, on the full path in a
// zip; a zip's directories are not registered as archived.
func TestArchiveMembers(t *testing.T) {
	tree := []fsEntry{
		{Type: 'd', Path: "/v/app/sub"},
		{Type: 'f', Path: "/v/app/sub/b.log"},
		{Type: 'f', Path: "/v/app/a.log"},
		{Type: 'f', Path: "/v/app/a.gz"},
		{Type: 's', Path: "/v/app/sock"},
	}
	targets := []archTarget{{path: "/v/app", isDir: true, tree: tree}, {path: "/v/top.txt"}}
	names := func(ms []archMember, archivedOnly bool) []string {
		var out []string
		for _, m := range ms {
			if !archivedOnly || m.archived {
				out = append(out, m.arc)
			}
		}
		return out
	}
	tar := archiveMembers("gz", "/v/", targets, []string{"*.gz", "app/sub"})
	if got, want := names(tar, false), []string{"app/sub/b.log", "app/a.log", "top.txt"}; !reflect.DeepEqual(got, want) {
		t.Errorf("tar members %q, want %q", got, want)
	}
	zip := archiveMembers("zip", "/v/", targets, []string{"/v/app/*.gz"})
	if got, want := names(zip, false), []string{"app/sub", "app/sub/b.log", "app/a.log", "top.txt"}; !reflect.DeepEqual(got, want) {
		t.Errorf("zip members %q, want %q", got, want)
	}
	if got, want := names(zip, true), []string{"app/sub/b.log", "app/a.log", "top.txt"}; !reflect.DeepEqual(got, want) {
		t.Errorf("zip archived %q, want %q", got, want)
	}
	slash := archiveMembers("tar", "/v/app/", []archTarget{{path: "/v/app/", isDir: true, tree: []fsEntry{{Type: 'f', Path: "/v/app/x"}}}}, nil)
	if got := names(slash, false); !reflect.DeepEqual(got, []string{"x"}) {
		t.Errorf("trailing slash: %q", got)
	}
}

// TestArchiveDestState: an existing dest with nothing to archive is an
// archive or a compressed file by its name, as the module says.
func TestArchiveDestState(t *testing.T) {
	for name, want := range map[string]string{
		"/a/x.tar.gz": "archive", "/a/x.TGZ": "archive", "/a/x.zip": "archive", "/a/x.tbz2": "archive",
		"/a/x.log.gz": "compress", "/a/x.xz": "compress", "/a/tar": "compress",
	} {
		if got := archiveDestState(name); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
}
