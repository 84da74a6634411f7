package modules

import (
	"strings"
	"testing"
)

// TestAuthorizedKeysEdit: the file edits of ansible.posix.authorized_key —
// expected outputs written from what ansible-playbook 2.14 wrote for the
// same input (normalized lines, a trailing space when there is no comment,
// a changed key moved to the end, comments and junk lines kept).
func TestAuthorizedKeysEdit(t *testing.T) {
	const a = "ssh-ed25519 AAAAC3NzaA alice@laptop"
	const b = "ssh-rsa AAAAB3NzaB bob"
	tests := []struct {
		name      string
		before    string
		keys      string
		opts      *string
		present   bool
		exclusive bool
		want      string
		write     bool
	}{
		{"add to empty", "", a, nil, true, false, a + "\n", true},
		{"already there", a + "\n", a, nil, true, false, a + "\n", false},
		{"already there, other spacing", "ssh-ed25519   AAAAC3NzaA   alice@laptop\n", a, nil, true, false, "ssh-ed25519   AAAAC3NzaA   alice@laptop\n", false},
		{"no comment: trailing space", "", "ssh-ed25519 AAAAC3NzaA", nil, true, false, "ssh-ed25519 AAAAC3NzaA \n", true},
		{"append after comments", "# keys\n" + b + "\n", a, nil, true, false, "# keys\n" + b + "\n" + a + "\n", true},
		{"changed comment moves to the end", a + "\n" + b + "\n", "ssh-ed25519 AAAAC3NzaA alice@desk", nil, true, false, b + "\nssh-ed25519 AAAAC3NzaA alice@desk\n", true},
		{"options given", b + "\n", b, strPtr(`no-pty,command="echo hi there"`), true, false, `no-pty,command="echo hi there" ` + b + "\n", true},
		{"same options, other order", `from="10.0.0.1",no-pty ` + b + "\n", b, strPtr(`no-pty,from="10.0.0.1"`), true, false, `from="10.0.0.1",no-pty ` + b + "\n", false},
		{"absent", a + "\n" + b + "\n", b, nil, false, false, a + "\n", true},
		{"absent, not there", a + "\n", b, nil, false, false, a + "\n", false},
		{"absent ignores options", `no-pty ` + b + "\n", b, nil, false, false, "", true},
		{"exclusive", "# c\n" + a + "\n" + b + "\n", b, nil, true, true, b + "\n", true},
		{"several keys", "", a + "\n\n# x\n" + b, nil, true, false, a + "\n" + b + "\n", true},
		{"other lines normalized on write", "ssh-rsa   AAAAB3NzaB   bob\n", a, nil, true, false, b + "\n" + a + "\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ed akEdit
			ed.present, ed.exclusive = tc.present, tc.exclusive
			for _, l := range strings.Split(tc.keys, "\n") {
				if l == "" || strings.HasPrefix(l, "#") {
					continue
				}
				k, ok := parseAKLine(l, len(ed.keys))
				if !ok {
					t.Fatalf("parse %q", l)
				}
				if tc.opts != nil {
					k.opts = parseAKOptions(*tc.opts)
				}
				ed.keys = append(ed.keys, k)
			}
			f := parseAKFile(tc.before)
			write := ed.apply(f)
			if write != tc.write {
				t.Fatalf("write %v, want %v", write, tc.write)
			}
			if !write {
				return
			}
			if got := f.serialize(); got != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func strPtr(s string) *string { return &s }

// TestAuthorizedKeyArgs: bad arguments are refused at parse, positioned.
func TestAuthorizedKeyArgs(t *testing.T) {
	tests := []struct{ src, want string }{
		{"key: ssh-rsa AAAA", "user is required"},
		{"user: root", "key is required"},
		{"user: root\nkey: not-a-key", "play.yml:2:6: authorized_key: key line 1 is not a public key"},
		{"user: root\nkey: ssh-rsa AAAA\nstate: gone", "play.yml:3:8: authorized_key: state must be present or absent"},
		{"user: root\nkey: https://github.com/alice.keys", "not supported"},
		{"user: root\nkey: ssh-rsa AAAA\npath: relative/keys", "must be an absolute path"},
		{"user: root\nkey: ssh-rsa AAAA\nbogus: 1", "bogus"},
	}
	for _, tc := range tests {
		_, err := newAuthorizedKey(Args{Node: argsNode(t, tc.src), File: "play.yml"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.src, err, tc.want)
		}
	}
}

// TestGetURLAndTempfileArgs: bad arguments are refused at parse, positioned.
func TestGetURLAndTempfileArgs(t *testing.T) {
	tests := []struct {
		build     func(Args) (Module, error)
		src, want string
	}{
		{newGetURL, "dest: /tmp/x", "url is required"},
		{newGetURL, "url: ftp://h/x\ndest: /tmp/x", "play.yml:1:6: get_url: url must be http"},
		{newGetURL, "url: http://h/x", "dest is required"},
		{newGetURL, "url: http://h/x\ndest: /tmp/x\nchecksum: abc", "play.yml:3:11: get_url: checksum must be ALGORITHM:DIGEST"},
		{newGetURL, "url: http://h/x\ndest: /tmp/x\nchecksum: crc32:abc", "checksum algorithm \"crc32\""},
		{newGetURL, "url: http://h/x\ndest: /tmp/x\nchecksum: sha256:xyz!", "not hexadecimal"},
		{newGetURL, "url: http://h/x\ndest: /tmp/x\ntimeout: 0", "timeout must be a positive"},
		{newGetURL, "url: http://h/x\ndest: /tmp/x\nmode: rwx", "mode"},
		{newGetURL, "url: http://h/x\ndest: /tmp/x\nurl_password: a\npassword: b", "not both"},
		{newTempfile, "state: link", "play.yml:1:8: tempfile: state must be file or directory"},
		{newTempfile, "prefix: a/b", "cannot hold a slash"},
		{newTempfile, "path: tmp", "must be an absolute path"},
	}
	for _, tc := range tests {
		_, err := tc.build(Args{Node: argsNode(t, tc.src), File: "play.yml"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.src, err, tc.want)
		}
	}
	m := newGetURLT(t, "url: http://h/x\ndest: /tmp/x\nchecksum: 'SHA256:AB\u200bCD'")
	if m.algo != "sha256" || m.sum != "abcd" {
		t.Errorf("checksum parsed as %s:%s, want sha256:abcd", m.algo, m.sum)
	}
	if d, ok := digestFor("app.tar", "aa  other.tar\nbb *app.tar\n"); !ok || d != "bb" {
		t.Errorf("digestFor: %q %v", d, ok)
	}
	if n := dispositionFilename(`attachment; filename="../../etc/passwd"`); n != "passwd" {
		t.Errorf("dispositionFilename kept a directory: %q", n)
	}
}
