package modules

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"

	"tend/internal/lab"
	"tend/runner/transport"
)

// newKeyPair makes an ed25519 key: its authorized_keys line and a private
// key file for transport.
func newKeyPair(t *testing.T, comment string) (string, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(f, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " " + comment, f
}

// TestLabAuthorizedKey: a key added for a user lands in ~user/.ssh/
// authorized_keys (0600, the user's, the directory 0700) beside the key
// already there, the dry run before changed nothing and the check after
// finds nothing left; the real sshd then accepts the new key; removing
// it makes sshd refuse it again.
func TestLabAuthorizedKey(t *testing.T) {
	l := lab.New(t, 1, lab.WithOverlayEtc())
	h := l.Hosts[0]
	h.AddUser(t, lab.User{Name: "deploy"})
	out, _, err := h.Exec(context.Background(), "getent", "passwd", "deploy")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(strings.TrimSpace(out), ":")
	home := f[5]
	keys := filepath.Join(home, ".ssh", "authorized_keys")
	os.Chmod(filepath.Join(home, ".ssh"), 0o755) // manage_dir puts it back to 0700
	before, _ := os.ReadFile(keys)
	cfg := labSSHConfig(l, h, "root")
	conn, err := transport.DialSSH(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	line, priv := newKeyPair(t, "ci@tend")
	login := func() error {
		c := cfg
		c.User, c.KeyFiles = "deploy", []string{priv}
		cn, err := transport.DialSSH(context.Background(), c)
		if err == nil {
			cn.Close()
		}
		return err
	}
	if login() == nil {
		t.Fatal("the new key logs in before it was added: the test proves nothing")
	}
	ctx := context.Background()

	add, err := newAuthorizedKey(Args{Node: argsNode(t, fmt.Sprintf("user: deploy\nkey: %q", line)), File: "play.yml"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := add.Check(ctx, conn)
	if err != nil || !c.Action.Changes() || !strings.Contains(c.Files[0].Diff, "+"+line) {
		t.Fatalf("check: %v %+v", err, c)
	}
	if now, _ := os.ReadFile(keys); string(now) != string(before) {
		t.Fatalf("the dry run changed the file")
	}
	a, err := add.Apply(ctx, conn, c)
	if err != nil || a.Failed {
		t.Fatalf("apply: %v %+v", err, a)
	}
	now, _ := os.ReadFile(keys)
	if want := string(before) + line + "\n"; string(now) != want {
		t.Fatalf("file:\n%s\nwant:\n%s", now, want)
	}
	for p, mode := range map[string]os.FileMode{keys: 0o600, filepath.Dir(keys): 0o700} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != mode || fmt.Sprint(fi.Sys().(*syscall.Stat_t).Uid) != f[2] {
			t.Errorf("%s: %v uid %v (%v), want %v uid %s", p, fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Uid, err, mode, f[2])
		}
	}
	if c, err := add.Check(ctx, conn); err != nil || c.Action.Changes() {
		t.Errorf("check after apply: %v %+v", err, c)
	}
	if err := login(); err != nil {
		t.Fatalf("sshd refuses the added key: %v", err)
	}

	rm, err := newAuthorizedKey(Args{Node: argsNode(t, fmt.Sprintf("user: deploy\nstate: absent\nkey: %q", line)), File: "play.yml"})
	if err != nil {
		t.Fatal(err)
	}
	c, err = rm.Check(ctx, conn)
	if err != nil || !c.Action.Changes() {
		t.Fatalf("check absent: %v %+v", err, c)
	}
	if a, err := rm.Apply(ctx, conn, c); err != nil || a.Failed {
		t.Fatalf("apply absent: %v %+v", err, a)
	}
	if now, _ := os.ReadFile(keys); string(now) != string(before) {
		t.Errorf("after removal:\n%s\nwant:\n%s", now, before)
	}
	if login() == nil {
		t.Errorf("the removed key still logs in")
	}
	nobody, err := newAuthorizedKey(Args{Node: argsNode(t, fmt.Sprintf("user: nobody-here\nkey: %q", line)), File: "play.yml"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nobody.Check(ctx, conn); err == nil || !strings.Contains(err.Error(), "failed to lookup user nobody-here") {
		t.Errorf("an unknown user: %v", err)
	}
}

// TestLabTempfile: a file (0600) and a directory (0700) made under path,
// named prefix + 8 characters + suffix, each run a new one.
func TestLabTempfile(t *testing.T) {
	fl := newFSLab(t)
	dir := fl.sub("tmp")
	tests := []struct {
		args string
		re   string
		mode os.FileMode
		dir  bool
	}{
		{"path: " + dir, `^ansible\.[A-Za-z0-9]{8}$`, 0o600, false},
		{"path: " + dir + "\nstate: directory\nprefix: build-\nsuffix: .d", `^build-[A-Za-z0-9]{8}\.d$`, 0o700, true},
	}
	for _, tc := range tests {
		m, err := newTempfile(Args{Node: argsNode(t, tc.args), File: "play.yml"})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		c, err := m.Check(ctx, fl.conn)
		if err != nil || c.Action.Changes() != true {
			t.Fatalf("check: %v %+v", err, c)
		}
		var seen []string
		for i := 0; i < 2; i++ {
			a, err := m.Apply(ctx, fl.conn, c)
			if err != nil || a.Failed || !a.Action.Changes() {
				t.Fatalf("apply: %v %+v", err, a)
			}
			p, _ := a.Data["path"].(string)
			if filepath.Dir(p) != dir || !regexp.MustCompile(tc.re).MatchString(filepath.Base(p)) {
				t.Errorf("path %q, want %s/%s", p, dir, tc.re)
			}
			fi, err := os.Stat(p)
			if err != nil || fi.Mode().Perm() != tc.mode || fi.IsDir() != tc.dir {
				t.Errorf("%s: %v (%v), want %v dir=%v", p, fi, err, tc.mode, tc.dir)
			}
			seen = append(seen, p)
		}
		if seen[0] == seen[1] {
			t.Errorf("two runs made the same %s", seen[0])
		}
	}
	m, _ := newTempfile(Args{Node: argsNode(t, "path: "+dir+"/missing"), File: "play.yml"})
	c, _ := m.Check(context.Background(), fl.conn)
	if a, err := m.Apply(context.Background(), fl.conn, c); err != nil || !a.Failed {
		t.Errorf("a missing path: %v %+v, want a failed result", err, a)
	}
}
