package modules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tend/internal/lab"
	"tend/runner/plan"
	"tend/runner/transport"
)

// getURLLab is a lab host running the uri test server (serving files
// under /files/) on its own loopback, and tend's SSH connection to it.
type getURLLab struct {
	h      *lab.Host
	conn   transport.Conn
	port   int
	files  string // served under /files/
	dest   string // a directory for the downloads (the lab shares the file system)
	secret string
}

func newGetURLLab(t *testing.T) *getURLLab {
	t.Helper()
	l := lab.New(t, 1)
	g := &getURLLab{h: l.Hosts[0], files: t.TempDir(), dest: t.TempDir(), secret: "s3cr3t-canary-77"}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := g.h.Start(t, "env", uriServerEnv+"=1", uriServerFilesEnv+"="+g.files, uriServerSecretEnv+"="+g.secret, exe)
	t.Cleanup(func() { p.Stop() })
	var tls int
	eventually(t, "the test server prints its ports", func() bool {
		_, err := fmt.Sscanf(p.Output(), "ports %d %d", &g.port, &tls)
		return err == nil
	})
	c := dialLab(t, l, g.h, "root")
	g.conn = c
	return g
}

func newGetURLT(t *testing.T, src string) *getURLModule {
	t.Helper()
	m, err := newGetURL(Args{Node: argsNode(t, src), File: "play.yml"})
	if err != nil {
		t.Fatal(err)
	}
	return m.(*getURLModule)
}

// run is Check then, when it plans a change, Apply, as the runner does.
func (g *getURLLab) run(t *testing.T, m *getURLModule) (checked, applied plan.Change) {
	t.Helper()
	ctx := context.Background()
	c, err := m.Check(ctx, g.conn)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if !c.Action.Changes() || c.Failed {
		return c, c
	}
	a, err := m.Apply(ctx, g.conn, c)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return c, a
}

// leftovers lists the temporary files left in dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), "tend-get_url") {
			out = append(out, e.Name())
		}
	}
	tmp, _ := filepath.Glob("/tmp/.tend-get_url*")
	return append(out, tmp...)
}

