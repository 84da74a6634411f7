package sshconfig

import (
	"os/user"
	"reflect"
	"strings"
	"testing"
	"time"
)

const fleetConfig = `# top of file: applies to every host
Host web
  HostName 10.1.1.1
  Port 2222
  User deploy
  IdentityFile ~/.ssh/web_key
  IdentityFile "/keys/%r@%h"

Host *.prod !db.prod
  User produser
  ProxyJump bastion

Host db?
  Port=5522

Host bastion
  HostName %h.example.com
  User jump

Host *
  User fallback
  IdentityFile ~/.ssh/default
  ServerAliveInterval 1m30s
  ConnectTimeout 7
  StrictHostKeyChecking accept-new
`

func TestSettings(t *testing.T) {
	cfg, err := Parse("fleet", []byte(fleetConfig), nil)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		hostName, user, jump string
		port                 int
		ids                  []string
	}
	for _, tc := range []struct {
		name  string
		addr  string
		also  []string
		want  want
		where string // file:line of User
	}{
		{"exact host", "web", nil, want{"10.1.1.1", "deploy", "", 2222,
			[]string{"~/.ssh/web_key", "/keys/%r@%h", "~/.ssh/default"}}, "fleet:5"},
		{"case-insensitive", "WEB", nil, want{"10.1.1.1", "deploy", "", 2222,
			[]string{"~/.ssh/web_key", "/keys/%r@%h", "~/.ssh/default"}}, "fleet:5"},
		{"wildcard", "api.prod", nil, want{"", "produser", "bastion", 0, []string{"~/.ssh/default"}}, "fleet:10"},
		{"negated pattern excludes", "db.prod", nil, want{"", "fallback", "", 0, []string{"~/.ssh/default"}}, "fleet:21"},
		{"? is exactly one character", "db1", nil, want{"", "fallback", "", 5522, []string{"~/.ssh/default"}}, "fleet:21"},
		{"? does not match two", "db12", nil, want{"", "fallback", "", 0, []string{"~/.ssh/default"}}, "fleet:21"},
		{"? does not match none", "db", nil, want{"", "fallback", "", 0, []string{"~/.ssh/default"}}, "fleet:21"},
		{"%h in HostName", "bastion", nil, want{"bastion.example.com", "jump", "", 0, []string{"~/.ssh/default"}}, "fleet:18"},
		{"unmatched gets Host *", "other", nil, want{"", "fallback", "", 0, []string{"~/.ssh/default"}}, "fleet:21"},
		// The inventory name matches too, but cannot redirect ansible_host.
		{"inventory name matches, HostName not taken", "10.9.9.9", []string{"web"},
			want{"", "deploy", "", 2222, []string{"~/.ssh/web_key", "/keys/%r@%h", "~/.ssh/default"}}, "fleet:5"},
		{"address block gives HostName", "web", []string{"inv-web"},
			want{"10.1.1.1", "deploy", "", 2222, []string{"~/.ssh/web_key", "/keys/%r@%h", "~/.ssh/default"}}, "fleet:5"},
		{"negation by the inventory name", "10.9.9.9", []string{"db.prod"},
			want{"", "fallback", "", 0, []string{"~/.ssh/default"}}, "fleet:21"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := cfg.Settings(tc.addr, tc.also...)
			if err != nil {
				t.Fatal(err)
			}
			got := want{s.HostName, s.User, s.ProxyJump, s.Port, s.IdentityFiles}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
			if s.Where["user"] != tc.where {
				t.Errorf("User found at %q, want %q", s.Where["user"], tc.where)
			}
			if s.ServerAliveInterval != 90*time.Second || !s.HasServerAliveInterval {
				t.Errorf("ServerAliveInterval %v", s.ServerAliveInterval)
			}
			if s.ConnectTimeout != 7*time.Second || s.StrictHostKeyChecking != "accept-new" {
				t.Errorf("ConnectTimeout %v StrictHostKeyChecking %q", s.ConnectTimeout, s.StrictHostKeyChecking)
			}
		})
	}
}

func TestSettingsErrors(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{"Host a\n  Port eighty\n", "cfg:2: bad Port"},
		{"Host a\n  Port 70000\n", "cfg:2: bad Port"},
		{"Host a\n  ConnectTimeout soon\n", "cfg:2: ConnectTimeout"},
		{"Host a\n  IdentitiesOnly maybe\n", "cfg:2: IdentitiesOnly"},
		{"Host a\n  StrictHostKeyChecking sometimes\n", "cfg:2: bad StrictHostKeyChecking"},
		{"Host a\n  ServerAliveCountMax -1\n", "cfg:2: bad ServerAliveCountMax"},
	} {
		cfg, err := Parse("cfg", []byte(tc.conf), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = cfg.Settings("a")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.conf, err, tc.want)
		}
		if _, err := cfg.Settings("b"); err != nil {
			t.Errorf("%q: a host the bad block does not match failed: %v", tc.conf, err)
		}
	}
}

func TestNoneValues(t *testing.T) {
	cfg, err := Parse("cfg", []byte("Host a\n  ProxyJump none\n  ProxyCommand none\n  ServerAliveInterval 0\nHost *\n  ProxyJump j\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cfg.Settings("a")
	if err != nil {
		t.Fatal(err)
	}
	if s.ProxyJump != "" || s.ProxyCommand != "" {
		t.Errorf("none not honoured (first value wins): jump %q command %q", s.ProxyJump, s.ProxyCommand)
	}
	if !s.HasServerAliveInterval || s.ServerAliveInterval != 0 {
		t.Errorf("ServerAliveInterval 0 must be kept as set-to-zero")
	}
}

func TestMatch(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	conf := `Match host a*,b !host ab
  User m1
Match exec "touch /tmp/x"
  User never
Match originalhost c
  User m3
Match localuser ` + me.Username + ` host d
  User m4
Match localuser nobody-such-user host e
  User never
Match all
  Port 2200
`
	var warns []string
	cfg, err := Parse("cfg", []byte(conf), func(s string) { warns = append(warns, s) })
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"abc": "m1", "b": "m1", "ab": "", "x": "", "c": "m3", "d": "m4", "e": ""} {
		s, err := cfg.Settings(name)
		if err != nil {
			t.Fatal(err)
		}
		if s.User != want {
			t.Errorf("%s: User %q, want %q", name, s.User, want)
		}
		if s.Port != 2200 {
			t.Errorf("%s: Match all not applied: port %d", name, s.Port)
		}
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "cfg:3: Match exec is not supported") {
		t.Errorf("warnings %q, want one naming cfg:3 and exec", warns)
	}
}

func TestWildMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*c", "abbbc", true}, {"a*c", "abcd", false},
		{"?", "a", true}, {"?", "", false}, {"??", "a", false}, {"*.prod", "x.prod", true},
		{"*.prod", "prod", false}, {"10.0.0.?", "10.0.0.1", true}, {"10.0.0.?", "10.0.0.12", false},
		{"a.b", "axb", false}, {"*a*b*", "xxaxxbxx", true},
	} {
		if got := wildMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("wildMatch(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}
