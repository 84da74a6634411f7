package sshconfig

import (
	"reflect"
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	t.Setenv("TEND_TEST_DIR", "/srv/keys")
	tok := Tokens{Home: "/home/me", HostName: "10.0.0.5", Alias: "web", Port: 2222,
		RemoteUser: "deploy", LocalUser: "me", UID: "1000", LocalHost: "laptop"}
	for _, tc := range []struct{ in, want string }{
		{"~/.ssh/id_web", "/home/me/.ssh/id_web"},
		{"%d/.ssh/%r@%h:%p", "/home/me/.ssh/deploy@10.0.0.5:2222"},
		{"/k/%n-%u-%i-%l", "/k/web-me-1000-laptop"},
		{"/k/100%%", "/k/100%"},
		{"${TEND_TEST_DIR}/%n", "/srv/keys/web"},
		{"/plain", "/plain"},
	} {
		got, err := Expand(tc.in, tok)
		if err != nil || got != tc.want {
			t.Errorf("Expand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"%C", "/x/%", "${TEND_TEST_UNSET_VAR}/k"} {
		if got, err := Expand(bad, tok); err == nil {
			t.Errorf("Expand(%q) = %q, want an error", bad, got)
		}
	}
}

func TestParseJump(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Hop
	}{
		{"", nil},
		{"none", nil},
		{"bastion", []Hop{{Host: "bastion"}}},
		{"ops@bastion:2222", []Hop{{User: "ops", Host: "bastion", Port: 2222}}},
		{"a,b@c:22", []Hop{{Host: "a"}, {User: "b", Host: "c", Port: 22}}},
		{"ssh://u@[2001:db8::1]:2022", []Hop{{User: "u", Host: "2001:db8::1", Port: 2022}}},
		{"[2001:db8::1]", []Hop{{Host: "2001:db8::1"}}},
	} {
		got, err := ParseJump(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseJump(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"a,,b", "@host", "h:0", "h:x", "-oProxyCommand=x", "u@h;id", "-u@h"} {
		if got, err := ParseJump(bad); err == nil {
			t.Errorf("ParseJump(%q) = %+v, want an error", bad, got)
		}
	}
	if s := (Hop{User: "u", Host: "h", Port: 22}).String(); s != "u@h:22" {
		t.Errorf("Hop.String() = %q", s)
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"0": 0, "30": 30 * time.Second, "30s": 30 * time.Second, "2m": 2 * time.Minute,
		"1h30m": 90 * time.Minute, "1M5": time.Minute + 5*time.Second, "1w": 7 * 24 * time.Hour,
	} {
		if got, err := parseTime(in); err != nil || got != want {
			t.Errorf("parseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "s", "1.5", "-1", "10x"} {
		if _, err := parseTime(bad); err == nil {
			t.Errorf("parseTime(%q): no error", bad)
		}
	}
}