func sha256Of(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestLabGetURL downloads on the host: a new file (mode asked), a second
// run answered 304 (If-Modified-Since), a matching checksum that skips the
// request, a wrong checksum (failed, dest untouched, nothing left), a
// checksum file, a directory dest named by Content-Disposition, a 404, basic
// auth, and the python3 fallback.
func TestLabGetURL(t *testing.T) {
	g := newGetURLLab(t)
	const payload = "release 1.2.3\n"
	if err := os.WriteFile(filepath.Join(g.files, "app.tar"), []byte(payload), 0o644); err != nil {
		t.Fatal(err)
	}
	sums := sha256Of("other") + "  other.tar\n" + sha256Of(payload) + " *app.tar\n"
	if err := os.WriteFile(filepath.Join(g.files, "SHA256SUMS"), []byte(sums), 0o644); err != nil {
		t.Fatal(err)
	}
	// The served file is older than any download: a later request with
	// If-Modified-Since gets 304.
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(g.files, "app.tar"), old, old)
	base := fmt.Sprintf("http://127.0.0.1:%d", g.port)
	dest := filepath.Join(g.dest, "app.tar")
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }

	tests := []struct {
		name       string
		args       string
		seed       string // dest's content before, "" for none
		wantStatus string // ok, changed, failed
		wantFile   string // path to check, "" for dest
		wantBody   string // its content after ("" for absent)
		wantMode   os.FileMode
	}{
		{"new file, mode asked", "url: %s/files/app.tar\ndest: %s\nmode: '0640'", "", "changed", "", payload, 0o640},
		{"exists, 304", "url: %s/files/app.tar\ndest: %s", payload, "ok", "", payload, 0o644},
		{"force: a new download with the same content", "url: %s/files/app.tar\ndest: %s\nforce: true", payload, "ok", "", payload, 0o644},
		{"force replaces other content", "url: %s/files/app.tar\ndest: %s\nforce: true\nbackup: true", "stale\n", "changed", "", payload, 0o644},
		{"checksum matches: no request", "url: %s/files/missing.tar\ndest: %s\nchecksum: sha256:" + sha256Of(payload), payload, "ok", "", payload, 0o644},
		{"wrong checksum", "url: %s/files/app.tar\ndest: %s\nchecksum: sha256:" + sha256Of("nope"), "stale\n", "failed", "", "stale\n", 0o644},
		{"checksum file", "url: %s/files/app.tar\ndest: %s\nchecksum: 'sha256:" + base + "/files/SHA256SUMS'", "stale\n", "changed", "", payload, 0o644},
		{"404", "url: %s/files/gone.tar\ndest: %s", "", "failed", "", "", 0},
		{"directory dest, Content-Disposition", "url: %s/attach\ndest: %s", "", "changed", filepath.Join(g.dest, "report.txt"), "attached\n", 0o644},
		{"basic auth", "url: %s/basic\ndest: %s\nurl_username: deploy\nurl_password: " + g.secret, "", "changed", "", "welcome\n", 0o644},
		{"basic auth, wrong password", "url: %s/basic\ndest: %s\nurl_username: deploy\nurl_password: wrong", "", "failed", "", "", 0},
		{"python3 fallback", "url: %s/files/app.tar\ndest: %s", "", "changed", "", payload, 0o644},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.RemoveAll(g.dest)
			os.MkdirAll(g.dest, 0o755)
			d := dest
			if strings.HasPrefix(tc.name, "directory") {
				d = g.dest
			}
			if tc.seed != "" {
				if err := os.WriteFile(dest, []byte(tc.seed), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			m := newGetURLT(t, fmt.Sprintf(tc.args, base, d))
			if strings.HasPrefix(tc.name, "python3") {
				m.tool = "python3"
			}
			checked, a := g.run(t, m)
			if strings.HasSuffix(tc.name, "304") && checked.Data["status_code"] != 304 {
				t.Errorf("the check got status %v, want 304 (If-Modified-Since)", checked.Data["status_code"])
			}
			status := "ok"
			if a.Failed {
				status = "failed"
			} else if a.Action.Changes() {
				status = "changed"
			}
			if status != tc.wantStatus {
				t.Fatalf("status %s, want %s: %s %+v", status, tc.wantStatus, a.Summary, a.Data)
			}
			if strings.Contains(a.Summary+a.Msg+fmt.Sprint(a.Data), g.secret) {
				t.Errorf("the password is in the result: %s %v", a.Summary, a.Data)
			}
			f := tc.wantFile
			if f == "" {
				f = dest
			}
			if got := read(f); got != tc.wantBody {
				t.Errorf("%s holds %q, want %q", f, got, tc.wantBody)
			}
			if fi, err := os.Stat(f); tc.wantMode != 0 && (err != nil || fi.Mode().Perm() != tc.wantMode) {
				t.Errorf("%s mode %v (%v), want %v", f, fi.Mode().Perm(), err, tc.wantMode)
			}
			if left := leftovers(t, g.dest); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
			if strings.Contains(tc.args, "backup: true") {
				if b, _ := a.Data["backup_file"].(string); b == "" || read(b) != tc.seed {
					t.Errorf("backup %q holds %q, want %q", b, read(b), tc.seed)
				}
			}
		})
	}
}

// TestLabGetURLFailedGet: a GET that fails after a HEAD succeeded (the
// file went away between them) leaves dest and no temporary file.
func TestLabGetURLFailedGet(t *testing.T) {
	g := newGetURLLab(t)
	dest := filepath.Join(g.dest, "app.tar")
	os.WriteFile(dest, []byte("old\n"), 0o644)
	m := newGetURLT(t, fmt.Sprintf("url: http://127.0.0.1:%d/files/gone.tar\ndest: %s\nforce: true", g.port, dest))
	c, err := m.download(context.Background(), g.conn, &getURLState{final: dest})
	if err != nil || !c.Failed || c.Data["status_code"] != 404 {
		t.Fatalf("download: %v %+v, want a failed result with status 404", err, c)
	}
	if b, _ := os.ReadFile(dest); string(b) != "old\n" {
		t.Errorf("dest now holds %q", b)
	}
	if left := leftovers(t, g.dest); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestLabGetURLCheckMode: a dry run downloads nothing and says what would
// be downloaded, under the name the server gives.
func TestLabGetURLCheckMode(t *testing.T) {
	g := newGetURLLab(t)
	m := newGetURLT(t, fmt.Sprintf("url: http://127.0.0.1:%d/attach\ndest: %s", g.port, g.dest))
	c, err := m.Check(context.Background(), g.conn)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(g.dest, "report.txt")
	if !c.Action.Changes() || c.Failed || c.Data["dest"] != want {
		t.Fatalf("check: %+v, want a change to %s", c, want)
	}
	if ents, _ := os.ReadDir(g.dest); len(ents) != 0 {
		t.Errorf("check mode wrote %v", ents)
	}
}
