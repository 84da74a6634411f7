package sshconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, data string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadDefaultAndNone(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	write(t, filepath.Join(home, ".ssh", "config"), "Host web\n  User fromhome\n")
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := c.Settings("web"); s.User != "fromhome" {
		t.Errorf("~/.ssh/config not read: User %q", s.User)
	}
	c, err = Load(None, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := c.Settings("web"); s.User != "" {
		t.Errorf("-F none read something: User %q", s.User)
	}
	// -F FILE reads only FILE, which must exist.
	other := write(t, filepath.Join(home, "other"), "Host web\n  User fromother\n")
	if c, err = Load(other, nil); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.Settings("web"); s.User != "fromother" {
		t.Errorf("-F file: User %q", s.User)
	}
	if _, err := Load(filepath.Join(home, "missing"), nil); err == nil {
		t.Errorf("a missing -F file is not an error")
	}
	// No ~/.ssh/config at all is fine.
	t.Setenv("HOME", t.TempDir())
	if _, err := Load("", nil); err != nil {
		t.Errorf("missing ~/.ssh/config: %v", err)
	}
}

func TestInclude(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	ssh := filepath.Join(home, ".ssh")
	write(t, filepath.Join(ssh, "conf.d", "10-web.conf"), "Host web\n  User incweb\n  Port 2201\n")
	write(t, filepath.Join(ssh, "conf.d", "20-all.conf"), "Host *\n  User incall\n")
	write(t, filepath.Join(ssh, "prod.conf"), "User inprod\nHost db\n  Port 5432\n")
	main := write(t, filepath.Join(home, "main"), `Include conf.d/*.conf
Host *.prod
  Include ~/.ssh/prod.conf
Host *
  Port 22
`)
	c, err := Load(main, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, user string
		port       int
	}{
		{"web", "incweb", 2201},   // first file of the glob, in name order
		{"other", "incall", 22},   // second file
		{"x.prod", "incall", 22},  // the top-level include came first
		{"db", "incall", 22},      // prod.conf is included only under *.prod
		{"db.prod", "incall", 22}, // ... and its "Host db" does not match db.prod
		{"nothing.else", "incall", 22},
	} {
		s, err := c.Settings(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if s.User != tc.user || s.Port != tc.port {
			t.Errorf("%s: user %q port %d, want %q %d", tc.name, s.User, s.Port, tc.user, tc.port)
		}
	}
	// The conditional include applies when its block matches.
	write(t, filepath.Join(ssh, "cond"), "Host *.prod\n  Include ~/.ssh/prod.conf\nHost *\n  User last\n")
	c, err = Load(filepath.Join(ssh, "cond"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := c.Settings("x.prod"); s.User != "inprod" {
		t.Errorf("include under a matching Host: User %q, want inprod", s.User)
	}
	if s, _ := c.Settings("x.dev"); s.User != "last" {
		t.Errorf("include under a non-matching Host applied: User %q", s.User)
	}
}

func TestIncludeLoopAndErrors(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	loop := write(t, filepath.Join(home, ".ssh", "loop"), "Include loop\n")
	if _, err := Load(loop, nil); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("include loop: %v", err)
	}
	unterminated := write(t, filepath.Join(home, "unterminated"), "Host a\nInclude \"x\n")
	if _, err := Load(unterminated, nil); err == nil || !strings.Contains(err.Error(), "unterminated:2") {
		t.Errorf("unterminated quote: %v, want file:line", err)
	}
}
